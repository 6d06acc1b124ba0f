"""Collector against the real device shim on a simulated device: `stream` starts `serve` and samples flow."""

from __future__ import annotations

from collect_helpers import wait_until
from edgetui.telemetry.collector import Collector

FAST = {"backoff": (0.05, 0.5), "flush_interval": 0.1, "alert_interval": 0.5}


async def test_real_stream_stores_increasing_seqs(rig):
    device = rig.devices[0]
    samples = []
    collector = Collector(rig.store, rig.pool, rig.shim, [device], **FAST,
                          on_sample=lambda name, sample: samples.append(sample))
    await collector.start()
    try:
        # serve samples once a second, so three samples take about three seconds after it starts.
        received = await wait_until(lambda: len(samples) >= 3, polls=1200)
        stored = await wait_until(lambda: len(rig.store.samples(device.name, 0)) >= 3)
    finally:
        await collector.stop()
    state = collector.status(device.name)
    rows = rig.store.samples(device.name, 0)
    seqs = [row["seq"] for row in rows]

    assert received, f"no samples; link state {state}"
    assert stored
    assert seqs == sorted(set(seqs))
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert state.stream is not None and len(state.stream) == 16
    assert state.garbage == 0
    assert state.clock_offset_s is not None and abs(state.clock_offset_s) < 60
    assert all(sample.stream == state.stream for sample in samples)
    assert all(row["serving"] is not None for row in rows)


async def test_real_stream_resumes_after_restart(rig):
    device = rig.devices[0]
    first = Collector(rig.store, rig.pool, rig.shim, [device], **FAST)
    await first.start()
    try:
        await wait_until(lambda: first.status(device.name).samples >= 2, polls=1200)
    finally:
        await first.stop()
    before = [row["seq"] for row in rig.store.samples(device.name, 0)]

    second = Collector(rig.store, rig.pool, rig.shim, [device], **FAST)
    await second.start()
    try:
        grew = await wait_until(lambda: len(rig.store.samples(device.name, 0)) >= len(before) + 2, polls=1200)
    finally:
        await second.stop()
    after = [row["seq"] for row in rig.store.samples(device.name, 0)]

    assert before
    assert grew
    # The samples made while no collector ran come from the spool, so the seqs stay contiguous.
    assert after == list(range(after[0], after[0] + len(after)))
    assert second.status(device.name).duplicates == 0


async def test_collect_command_prints_summary(rig, tmp_path, capsys):
    import asyncio
    import json

    from edgetui.cli.main import main
    from edgetui.service import Fleet

    db_path = tmp_path / "cli.db"
    fleet = Fleet.open(db_path)
    fleet.import_inventory(rig.sample.inventory_path)
    name = rig.sample.devices[0].name
    await fleet.shim.call(fleet.device(name), "serve", args=["--detach", "yes"])
    await fleet.aclose()
    spool = rig.home[name] / ".edgetui" / "telemetry" / "spool"
    # serve spools samples while no console reads them; collect then replays them.
    spooled = await wait_until(lambda: spool.is_dir() and any(path.stat().st_size for path in spool.iterdir()),
                               polls=1200)

    status = await asyncio.to_thread(main, ["--db", str(db_path), "collect", name, "--duration", "3", "--json"])
    rows = json.loads(capsys.readouterr().out)

    assert spooled
    assert status == 0
    assert [row["name"] for row in rows] == [name]
    assert rows[0]["samples"] >= 1
    assert rows[0]["garbage"] == 0
