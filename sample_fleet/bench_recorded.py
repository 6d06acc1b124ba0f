"""Measure the sample-fleet process in recorded mode: N devices streaming to one asyncssh client loop.

    .venv/bin/python -m sample_fleet.bench_recorded --recording FILE [--devices 200] [--seconds 60]

Starts `sample-fleet up --recorded FILE` as a child process, opens the shim's
`stream` on every device over SSH (as the console's collector does: one
connection and one long-lived session per device), reads lines for the given
time, then prints the child's CPU time, resident memory and the lines received.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import signal
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import asyncssh

from edgetui.shim_bundle import build_shim_bundle
from edgetui.shim_client import launch_line

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Connections opened at once, so the start-up does not measure a connection storm.
_CONNECT_CONCURRENCY = 20


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def process_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def stream_device(entry: dict, command: str, stop: asyncio.Event, counts: dict, limit: asyncio.Semaphore) -> None:
    async with limit:
        conn = await asyncssh.connect(
            entry["host"], entry["port"], username=entry["user"], client_keys=[entry["key_file"]],
            known_hosts=([asyncssh.import_public_key(entry["host_key"])], [], []), config=[], agent_path=None,
        )
    async with conn:
        process = await conn.create_process(command, encoding=None)
        while not stop.is_set():
            try:
                line = await asyncio.wait_for(process.stdout.readline(), 1.0)
            except TimeoutError:
                continue
            if not line:
                break
            kind = json.loads(line).get("type")
            counts[kind] = counts.get(kind, 0) + 1
        process.stdin.write_eof()


async def run(recording: Path, devices: int, seconds: float) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        state = Path(folder) / "state"
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "sample_fleet", "up", "--devices", str(devices), "--state-dir", str(state),
            "--recorded", str(recording), "--log-level", "WARNING",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            while not (await child.stdout.readline()).startswith(b"inventory:"):
                pass
            entries = tomllib.loads((state / "inventory.toml").read_text())["device"]
            command = launch_line(build_shim_bundle().sha256, "stream") + " " + shlex.join(["--home", "."])
            stop = asyncio.Event()
            counts: dict = {}
            limit = asyncio.Semaphore(_CONNECT_CONCURRENCY)
            tasks = [asyncio.create_task(stream_device(entry, command, stop, counts, limit)) for entry in entries]
            # Measure from the moment every stream is open, so the SSH handshakes are left out.
            while counts.get("hello", 0) < len(entries):
                failed = [task for task in tasks if task.done()]
                if failed:
                    raise RuntimeError(f"a stream ended before all were open: {failed[0].exception()!r}")
                await asyncio.sleep(0.1)
            cpu_start, wall_start, lines_start = process_cpu_seconds(child.pid), time.monotonic(), dict(counts)
            await asyncio.sleep(seconds)
            cpu_used = process_cpu_seconds(child.pid) - cpu_start
            wall = time.monotonic() - wall_start
            rss = process_rss_mb(child.pid)
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            child.send_signal(signal.SIGTERM)
            await child.wait()
    samples = counts.get("sample", 0) - lines_start.get("sample", 0)
    return {
        "devices": devices,
        "seconds": round(wall, 1),
        "fleet_cpu_percent_of_one_core": round(100 * cpu_used / wall, 1),
        "fleet_rss_mb": round(rss, 1),
        "samples_received": samples,
        "samples_per_second": round(samples / wall, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recording", type=Path, required=True, help="JSON lines from `sample-fleet record`")
    parser.add_argument("--devices", type=int, default=200, help="number of devices (default: 200)")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured time, at most 60 (default: 60)")
    args = parser.parse_args()
    result = asyncio.run(run(args.recording, args.devices, min(args.seconds, 60.0)))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
