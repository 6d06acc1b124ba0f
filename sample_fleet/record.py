"""`sample-fleet record`: save the sample lines of a real shim's stream, for `up --recorded FILE`.

The shim's `stream` runs as a session of the device would run it (the
console's launch line, the session environment, cwd = home). Run it while
`sample-fleet up` (without --bare) runs on the same state directory, so that
the samples carry the traffic generator's requests, latencies and drift.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shlex
import signal
from asyncio.subprocess import DEVNULL, PIPE
from pathlib import Path

from edgetui.shim_bundle import build_shim_bundle
from edgetui.shim_client import launch_line
from sample_fleet.demo_install import place_shim
from sample_fleet.device import SimulatedDevice
from sample_fleet.serve_processes import serve_pid, stop_serve_processes

logger = logging.getLogger("sample_fleet")

# Extra time for the first line, because stream may have to start serve first.
_START_GRACE_S = 60.0


class RecordError(RuntimeError):
    """The stream could not be recorded; the message names the cause."""


async def record_stream(device: SimulatedDevice, seconds: float, output: Path) -> int:
    """Write the sample lines that the device's real shim streams during `seconds` to `output`; return their count.

    A model server that the stream had to start is stopped again afterwards.
    Raises RecordError when the shim prints no sample in that time.
    """
    bundle = build_shim_bundle()
    place_shim(device, bundle)
    server_before = serve_pid(device)
    line = launch_line(bundle.sha256, "stream") + " " + shlex.join(["--home", str(device.home)])
    child = await asyncio.create_subprocess_exec(
        "/bin/sh", "-c", line, stdin=PIPE, stdout=PIPE, stderr=DEVNULL,
        env=device.session_environment(), cwd=device.home, start_new_session=True,
    )
    logger.info("%s: recording the shim's stream for %g s into %s", device.name, seconds, output)
    samples: list[str] = []
    try:
        await asyncio.wait_for(_read_samples(child.stdout, samples, seconds), seconds + _START_GRACE_S)
    except TimeoutError:
        pass
    finally:
        # Closing stdin ends the stream command, as a console closing its channel does.
        child.stdin.close()
        try:
            await asyncio.wait_for(child.wait(), 10)
        except TimeoutError:
            os.killpg(child.pid, signal.SIGKILL)
            await child.wait()
    if server_before is None:
        await stop_serve_processes([device])
    if not samples:
        raise RecordError(f"{device.name}: the shim's stream printed no sample line in {seconds:g} s")
    output.write_text("".join(line + "\n" for line in samples), encoding="utf-8")
    logger.info("%s: recorded %d samples into %s", device.name, len(samples), output)
    return len(samples)


async def _read_samples(stdout: asyncio.StreamReader, samples: list[str], seconds: float) -> None:
    """Collect the sample lines made during `seconds` after the hello line; the replay of older ones is skipped."""
    loop = asyncio.get_running_loop()
    deadline = None
    started_ts = None
    while deadline is None or loop.time() < deadline:
        timeout = None if deadline is None else max(0.0, deadline - loop.time())
        try:
            raw = await asyncio.wait_for(stdout.readline(), timeout)
        except TimeoutError:
            return
        if not raw:
            return
        try:
            item = json.loads(raw)
        except ValueError:
            logger.warning("skipping a line of the stream that is not JSON: %r", raw[:200])
            continue
        if not isinstance(item, dict):
            continue
        if item.get("type") == "hello" and deadline is None:
            deadline = loop.time() + seconds
            started_ts = item.get("device_ts")
        elif item.get("type") == "sample" and _is_number(started_ts) and _is_number(item.get("ts")):
            # Whole-second sampler ticks may carry a ts just before the hello's device_ts.
            if item["ts"] >= started_ts - 1:
                samples.append(raw.decode().strip())


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
