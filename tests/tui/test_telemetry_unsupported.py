"""A device without python3 (the openwrt-busybox profile) over real SSH: the collector marks it unsupported."""

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from edgetui.service import Fleet
from edgetui.telemetry import TelemetryStore
from edgetui.telemetry.collector import Collector
from edgetui.tui.telemetry_feed import unsupported_reason
from edgetui.tui.widgets.telemetry_section import empty_message
from sample_fleet import SampleFleet
from sample_fleet.profiles import BUNDLED_PROFILES_DIR

BUSYBOX = BUNDLED_PROFILES_DIR / "openwrt-busybox"

WAIT_POLLS = 400
"""Polls of 0.05 s before a wait gives up."""


async def wait_until(condition) -> bool:
    """Poll ``condition`` a bounded number of times; return its last value."""
    for _ in range(WAIT_POLLS):
        if condition():
            return True
        await asyncio.sleep(0.05)
    return bool(condition())


@pytest.fixture
async def busybox_fleet(isolated_dirs: Path, tmp_path: Path) -> AsyncIterator[Fleet]:
    """Return a Fleet with one simulated openwrt-busybox device, which has no python3."""
    async with SampleFleet(tmp_path / "sample", devices=1, profiles=[BUSYBOX]) as sample:
        fleet = Fleet.open(isolated_dirs / "fleet.db", connect_timeout=5.0)
        fleet.import_inventory(sample.inventory_path)
        try:
            yield fleet
        finally:
            await fleet.aclose()


async def test_collector_marks_python_missing_unsupported(busybox_fleet: Fleet, caplog):
    caplog.set_level(logging.DEBUG, logger="edgetui.telemetry.collector")
    devices = busybox_fleet.devices()
    name = devices[0].name
    states = []
    store = TelemetryStore(busybox_fleet.store.path)
    collector = Collector(store, busybox_fleet.pool, busybox_fleet.shim, devices,
                          on_state=lambda _device, state: states.append(state.state),
                          unsupported_retry=0.2, flush_interval=0.1)
    await collector.start()
    try:
        unsupported = await wait_until(lambda: collector.status(name).state == "unsupported")
        # Let a few of the short retries run, to check that each is quiet.
        retried = await wait_until(lambda: sum("still has no python3" in record.getMessage()
                                               for record in caplog.records) >= 2)
        state = collector.status(name)
    finally:
        await collector.stop()
        store.close()

    assert unsupported
    assert retried
    assert "python3" in (state.last_error or "")
    assert state.reconnects == 0
    assert unsupported_reason(state) == state.last_error
    infos = [record for record in caplog.records
             if record.levelno == logging.INFO and "cannot stream telemetry" in record.getMessage()]
    assert len(infos) == 1
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]
    # The retries keep the state, so the TUI does not flicker between connecting and unsupported.
    assert states.count("unsupported") == 1
    assert str(empty_message(name, state, collecting=True)).startswith("No telemetry: python3 missing on the device.")
