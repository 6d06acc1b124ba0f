"""Collector against a scripted stream emitter: a real python3 process on a simulated device, over real SSH.

The emitter (telemetry_emitter.py) keeps a real spool file on the device and
replays it from --after, as the shim's stream does, so these tests cover
reconnects, replays and bad lines without depending on the shim's serve.
"""

from __future__ import annotations

import logging
import threading

import pytest

from collect_helpers import emitter_command, wait_until
from edgetui.telemetry.collector import Collector

# Short delays keep the tests fast; the production defaults are 0.5 s to 30 s.
FAST = {"backoff": (0.05, 0.5), "idle_timeout": 5.0, "flush_interval": 0.1, "alert_interval": 0.5}


def stored_seqs(rig, name: str) -> list[int]:
    return [row["seq"] for row in rig.store.samples(name, 0)]


async def test_cut_stream_resumes_exactly_once(rig, caplog):
    caplog.set_level(logging.WARNING, logger="edgetui.telemetry.collector")
    device = rig.devices[0]
    collector = Collector(rig.store, rig.pool, rig.shim, [device], **FAST,
                          command_factory=emitter_command("--total", "40", "--cut-after", "15"))
    await collector.start()
    try:
        done = await wait_until(lambda: rig.store.last_seq(device.name, "feedc0de00000001") == 40)
    finally:
        await collector.stop()
    state = collector.status(device.name)

    assert done
    assert stored_seqs(rig, device.name) == list(range(1, 41))
    assert state.reconnects >= 1
    assert state.samples == 40
    # The replay starts after the last complete line, so nothing arrives twice and the cut line is not garbage.
    assert state.duplicates == 0
    assert state.garbage == 0
    assert any("exited with status 1" in record.getMessage() for record in caplog.records)


async def test_restart_resumes_after_stored_seq(rig):
    device = rig.devices[0]
    factory = emitter_command("--total", "10")
    first = Collector(rig.store, rig.pool, rig.shim, [device], **FAST, command_factory=factory)
    await first.start()
    await wait_until(lambda: rig.store.last_seq(device.name, "feedc0de00000001") == 10)
    await first.stop()

    requested = []

    def recording(device, after, stream_id):
        requested.append((after, stream_id))
        return emitter_command("--total", "20")(device, after, stream_id)

    second = Collector(rig.store, rig.pool, rig.shim, [device], **FAST, command_factory=recording)
    await second.start()
    try:
        done = await wait_until(lambda: rig.store.last_seq(device.name, "feedc0de00000001") == 20)
    finally:
        await second.stop()

    assert done
    assert requested[0] == (10, "feedc0de00000001")
    assert stored_seqs(rig, device.name) == list(range(1, 21))
    assert second.status(device.name).samples == 10
    assert second.status(device.name).duplicates == 0


async def test_repeated_lines_stored_once(rig):
    device = rig.devices[0]
    collector = Collector(rig.store, rig.pool, rig.shim, [device], **FAST,
                          command_factory=emitter_command("--total", "20", "--duplicate-every", "4"))
    await collector.start()
    try:
        done = await wait_until(lambda: rig.store.last_seq(device.name, "feedc0de00000001") == 20)
    finally:
        await collector.stop()
    state = collector.status(device.name)

    assert done
    assert stored_seqs(rig, device.name) == list(range(1, 21))
    assert state.duplicates == 5
    assert state.samples == 20


async def test_garbage_lines_counted_and_skipped(rig, caplog):
    caplog.set_level(logging.WARNING, logger="edgetui.telemetry.collector")
    device = rig.devices[0]
    collector = Collector(rig.store, rig.pool, rig.shim, [device], **FAST,
                          command_factory=emitter_command("--total", "20", "--garbage-every", "5"))
    await collector.start()
    try:
        done = await wait_until(lambda: rig.store.last_seq(device.name, "feedc0de00000001") == 20)
        flushed = await wait_until(lambda: (rig.store.streams(device.name) or [{}])[0].get("garbage") == 4)
    finally:
        await collector.stop()
    state = collector.status(device.name)
    warnings = [record.getMessage() for record in caplog.records if "not telemetry" in record.getMessage()]

    assert done
    assert flushed
    assert state.garbage == 4
    assert state.state == "streaming"
    assert stored_seqs(rig, device.name) == list(range(1, 21))
    assert len(warnings) == 4
    assert all(device.name in message for message in warnings)
    assert "Traceback (most recent call last): not telemetry 5" in warnings[0]


async def test_clock_skew_from_hello_applied(rig):
    device = rig.devices[0]
    collector = Collector(rig.store, rig.pool, rig.shim, [device], **FAST,
                          command_factory=emitter_command("--total", "5", "--skew", "3600"))
    await collector.start()
    try:
        done = await wait_until(lambda: rig.store.last_seq(device.name, "feedc0de00000001") == 5)
    finally:
        await collector.stop()
    rows = rig.store.samples(device.name, 0)
    offset = collector.status(device.name).clock_offset_s

    assert done
    assert offset is not None
    # The device clock runs an hour ahead; the link itself adds well under a minute.
    assert -3660 < offset < -3540
    assert len(rows) == 5
    for row in rows:
        assert row["device_ts"] - row["ts"] == pytest.approx(-offset)
        assert abs(row["received_at"] - row["ts"]) < 60


async def test_vanished_device_goes_offline_and_returns(rig, caplog):
    caplog.set_level(logging.WARNING, logger="edgetui.telemetry.collector")
    device = rig.devices[0]
    states = []
    threads = set()

    def on_state(name, link_state):
        states.append(link_state.state)
        threads.add(threading.get_ident())

    collector = Collector(rig.store, rig.pool, rig.shim, [device], **FAST, on_state=on_state,
                          command_factory=emitter_command("--total", "100000", "--interval", "0.1"))
    await collector.start()
    try:
        streaming = await wait_until(lambda: collector.status(device.name).samples >= 3)
        await rig.relays[device.name].cut()
        offline = await wait_until(lambda: collector.status(device.name).state == "offline")
        retried = await wait_until(lambda: collector.status(device.name).reconnects >= 3)
        seen_before = collector.status(device.name).samples
        await rig.relays[device.name].restore()
        back = await wait_until(lambda: collector.status(device.name).state == "streaming"
                                and collector.status(device.name).samples > seen_before + 3)
    finally:
        await collector.stop()
    seqs = stored_seqs(rig, device.name)
    retries = [record.getMessage() for record in caplog.records if "Reconnect" in record.getMessage()]

    assert streaming
    assert offline
    assert retried
    assert back
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(retries) >= 3
    assert all(device.name in message for message in retries)
    assert "offline" in states
    assert threads == {threading.get_ident()}


async def test_shim_error_reply_sets_error_state(rig):
    device = rig.devices[0]
    reply = '{"ok": false, "code": "serve_start_failed", "error": "no free port"}'
    collector = Collector(rig.store, rig.pool, rig.shim, [device], **FAST,
                          command_factory=lambda *_: f"echo '{reply}'")
    await collector.start()
    try:
        failed = await wait_until(lambda: collector.status(device.name).state == "error")
    finally:
        await collector.stop()
    state = collector.status(device.name)

    assert failed
    assert "serve_start_failed: no free port" in state.last_error


async def test_every_device_streams_and_samples_reach_callback(rig):
    received = {}

    def on_sample(name, sample):
        received.setdefault(name, []).append(sample.seq)

    collector = Collector(rig.store, rig.pool, rig.shim, rig.devices, **FAST, on_sample=on_sample,
                          command_factory=emitter_command("--total", "8"))
    await collector.start()
    try:
        done = await wait_until(lambda: all(len(received.get(device.name, [])) == 8 for device in rig.devices))
    finally:
        await collector.stop()

    assert done
    for device in rig.devices:
        assert received[device.name] == list(range(1, 9))
        assert stored_seqs(rig, device.name) == list(range(1, 9))
