"""The fleet screen: every device in one table, filtered and discovered from the keyboard."""

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.content import Content
from textual.widgets import DataTable, Footer, Input, Static

from edgetui.domain import DeviceStatus
from edgetui.tui.formatting import is_simulated
from edgetui.tui.messages import (
    DeviceDiscovered,
    DeviceDiscoveryStarted,
    DiscoveryFinished,
    DiscoveryStarted,
)
from edgetui.tui.rows import DeviceRow, no_match_message
from edgetui.tui.screens.device import DeviceScreen
from edgetui.tui.widgets.fleet_summary import FleetSummary
from edgetui.tui.widgets.fleet_table import FleetTable

if TYPE_CHECKING:
    from edgetui.tui.app import EdgetuiApp

LAST_SEEN_REFRESH_SECONDS = 10.0
"""Seconds between redraws of the "last seen" column."""


class FleetScreen(Screen):
    """The whole fleet: a summary line, a filter and the device table."""

    BINDINGS = [
        Binding(
            "d",
            "discover",
            "Discover",
            id="fleet.discover",
            tooltip="Discover the marked devices, or the whole fleet when none is marked",
        ),
        Binding(
            "r",
            "rediscover",
            "Rediscover",
            show=False,
            id="fleet.rediscover",
            tooltip="Discover the device under the cursor again",
        ),
        Binding(
            "slash",
            "focus_filter",
            "Filter",
            key_display="/",
            id="fleet.filter",
            tooltip="Filter rows by any text, or by name=, status=, board=, arch=, os= or accelerators=",
        ),
        Binding(
            "m",
            "app.open_models",
            "Models",
            id="fleet.models",
            tooltip="Show the optimized models and their variants, and optimize a model",
        ),
        Binding(
            "escape",
            "clear_filter",
            "Clear filter",
            show=False,
            id="fleet.clear-filter",
            tooltip="Empty the filter and show every device",
        ),
    ]

    CSS_PATH = "fleet.tcss"

    app: "EdgetuiApp"

    def compose(self) -> ComposeResult:
        """Lay out the summary line, the filter, the table and the key hints."""
        yield FleetSummary(id="summary")
        yield Input(
            placeholder="/ filter: text, or arch=aarch64, board=, os=",
            compact=True,
            id="filter",
        )
        yield Static(id="filter-message")
        yield FleetTable(self.app.clock, id="devices")
        yield Footer()

    def on_mount(self) -> None:
        """Load the devices from the store and keep "last seen" current."""
        self.reload()
        self.table.focus()
        self.set_interval(LAST_SEEN_REFRESH_SECONDS, self.table.refresh_times)

    @property
    def table(self) -> FleetTable:
        """The device table."""
        return self.query_one(FleetTable)

    def reload(self) -> None:
        """Read every device and its latest facts from the fleet into the table."""
        fleet = self.app.fleet
        rows = [DeviceRow(device, fleet.latest_facts(device.name)) for device in fleet.devices()]
        self.table.load(rows)
        self._update_counts()

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter the table as the user types."""
        self.apply_filter(event.value)

    def apply_filter(self, query: str) -> None:
        """Show the rows that match ``query``, or explain why none does."""
        self.table.set_filter(query)
        self._update_filter_message()

    def _update_filter_message(self) -> None:
        """Explain an empty table when the filter, not an empty fleet, hides every row."""
        query = self.table.filter_query
        message = self.query_one("#filter-message", Static)
        no_match = bool(query.strip()) and self.table.row_count == 0 and bool(self.table.device_rows)
        message.update(Content(no_match_message(query)) if no_match else "")
        message.set_class(no_match, "-shown")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Return to the table so arrow keys move between the filtered rows."""
        self.table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Open the device screen of the chosen row."""
        self.open_device(event.row_key.value)

    def on_discovery_started(self, message: DiscoveryStarted) -> None:
        """Show that discovery is running, and keep the columns still while results arrive."""
        self.query_one(FleetSummary).discovering = True
        self.table.set_live(True)

    def on_device_discovery_started(self, message: DeviceDiscoveryStarted) -> None:
        """Show the device as "discovering…" until its result arrives."""
        row = self.table.device_rows.get(message.name)
        if row is None:
            return
        device = row.device.model_copy(update={"status": DeviceStatus.DISCOVERING})
        self.table.update_row(DeviceRow(device, row.facts))
        self._update_counts()

    def on_device_discovered(self, message: DeviceDiscovered) -> None:
        """Show the device's new status and facts, as the store now contains them."""
        fleet = self.app.fleet
        device = fleet.device(message.name)
        self.table.update_row(DeviceRow(device, fleet.latest_facts(device.name)))
        self._update_counts()

    def on_discovery_finished(self, message: DiscoveryFinished) -> None:
        """Show that discovery stopped, and fit the columns to what it found."""
        self.query_one(FleetSummary).discovering = False
        self.table.set_live(False)

    def action_discover(self) -> None:
        """Discover the marked devices, or all devices when none is marked."""
        marked = sorted(self.table.marked)
        self.app.start_discovery(marked or None)

    def action_rediscover(self) -> None:
        """Discover the device under the cursor."""
        name = self.table.selected_name
        if name is None:
            self.notify("The fleet has no devices to discover.", severity="warning")
            return
        self.app.start_discovery([name])

    def action_focus_filter(self) -> None:
        """Move the focus to the filter input."""
        self.query_one("#filter", Input).focus()

    def action_clear_filter(self) -> None:
        """Empty the filter and return to the table."""
        self.query_one("#filter", Input).value = ""
        self.apply_filter("")
        self.table.focus()

    def open_device(self, name: str) -> None:
        """Push the device screen of ``name``."""
        self.app.push_screen(DeviceScreen(name))

    def _update_counts(self) -> None:
        """Recount the devices per status for the summary line."""
        devices = [row.device for row in self.table.device_rows.values()]
        summary = self.query_one(FleetSummary)
        summary.set_statuses([device.status for device in devices])
        summary.simulated = bool(devices) and all(is_simulated(device) for device in devices)
        self._update_filter_message()
