"""The fleet screen lists the store's devices, filters them and opens the device screen."""

import pytest
from textual.widgets import Input, Static

from edgetui.tui.app import EdgetuiApp
from edgetui.tui.screens.device import DeviceScreen
from edgetui.tui.widgets.fleet_summary import FleetSummary
from edgetui.tui.widgets.fleet_table import FleetTable

SIZES = [(80, 24), (120, 40)]


def cell(table: FleetTable, name: str, column: str) -> str:
    """Return the plain text of one cell."""
    return str(table.get_cell(name, column))


@pytest.mark.parametrize("size", SIZES)
async def test_table_lists_store_devices(app: EdgetuiApp, size):
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        table = app.screen.query_one(FleetTable)
        assert table.visible_names == [
            "coral-devboard", "imx8-kiosk", "jetson-nano", "new-device", "nuc-gateway", "rpi4-aarch64",
        ]
        assert cell(table, "rpi4-aarch64", "status") == "online"
        assert cell(table, "rpi4-aarch64", "last_seen") == "12s ago"
        assert cell(table, "jetson-nano", "last_seen") == "3h ago"
        assert cell(table, "new-device", "last_seen") == "never"
        assert cell(table, "nuc-gateway", "status").startswith("offline: connection ref")


async def test_wide_table_shows_every_fact_column(app: EdgetuiApp):
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(FleetTable)
        assert cell(table, "rpi4-aarch64", "memory") == "7.6 GiB"
        assert cell(table, "coral-devboard", "memory") == "980 MiB"
        assert cell(table, "jetson-nano", "accelerators") == "nvidia gpu"
        assert cell(table, "nuc-gateway", "cores") == "8"
        assert cell(table, "rpi4-aarch64", "release") == "—"


async def test_narrow_table_keeps_name_and_status(app: EdgetuiApp):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(FleetTable)
        keys = [column.key.value for column in table.ordered_columns]
        assert keys[:2] == ["name", "status"]
        assert "release" not in keys
        assert sum(column.get_render_width(table) for column in table.ordered_columns) <= 80


async def test_summary_counts_statuses(app: EdgetuiApp):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        summary = str(app.screen.query_one(FleetSummary).render())
        assert "3 online" in summary
        assert "1 offline" in summary
        assert "1 error" in summary
        assert "6 total" in summary
        assert "idle" in summary


async def test_filter_by_text_then_escape(app: EdgetuiApp):
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one(FleetTable)
        await pilot.press("slash")
        assert app.focused is app.screen.query_one("#filter", Input)

        await pilot.press(*"jetson")
        await pilot.pause()
        assert table.row_count == 1
        assert table.visible_names == ["jetson-nano"]

        await pilot.press("escape")
        await pilot.pause()
        assert table.row_count == 6
        assert app.screen.query_one("#filter", Input).value == ""
        assert app.focused is table


async def test_filter_by_key_value(app: EdgetuiApp):
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one(FleetTable)
        await pilot.press("slash", *"arch=aarch64")
        await pilot.pause()
        assert table.visible_names == ["coral-devboard", "jetson-nano", "rpi4-aarch64"]

        await pilot.press(*" os=ubuntu")
        await pilot.pause()
        assert table.visible_names == ["jetson-nano"]


async def test_enter_opens_device_screen(app: EdgetuiApp):
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(FleetTable)
        table.move_cursor(row=table.get_row_index("rpi4-aarch64"))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DeviceScreen)

        facts = str(app.screen.query_one("#facts", Static).render())
        assert "Raspberry Pi 4 Model B Rev 1.4" in facts
        assert "6.1.21-v8+" in facts
        assert "CPUExecutionProvider" in facts
        assert "cpu-thermal 48.7 °C" in facts
        assert "docker 24.0.5 (daemon running)" in facts

        changes = str(app.screen.query_one("#changes", Static).render())
        assert "mem_total_mb" in changes
        assert "3794 -> 7812" in changes

        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.query_one(FleetTable) is table


async def test_device_screen_full_reason(app: EdgetuiApp):
    async with app.run_test(size=(80, 24)) as pilot:
        app.action_open_device("imx8-kiosk")
        await pilot.pause()
        status = str(app.screen.query_one("#status", Static).render())
        assert "shim reply was not valid JSON: Expecting value: line 1 column 1 (char 0)" in status
        facts = str(app.screen.query_one("#facts", Static).render())
        assert "No successful discovery yet" in facts


async def test_device_screen_lists_events(app: EdgetuiApp):
    app.fleet.store.record_event("discover", "jetson-nano", ok=False, message="connection timed out")
    async with app.run_test(size=(120, 40)) as pilot:
        app.action_open_device("jetson-nano")
        await pilot.pause()
        events = str(app.screen.query_one("#events", Static).render())
        assert "connection timed out" in events
        assert "fail" in events


async def test_space_marks_rows(app: EdgetuiApp):
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one(FleetTable)
        await pilot.press("space", "down", "space", "down", "space", "up", "space")
        assert table.marked == {"coral-devboard", "jetson-nano"}
        assert cell(table, "coral-devboard", "name") == "✓ coral-devboard"
