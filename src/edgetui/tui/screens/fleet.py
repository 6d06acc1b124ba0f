"""The fleet screen: every device in one table, filtered, discovered, deployed to and rolled back from the keyboard."""

import asyncio
from functools import partial
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.content import Content
from textual.widgets import DataTable, Footer, Input, Static
from textual.worker import Worker, WorkerState

from edgetui.domain import DeviceStatus
from edgetui.errors import EdgetuiError
from edgetui.tui.formatting import is_simulated
from edgetui.tui.messages import (
    DeviceDiscovered,
    DeviceDiscoveryStarted,
    DiscoveryFinished,
    DiscoveryStarted,
    ReconcileFinished,
    RollbackFinished,
    RollbackPlanned,
    TelemetryUpdated,
)
from edgetui.tui.rollback_plan import RollbackTarget, plan_rollback
from edgetui.tui.rows import DeviceRow, no_match_message
from edgetui.tui.telemetry_format import ALERT_MARKERS, SPARKLINE_SAMPLES
from edgetui.tui.screens.device import DeviceScreen
from edgetui.tui.screens.rollback_confirm import RollbackConfirmScreen
from edgetui.tui.widgets.fleet_summary import FleetSummary
from edgetui.tui.widgets.fleet_table import FleetTable

if TYPE_CHECKING:
    from edgetui.tui.app import EdgetuiApp

LAST_SEEN_REFRESH_SECONDS = 10.0
"""Seconds between redraws of the "last seen" column."""

ROLLBACK_GROUP = "rollback"
"""Worker group of rollbacks, from reading the releases to the last device's result."""


class FleetScreen(Screen):
    """The whole fleet: a summary line, a filter and the device table."""

    # Whether the legend and footer already match the telemetry state.
    _telemetry_chrome_set = False

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
            "D,u",
            "app.open_deploy",
            "Deploy",
            key_display="u",
            # Hidden from the footer like R, because both no longer fit at 80 columns; help and the palette list them.
            show=False,
            id="fleet.deploy",
            tooltip="Open the Deploy screen with the marked devices as targets",
        ),
        Binding(
            "R",
            "rollback",
            "Roll back",
            key_display="R",
            id="fleet.rollback",
            show=False,
            tooltip="Roll the marked devices, or the one under the cursor, back after a confirmation",
        ),
        Binding(
            "a",
            "open_alerts",
            "Alerts",
            id="fleet.alerts",
            tooltip="List open and recently resolved telemetry alerts; shown here once the fleet has telemetry",
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
        yield Static(telemetry_legend(), id="telemetry-legend")
        yield Footer()

    def on_mount(self) -> None:
        """Load the devices from the store and keep "last seen" current."""
        self.reload()
        self.table.focus()
        self.set_interval(LAST_SEEN_REFRESH_SECONDS, self.table.refresh_times)
        self._show_telemetry(frozenset())

    def on_telemetry_updated(self, message: TelemetryUpdated) -> None:
        """Redraw the sparklines and alert markers of the devices that the telemetry feed read again."""
        self._show_telemetry(message.names)

    def _show_telemetry(self, names: frozenset[str]) -> None:
        """Show the telemetry columns, the legend and the Alerts key once the fleet has telemetry."""
        feed = self.app.telemetry
        shown_before = self.table.telemetry_shown
        self.table.set_telemetry(feed.devices, names, feed.active, feed.last_sample_at)
        if feed.active == shown_before and self._telemetry_chrome_set:
            # refresh_bindings rebuilds the footer, too costly to repeat on every update.
            return
        self._telemetry_chrome_set = True
        self.query_one("#telemetry-legend", Static).set_class(feed.active, "-shown")
        # The Alerts key makes the footer one key longer than 80 columns; the compact style fits it.
        self.query_one(Footer).compact = feed.active
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Show the Alerts key in the footer only once the fleet has telemetry.

        Without telemetry the key still works through the app's own binding,
        but the footer at 80 columns has no room for it.
        """
        if action == "open_alerts":
            return self.app.telemetry.active
        return True

    def action_open_alerts(self) -> None:
        """Open the alerts screen."""
        self.app.action_open_alerts()

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

    def selected_names(self) -> list[str]:
        """Return the marked devices, or the device under the cursor when none is marked."""
        return sorted(self.table.marked) or ([self.table.selected_name] if self.table.selected_name else [])

    @property
    def rollback_running(self) -> bool:
        """Whether a rollback worker is pending or running."""
        return any(worker.group == ROLLBACK_GROUP and not worker.is_finished for worker in self.workers)

    def action_rollback(self) -> None:
        """Read the selected devices' releases, then ask before rolling them back."""
        names = self.selected_names()
        if not names:
            self.notify("The fleet has no devices to roll back.", severity="warning")
            return
        if self.rollback_running:
            self.notify("Wait for the running rollback to finish.", title="Rollback is running")
            return
        self.run_worker(self._plan_rollback(names), group=ROLLBACK_GROUP,
                        description=f"read the releases of {', '.join(names)}", exit_on_error=False)

    async def _plan_rollback(self, names: list[str]) -> None:
        """Read every device's releases in parallel and post the targets for the confirmation."""
        replies = await asyncio.gather(*(self.app.fleet.releases(name) for name in names), return_exceptions=True)
        targets = []
        for name, reply in zip(names, replies, strict=True):
            if isinstance(reply, EdgetuiError):
                targets.append(plan_rollback(name, None, reply.message))
            elif isinstance(reply, BaseException):
                targets.append(plan_rollback(name, None, f"{type(reply).__name__}: {reply}"))
            else:
                targets.append(plan_rollback(name, reply))
        self.post_message(RollbackPlanned(targets))

    def on_rollback_planned(self, message: RollbackPlanned) -> None:
        """Show the confirmation that names each device and its target release."""
        self.app.push_screen(RollbackConfirmScreen(message.targets), callback=partial(self._rollback_confirmed,
                                                                                         message.targets))

    def _rollback_confirmed(self, targets: list[RollbackTarget], confirmed: bool | None) -> None:
        """Start the rollback in a worker after a yes, or notify that nothing changed."""
        chosen = [target for target in targets if target.to is not None]
        if not confirmed or not chosen:
            self.notify("No device was rolled back.", title="Rollback cancelled" if not confirmed else "Nothing to roll back")
            return
        names = ", ".join(target.name for target in chosen)
        self.run_worker(self._roll_back(chosen), group=ROLLBACK_GROUP, description=f"roll back {names}",
                        exit_on_error=False)

    async def _roll_back(self, targets: list[RollbackTarget]) -> list[dict]:
        """Roll back each group of devices that shares a target and post every device's result."""
        results: list[dict] = []
        try:
            for to in ("known_good", "previous"):
                names = [target.name for target in targets if target.to == to]
                if names:
                    results += await self.app.fleet.rollback(",".join(names), to=to)
        finally:
            # The table must show what did change, even when a later group failed.
            self.post_message(RollbackFinished(results))
        return results

    def on_rollback_finished(self, message: RollbackFinished) -> None:
        """Report each device's result and show the releases the store now records."""
        self.reload()
        done = [f"{result['name']} now serves {result['version'] or result['current']}"
                for result in message.results if result["ok"]]
        if done:
            self.notify("\n".join(done), title="Rolled back", markup=False)
        for result in message.results:
            if not result["ok"]:
                self.notify(result["error"] or "no reason given", title=f"{result['name']}: rollback failed",
                            severity="error", timeout=10, markup=False)

    def on_reconcile_finished(self, message: ReconcileFinished) -> None:
        """Show the releases and statuses that the automatic reconcile changed."""
        self.reload()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Report a rollback worker that failed, because Worker.StateChanged does not reach the app."""
        if event.worker.group == ROLLBACK_GROUP and event.state is WorkerState.ERROR:
            self.app.report_worker_error(event.worker)

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


def telemetry_legend() -> Content:
    """Explain the telemetry columns in one line, in the theme's alert colours."""
    return Content.assemble(
        (ALERT_MARKERS["act"], "bold $error"), " act ",
        (ALERT_MARKERS["watch"], "bold $warning"), " watch · ",
        # One line at 80 columns; the help screen explains the scales and the ∅ mark in full.
        f"last {SPARKLINE_SAMPLES} samples → · p95 0 to row max · errors 0-100 % · ? help",
    )
