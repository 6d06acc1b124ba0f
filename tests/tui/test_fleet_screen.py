"""The fleet screen lists the store's devices, filters them and opens the device screen."""

import pytest
from textual.widgets import Footer, Input, Static
from textual.widgets._footer import FooterKey

from edgetui.domain import HardwareFacts
from edgetui.settings import Settings
from edgetui.tui.app import EdgetuiApp, create_app
from edgetui.tui.messages import DiscoveryFinished, DiscoveryStarted
from edgetui.tui.rows import DeviceRow
from edgetui.tui.widgets import fleet_table
from tui.fleet_data import fixed_clock
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
        # Accelerators decide where a model runs, so they outlast memory and cores.
        assert "accelerators" in keys
        assert "memory" not in keys
        assert cell(table, "jetson-nano", "accelerators") == "nvidia gpu"
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


def simulate(app: EdgetuiApp, names: list[str]) -> None:
    """Tag ``names`` as the sample fleet tags the devices it simulates."""
    for name in names:
        device = app.fleet.device(name)
        app.fleet.store.upsert_device(device.model_copy(update={"tags": {"profile": "rpi4-aarch64", "simulated": "true"}}))


async def test_device_screen_simulated_note(app: EdgetuiApp):
    simulate(app, ["rpi4-aarch64"])
    async with app.run_test(size=(100, 40)) as pilot:
        app.action_open_device("rpi4-aarch64")
        await pilot.pause()
        note = app.screen.query_one("#simulated-note", Static)
        assert note.display
        text = str(note.render())
        assert "python, onnxruntime and disk free" in text
        assert "captures of a real board" in text
        assert "rpi4-aarch64 profile" in text
        # The host's values stay visible next to the note.
        facts = str(app.screen.query_one("#facts", Static).render())
        assert "3.11.2" in facts


async def test_device_screen_real_device_no_note(app: EdgetuiApp):
    async with app.run_test(size=(100, 40)) as pilot:
        app.action_open_device("rpi4-aarch64")
        await pilot.pause()
        assert not app.screen.query_one("#simulated-note", Static).display


async def test_summary_simulated_only_when_all(app: EdgetuiApp):
    names = [device.name for device in app.fleet.devices()]
    simulate(app, names[:-1])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "simulated" not in str(app.screen.query_one(FleetSummary).render())

    simulate(app, names[-1:])
    # An App runs once, so the second look takes a new one on the same fleet.
    second = create_app(app.fleet, Settings(), clock=fixed_clock)
    async with second.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        summary = str(second.screen.query_one(FleetSummary).render())
        assert summary.startswith("edgetui simulated")
        assert "6 total" in summary


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("foo=bar", "No device matches 'foo=bar'. 'foo' is not a filter key."),
        ("nothing-like-this", "No device matches 'nothing-like-this'."),
        ("board=orin", "No device matches 'board=orin'."),
    ],
)
async def test_filter_without_match_explains(app: EdgetuiApp, query: str, expected: str):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("slash", *query)
        await pilot.pause()
        table = app.screen.query_one(FleetTable)
        assert table.row_count == 0
        message = app.screen.query_one("#filter-message", Static)
        assert message.display
        text = str(message.render())
        assert text.startswith(expected)
        if query.startswith("foo"):
            for key in ("name", "status", "board", "arch", "os", "accelerators"):
                assert key in text
        else:
            assert "not a filter key" not in text

        await pilot.press("escape")
        await pilot.pause()
        assert not message.display
        assert table.row_count == 6


async def test_filter_by_accelerator(app: EdgetuiApp):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("slash", *"accelerators=tpu")
        await pilot.pause()
        assert app.screen.query_one(FleetTable).visible_names == ["coral-devboard"]
        assert not app.screen.query_one("#filter-message", Static).display


@pytest.mark.parametrize(("key", "row"), [("end", 5), ("home", 0), ("pagedown", 5), ("pageup", 0)])
async def test_list_keys_move_cursor(app: EdgetuiApp, key: str, row: int):
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one(FleetTable)
        table.move_cursor(row=2)
        await pilot.press(key)
        await pilot.pause()
        assert table.cursor_row == row


async def test_footer_fits_80_columns(app: EdgetuiApp):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        footer = app.screen.query_one(Footer)
        keys = {item.description: item for item in footer.query(FooterKey)}
        for description in ("Discover", "Filter", "Models", "Help", "Quit"):
            assert description in keys
            region = keys[description].region
            assert region.right <= 80, description
            assert region.width > 0, description
        # The keys of the bar and the palette key at the right must not overlap.
        palette = next(item for item in footer.query(FooterKey) if item.has_class("-command-palette"))
        assert keys["Quit"].region.right <= palette.region.x


async def test_columns_still_during_discovery(app: EdgetuiApp, monkeypatch):
    # No timer fires within the test, so only the end of discovery may rebuild.
    monkeypatch.setattr(fleet_table, "LIVE_RELAYOUT_SECONDS", 3600.0)
    async with app.run_test(size=(120, 40)) as pilot:
        # Only new-device is shown, so its facts alone size the board column.
        await pilot.press("slash", *"status=unknown", "enter")
        await pilot.pause()
        table = app.screen.query_one(FleetTable)
        before = {key.value: column.width for key, column in table.columns.items()}
        app.screen.post_message(DiscoveryStarted(None))
        await pilot.pause()
        row = table.device_rows["new-device"]
        for board in ("Board A", "A Longer Board Name"):
            table.update_row(DeviceRow(row.device, HardwareFacts(board=board, arch="riscv64")))
            await pilot.pause()
            await pilot.pause()
            assert {key.value: column.width for key, column in table.columns.items()} == before

        app.screen.post_message(DiscoveryFinished([]))
        await pilot.pause()
        await pilot.pause()
        after = {key.value: column.width for key, column in table.columns.items()}
        assert after["board"] > before["board"]
