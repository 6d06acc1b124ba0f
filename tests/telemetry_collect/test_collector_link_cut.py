"""A link cut for many sampling intervals, with the real shim: nothing is lost within the spool's bound.

serve samples every 0.1 s here, so a cut of 150 samples stands for two and a
half minutes of a device sampling at 1 Hz without the test waiting that long.
"""

from __future__ import annotations

import json
import os
import signal

from collect_helpers import wait_until
from edgetui.telemetry.collector import Collector

FAST = {"backoff": (0.05, 0.5), "flush_interval": 0.1, "alert_interval": 0.5}
# 0.1 s is the shortest interval serve accepts; polls are 50 ms apart.
INTERVAL_S = "0.1"
POLLS_PER_SAMPLE = 2


def next_seq(home) -> int:
    """Return the device's next sequence number from its spool state, or 0 before the spool exists."""
    try:
        return json.loads((home / ".edgetui" / "telemetry" / "state.json").read_text())["next_seq"]
    except (OSError, ValueError, KeyError):
        return 0


def stop_serve(home) -> None:
    """Stop the serve process this test started, by the PID it wrote."""
    try:
        pid = int((home / ".edgetui" / "serve.pid").read_text().strip())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


async def start_fast_serve(rig, device, spool_max_samples: int) -> None:
    reply = await rig.shim.call(device, "serve", args=[
        "--detach", "yes", "--interval", INTERVAL_S, "--spool-max-samples", str(spool_max_samples),
    ])
    assert reply["ok"], reply


async def cut_for(rig, device, home, samples: int) -> int:
    """Cut the device's link until serve has spooled ``samples`` more; return the next seq at the restore."""
    relay = rig.relays[device.name]
    await relay.cut()
    start = next_seq(home)
    spooled = await wait_until(lambda: next_seq(home) >= start + samples, polls=samples * POLLS_PER_SAMPLE * 4)
    assert spooled, f"serve spooled only {next_seq(home) - start} of {samples} samples while the link was cut"
    await relay.restore()
    return next_seq(home)


async def collect_through_cut(rig, device, *, spool_max_samples: int, cut_samples: int):
    """Stream from a fast serve, cut the link for ``cut_samples``, restore it and wait until the console caught up.

    Returns (collector, whether it caught up, the stored seqs, the stream's row).
    """
    home = rig.home[device.name]
    await start_fast_serve(rig, device, spool_max_samples)
    collector = Collector(rig.store, rig.pool, rig.shim, [device], **FAST)
    await collector.start()
    try:
        assert await wait_until(lambda: collector.status(device.name).samples >= 5, polls=1200)
        restored_at = await cut_for(rig, device, home, cut_samples)
        caught_up = await wait_until(
            lambda: (rig.store.last_seq(device.name, collector.status(device.name).stream) or 0) >= restored_at,
            polls=1200,
        )
    finally:
        await collector.stop()
        stop_serve(home)
    seqs = [row["seq"] for row in rig.store.samples(device.name, 0)]
    return collector, caught_up, seqs, rig.store.streams(device.name)[0]


async def test_cut_within_spool_bound_loses_nothing(rig):
    device = rig.devices[0]

    collector, caught_up, seqs, stream = await collect_through_cut(rig, device, spool_max_samples=400,
                                                                   cut_samples=150)

    assert caught_up, f"stored up to seq {seqs[-1] if seqs else None} only"
    assert collector.status(device.name).reconnects >= 1
    assert seqs == list(range(seqs[0], seqs[-1] + 1))
    assert stream["dropped_total"] == 0
    assert stream["duplicates"] == 0


async def test_cut_beyond_spool_bound_reports_the_dropped_samples(rig):
    device = rig.devices[1]

    _, caught_up, seqs, stream = await collect_through_cut(rig, device, spool_max_samples=40, cut_samples=120)
    missing = set(range(seqs[0], seqs[-1] + 1)) - set(seqs)

    assert caught_up
    # The spool kept only its bound, so the oldest samples of the cut are gone, and the
    # stream reported how many: every missing seq is counted as dropped, none silently.
    assert missing
    assert stream["dropped_total"] == len(missing)
    assert len(seqs) == len(set(seqs))
