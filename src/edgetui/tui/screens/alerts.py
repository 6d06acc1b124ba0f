"""The alerts screen: open and recently resolved telemetry alerts, filtered to open ones with one key."""

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from edgetui.tui.formatting import NO_VALUE, relative_time
from edgetui.tui.messages import TelemetryUpdated
from edgetui.tui.screens.device import DeviceScreen
from edgetui.tui.telemetry_feed import RECENT_ALERTS_SECONDS
from edgetui.tui.telemetry_format import alert_marker, alert_value_text
from edgetui.tui.widgets.navigable_table import NavigableTable
from edgetui.tui.widgets.sparkline_cell import alert_cell

if TYPE_CHECKING:
    from edgetui.tui.app import EdgetuiApp

ALERT_COLUMNS = (("severity", "severity"), ("device", "device"), ("rule", "rule"), ("value", "value"),
                 ("since", "opened"), ("resolved", "resolved"), ("message", "message"))
"""Columns of the alerts table: key and header label, in display order."""

MESSAGE_MIN_WIDTH = 12
"""Narrowest message column; below it the table scrolls sideways. The detail line shows the whole message."""

CELL_PADDING = 1
"""Blank cells on each side of a column, as in Textual's DataTable default."""


class AlertsTable(NavigableTable):
    """The alert rows; Enter opens the device of the row under the cursor."""

    BINDINGS = [
        Binding(
            "enter",
            "select_cursor",
            "Device",
            id="alerts.device",
            tooltip="Open the device screen of the alert under the cursor",
        ),
    ]


class AlertsScreen(Screen):
    """Alerts newest first: open ones, and those resolved within RECENT_ALERTS_SECONDS."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="alerts.back", tooltip="Return to the previous screen"),
        Binding(
            "o",
            "toggle_open_only",
            "Open only",
            id="alerts.open-only",
            tooltip="Show only open alerts, or open and recently resolved ones again",
        ),
    ]

    DEFAULT_CSS = """
    AlertsScreen #alerts-title {
        height: 1;
        padding: 0 1;
        background: $panel;
        text-style: bold;
    }
    AlertsScreen #alerts-empty {
        margin: 1 1;
    }
    AlertsScreen #alerts {
        height: 1fr;
    }
    AlertsScreen #alert-detail {
        height: auto;
        max-height: 4;
        padding: 0 1;
        background: $panel;
    }
    """

    app: "EdgetuiApp"

    def __init__(self) -> None:
        super().__init__()
        self.open_only = False

    def compose(self) -> ComposeResult:
        """Lay out the title line, the table, the empty-state line and the key hints."""
        yield Static(id="alerts-title")
        yield AlertsTable(id="alerts")
        yield Static(id="alerts-empty")
        yield Static(id="alert-detail")
        yield Footer()

    def on_mount(self) -> None:
        """Fill the table from the telemetry feed's last read."""
        self.reload()
        self.table.focus()

    def on_resize(self) -> None:
        """Fit the message column to the new width."""
        self.reload()

    @property
    def table(self) -> AlertsTable:
        """The alerts table."""
        return self.query_one(AlertsTable)

    def shown_alerts(self) -> list[dict]:
        """Return the feed's alerts that the filter lets through, newest first."""
        alerts = self.app.telemetry.alerts
        if self.open_only:
            alerts = [alert for alert in alerts if alert.get("resolved_at") is None]
        return alerts

    def reload(self) -> None:
        """Rebuild the rows, keeping the cursor on the same alert when it is still listed."""
        table = self.table
        selected = self.selected_alert()
        alerts = self.shown_alerts()
        now = self.app.clock()
        rows = [alert_cells(self, alert, now) for alert in alerts]
        table.clear(columns=True)
        for (key, label), width in zip(ALERT_COLUMNS, column_widths(rows, self.size.width), strict=True):
            table.add_column(label, key=key, width=width)
        for alert, cells in zip(alerts, rows, strict=True):
            table.add_row(*cells, key=str(alert["id"]))
        if selected is not None and str(selected["id"]) in table.rows:
            table.move_cursor(row=table.get_row_index(str(selected["id"])))
        self._update_title(alerts)
        self._update_detail()

    def _update_detail(self) -> None:
        """Show the whole message of the alert under the cursor below the table."""
        detail = self.query_one("#alert-detail", Static)
        alert = self.selected_alert()
        detail.display = alert is not None
        if alert is not None:
            detail.update(Content.assemble((f"{alert['device']} · {alert['rule']}: ", "bold"),
                                           alert.get("message") or NO_VALUE))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Show the message of the newly selected alert."""
        self._update_detail()

    def _update_title(self, alerts: list[dict]) -> None:
        """Count the open alerts, and describe what the table lists or why it is empty."""
        open_count = sum(1 for alert in self.app.telemetry.alerts if alert.get("resolved_at") is None)
        scope = "open alerts" if self.open_only else f"open alerts and those resolved in the last {_hours()} h"
        self.query_one("#alerts-title", Static).update(Content(f"Alerts  {open_count} open  │ {scope}"))
        empty = self.query_one("#alerts-empty", Static)
        empty.display = not alerts
        if not self.app.telemetry.active:
            empty.update(Content("No telemetry yet, so no alert. The collector starts with the TUI (edgetui tui)."))
        elif self.open_only:
            empty.update(Content("No open alert. Press o to show the recently resolved ones too."))
        else:
            empty.update(Content(f"No alert opened or resolved in the last {_hours()} hours."))

    def selected_alert(self) -> dict | None:
        """Return the alert under the cursor, or None when the table is empty."""
        table = self.table
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return next((alert for alert in self.app.telemetry.alerts if str(alert["id"]) == row_key.value), None)

    def on_telemetry_updated(self, message: TelemetryUpdated) -> None:
        """Show the alert list that the feed read, when it changed.

        The feed posts an update every tick while samples arrive, and a rebuild
        of every row each second would cost more than the rest of the screen.
        """
        # NOTE: the "since" and "resolved … ago" texts advance only when the list changes or the screen opens again.
        if message.alerts_changed:
            self.reload()

    def action_toggle_open_only(self) -> None:
        """Switch between open alerts only and open plus recently resolved ones."""
        self.open_only = not self.open_only
        self.reload()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Open the device of the chosen alert."""
        self.action_open_device()

    def action_open_device(self) -> None:
        """Open the device screen of the alert under the cursor."""
        alert = self.selected_alert()
        if alert is None:
            self.notify("The list has no alert to open.", severity="warning")
            return
        self.app.push_screen(DeviceScreen(alert["device"]))


def alert_cells(screen: AlertsScreen, alert: dict, now: datetime) -> list[Text]:
    """Return the cells of one alert row, as Text so device names and messages are not read as markup.

    The "resolved" cell reads "open" in bold for an open alert, else how long ago it was resolved.
    """
    resolved_at = alert.get("resolved_at")
    opened = datetime.fromtimestamp(alert["opened_at"], UTC)
    if resolved_at is None:
        resolved = Text("open", style="bold")
    else:
        resolved = Text(relative_time(datetime.fromtimestamp(resolved_at, UTC), now))
    severity = alert_cell(screen.app, alert_marker(alert["severity"]))
    severity.append(f" {alert['severity']}")
    return [
        severity,
        Text(alert["device"]),
        Text(alert["rule"]),
        Text(alert_value_text(alert.get("metric"), alert.get("value"))),
        Text(relative_time(opened, now)),
        resolved,
        Text(alert.get("message") or NO_VALUE, no_wrap=True, overflow="ellipsis"),
    ]


def column_widths(rows: list[list[Text]], available: int) -> list[int]:
    """Return the width of each column: its widest cell or label, and for the message column the space left."""
    widths = [max([len(label), *(row[index].cell_len for row in rows)]) for index, (_key, label)
              in enumerate(ALERT_COLUMNS)]
    fixed = sum(widths[:-1]) + 2 * CELL_PADDING * len(ALERT_COLUMNS)
    # The vertical scrollbar and the table's own edge take two more cells.
    widths[-1] = min(widths[-1], max(MESSAGE_MIN_WIDTH, available - fixed - 2))
    return widths


def _hours() -> int:
    """Return RECENT_ALERTS_SECONDS in whole hours."""
    return int(RECENT_ALERTS_SECONDS // 3600)
