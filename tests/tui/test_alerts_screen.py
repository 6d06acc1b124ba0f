"""The alerts screen lists open and resolved alerts, filters to open ones and opens an alert's device."""

from edgetui.service import Fleet
from edgetui.settings import Settings
from edgetui.tui.app import create_app
from edgetui.tui.screens.alerts import AlertsScreen
from edgetui.tui.screens.device import DeviceScreen
from edgetui.tui.screens.fleet import FleetScreen
from tui.fleet_data import fixed_clock
from tui.test_telemetry_data import fill_telemetry


def listed(screen: AlertsScreen) -> list[tuple[str, str]]:
    """Return (state, device) of every row, in table order; state is "open" or "resolved"."""
    table = screen.table
    states = {True: "open", False: "resolved"}
    return [(states[str(table.get_cell(key, "resolved")) == "open"], str(table.get_cell(key, "device")))
            for key in table.rows]


async def open_alerts(pilot) -> AlertsScreen:
    """Wait for the first telemetry read, press a and return the alerts screen."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.press("a")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, AlertsScreen)
    return screen


async def test_alerts_open_and_resolved(fleet: Fleet):
    fill_telemetry(fleet.store.path)
    app = create_app(fleet, Settings(), clock=fixed_clock)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_alerts(pilot)
        rows = listed(screen)
        assert ("resolved", "rpi4-aarch64") in rows
        assert {device for state, device in rows if state == "open"} == {
            "coral-devboard", "jetson-nano", "nuc-gateway"}
        assert not screen.query_one("#alerts-empty").display


async def test_alerts_open_only_filter(fleet: Fleet):
    fill_telemetry(fleet.store.path)
    app = create_app(fleet, Settings(), clock=fixed_clock)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_alerts(pilot)
        await pilot.press("o")
        await pilot.pause()
        assert screen.open_only
        assert [state for state, _ in listed(screen)] == ["open", "open", "open"]

        await pilot.press("o")
        await pilot.pause()
        assert len(listed(screen)) == 4


async def test_alerts_enter_opens_device(fleet: Fleet):
    fill_telemetry(fleet.store.path)
    app = create_app(fleet, Settings(), clock=fixed_clock)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_alerts(pilot)
        await pilot.press("end")
        expected = str(screen.table.get_cell(list(screen.table.rows)[-1], "device"))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DeviceScreen)
        assert app.screen.device_name == expected

        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen


async def test_alerts_key_without_telemetry(app):
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_alerts(pilot)
        assert listed(screen) == []
        assert screen.query_one("#alerts-empty").display
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, FleetScreen)


def test_alerts_help_lists_keys(app):
    listed_ids = {binding.id for _title, group in app.help_sections() for binding in group}
    assert {"app.alerts", "alerts.back", "alerts.open-only", "alerts.device", "device.telemetry-range",
            "device.range-5m", "device.range-1h", "device.range-24h"} <= listed_ids


async def test_alerts_fit_80_columns(fleet: Fleet):
    fill_telemetry(fleet.store.path)
    app = create_app(fleet, Settings(), clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_alerts(pilot)
        columns = {column.key.value: column for column in screen.table.columns.values()}
        # "resolved 1m ago" no longer takes 17 cells; the resolved column holds "1m ago" or "open".
        assert columns["resolved"].width <= len("resolved")
        assert columns["message"].width >= 12


async def test_alerts_detail_shows_whole_message(fleet: Fleet):
    fill_telemetry(fleet.store.path)
    app = create_app(fleet, Settings(), clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_alerts(pilot)
        alert = screen.selected_alert()
        detail = screen.query_one("#alert-detail")
        assert detail.display
        assert alert["message"] in str(detail.render())

        await pilot.press("down")
        await pilot.pause()
        following = screen.selected_alert()
        assert following["id"] != alert["id"]
        assert following["message"] in str(detail.render())


async def test_alerts_value_by_metric(fleet: Fleet):
    fill_telemetry(fleet.store.path)
    app = create_app(fleet, Settings(), clock=fixed_clock)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_alerts(pilot)
        values = {str(screen.table.get_cell(key, "rule")): str(screen.table.get_cell(key, "value"))
                  for key in screen.table.rows}
        assert values["error-rate"] == "20.0%"
        assert values["latency-p95"].endswith(" ms")
        assert values["offline"].endswith(" s")
