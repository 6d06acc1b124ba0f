"""The live telemetry feed: samples reported by on_sample reach the fleet table, and keys keep working meanwhile.

The samples go into the real SQLite file through TelemetryStore, as the
collector's writer would store them; the collector itself is off.
"""

import asyncio

from edgetui.service import Fleet
from edgetui.settings import Settings
from edgetui.telemetry import TelemetryStore
from edgetui.tui.app import create_app
from edgetui.tui.screens.alerts import AlertsScreen
from edgetui.tui.screens.device import DeviceScreen
from edgetui.tui.screens.fleet import FleetScreen
from edgetui.tui.telemetry_format import fit_samples, latency_sparkline
from edgetui.tui.widgets.fleet_table import FleetTable
from tui.fleet_data import fixed_clock
from tui.test_telemetry_data import NOW_TS, sample

REFRESH_S = 0.05
"""Refresh tick of these tests' apps, short so the bounded waits stay short."""

MAX_PAUSES = 400
"""Upper bound on the pauses a test waits for the table to show a change."""


def p95_cell(table: FleetTable, latencies: list[float]) -> str:
    """Return the p95 cell that ``latencies`` should draw, fitted to the narrower sparkline column as the table does."""
    width = table.columns["p95"].width
    cells = min(width, table.columns["error_rate"].width)
    return latency_sparkline(fit_samples(latencies, cells)).rjust(width)


async def wait_for_sparkline(pilot, name: str, latencies: list[float]) -> tuple[str, str]:
    """Pause until the p95 cell draws ``latencies`` or MAX_PAUSES pauses passed; return (shown, expected)."""
    table = pilot.app.screen.query_one(FleetTable)
    text, expected = "", None
    for _ in range(MAX_PAUSES):
        if "p95" in table.columns:
            expected = p95_cell(table, latencies)
            text = str(table.get_cell(name, "p95"))
            if text == expected:
                break
        await pilot.pause(REFRESH_S)
    return text, expected


async def test_samples_update_sparkline(fleet: Fleet):
    app = create_app(fleet, Settings(), clock=fixed_clock, telemetry_refresh_s=REFRESH_S)
    store = TelemetryStore(fleet.store.path)
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            table = app.screen.query_one(FleetTable)
            assert "p95" not in table.columns

            latencies = [4.0, 6.0, 9.0, 5.0, 30.0, 7.0]
            for seq, p95 in enumerate(latencies, start=1):
                new = sample(seq, NOW_TS - 10 + seq, p95=p95)
                store.ingest("rpi4-aarch64", [new], NOW_TS, 0.0)
                app.telemetry.on_sample("rpi4-aarch64", new)

            shown, expected = await wait_for_sparkline(pilot, "rpi4-aarch64", latencies)
            assert shown == expected
            # The 30 ms spike is the row's max, so its group draws a full block whatever the width.
            assert "█" in shown
            assert str(table.get_cell("jetson-nano", "p95")).strip() == ""
    finally:
        store.close()


async def test_sample_reported_before_stored(fleet: Fleet):
    """The collector reports a sample before its writer commits it; the feed reads the device until it is stored."""
    app = create_app(fleet, Settings(), clock=fixed_clock, telemetry_refresh_s=REFRESH_S)
    store = TelemetryStore(fleet.store.path)
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            first = sample(1, NOW_TS - 2, p95=5.0)
            store.ingest("jetson-nano", [first], NOW_TS, 0.0)
            app.telemetry.on_sample("jetson-nano", first)
            shown, _expected = await wait_for_sparkline(pilot, "jetson-nano", [5.0])
            assert shown.strip() == "█"

            second = sample(2, NOW_TS - 1, p95=50.0)
            app.telemetry.on_sample("jetson-nano", second)
            # Several ticks pass before the writer stores the sample.
            for _ in range(5):
                await pilot.pause(REFRESH_S)
            store.ingest("jetson-nano", [second], NOW_TS, 0.0)

            shown, expected = await wait_for_sparkline(pilot, "jetson-nano", [5.0, 50.0])
            assert shown == expected
    finally:
        store.close()


async def test_keys_work_while_samples_arrive(fleet: Fleet):
    app = create_app(fleet, Settings(), clock=fixed_clock, telemetry_refresh_s=REFRESH_S)
    store = TelemetryStore(fleet.store.path)
    names = ["coral-devboard", "jetson-nano", "rpi4-aarch64"]

    async def feed_samples() -> None:
        # Bounded: 3 devices x 300 samples, stored in batches of one, as fast as the loop allows.
        for seq in range(1, 301):
            for name in names:
                new = sample(seq, NOW_TS - 400 + seq, p95=5.0 + seq % 13)
                store.ingest(name, [new], NOW_TS, 0.0)
                app.telemetry.on_sample(name, new)
            await asyncio.sleep(0)

    try:
        async with app.run_test(size=(100, 40)) as pilot:
            feeder = asyncio.create_task(feed_samples())
            await pilot.press(*["down"] * 5, "enter")
            await pilot.pause()
            assert isinstance(app.screen, DeviceScreen)
            assert app.screen.device_name == "rpi4-aarch64"

            await pilot.press("t")
            assert app.screen.time_range.key == "1h"
            await pilot.press("escape", "a")
            await pilot.pause()
            assert isinstance(app.screen, AlertsScreen)
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, FleetScreen)

            await feeder
            shown, expected = await wait_for_sparkline(pilot, "rpi4-aarch64", [5.0 + seq % 13 for seq in range(271, 301)])
            assert shown == expected
    finally:
        store.close()


async def test_default_app_starts_no_collector(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.telemetry.collect is False
        assert app.telemetry.collector is None
        assert app.telemetry.active is False
