"""A DataTable of the fleet's devices that updates one row at a time."""

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.timer import Timer

from edgetui.domain import DeviceStatus
from edgetui.tui.columns import LABELS, SPARKLINE_COLUMNS, fit_columns
from edgetui.tui.formatting import as_utc, relative_time
from edgetui.tui.rows import DeviceRow, row_matches
from edgetui.tui.telemetry_format import ALERT_MARKERS, SPARKLINE_SAMPLES, DeviceTelemetry, telemetry_cells
from edgetui.tui.widgets.navigable_table import NavigableTable
from edgetui.tui.widgets.sparkline_cell import alert_cell, sparkline_cell, theme_style

MARK = "✓ "
"""Prefix of the name of a device that is marked for discovery."""

STATUS_COLOURS = {
    DeviceStatus.ONLINE: "success",
    DeviceStatus.OFFLINE: "warning",
    DeviceStatus.ERROR: "error",
    DeviceStatus.DISCOVERING: "accent",
}
"""Theme variable that colours each status. Other statuses use the text colour."""

TELEMETRY_KEYS = ("alert", "p95", "error_rate")
"""Keys of the telemetry columns, which set_telemetry redraws."""

TELEMETRY_WIDTHS = {"alert": len(max(ALERT_MARKERS.values(), key=len)), "p95": SPARKLINE_SAMPLES,
                    "error_rate": SPARKLINE_SAMPLES}
"""Content width of each telemetry column: one marker, or a sparkline of SPARKLINE_SAMPLES samples."""

LIVE_RELAYOUT_SECONDS = 0.5
"""Minimum seconds between two column rebuilds while updates stream in, so widths do not jump with each row."""


class FleetTable(NavigableTable):
    """The fleet's devices, one row per device keyed by name, with marks and a filter."""

    BINDINGS = [
        Binding(
            "enter",
            "select_cursor",
            "Open",
            # Hidden from the footer, which has no room for it at 80 columns; the help screen lists it.
            show=False,
            id="fleet.open",
            tooltip="Open the device screen of the selected row",
        ),
        Binding(
            "space",
            "toggle_mark",
            "Mark",
            id="fleet.mark",
            tooltip="Mark or unmark the selected row; d discovers the marked devices",
        ),
    ]

    DEFAULT_CSS = """
    FleetTable {
        height: 1fr;
    }
    """

    def __init__(self, clock: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._clock = clock
        self._rows: dict[str, DeviceRow] = {}
        self._widths: dict[str, int] = {}
        self.marked: set[str] = set()
        self.filter_query = ""
        self._relayout_pending = False
        self._live = False
        self._relayout_timer: Timer | None = None
        self._telemetry: dict[str, DeviceTelemetry] = {}
        self._telemetry_seen: dict[str, float] = {}
        self.telemetry_shown = False

    def on_mount(self) -> None:
        """Recolour status cells whenever the theme changes."""
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._rebuild())

    def on_resize(self, event: events.Resize) -> None:
        """Choose the columns again, because a narrower table may drop some."""
        self._rebuild()

    @property
    def device_rows(self) -> dict[str, DeviceRow]:
        """Every device known to the table, shown or filtered out, by name."""
        return self._rows

    @property
    def selected_name(self) -> str | None:
        """Name of the device under the cursor, or None when the table is empty."""
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value

    @property
    def visible_names(self) -> list[str]:
        """Names of the rows that the filter lets through, in table order."""
        return [row_key.value for row_key in self.rows]

    def load(self, rows: list[DeviceRow]) -> None:
        """Replace every row, keeping the marks of devices that still exist."""
        self._rows = {row.name: row for row in rows}
        self.marked &= set(self._rows)
        self._rebuild()

    def update_row(self, row: DeviceRow) -> None:
        """Redraw one device's cells in place, or add a new device at the end."""
        self._rows[row.name] = row
        if row.name not in self.rows:
            if row_matches(row, self.filter_query, self._clock()):
                self._add_row(row)
            return
        for key, value in self._cells(row).items():
            if key in self._widths:
                self.update_cell(row.name, key, value)
        self._relayout_if_needed()

    def set_telemetry(self, telemetry: dict[str, DeviceTelemetry], names: frozenset[str], shown: bool,
                      seen: dict[str, float] | None = None) -> None:
        """Redraw the telemetry cells of ``names`` from ``telemetry``; ``shown`` adds or removes the columns.

        ``seen`` maps device names to the unix time of their newest telemetry
        line, which "last seen" shows when it is newer than the last discovery.
        """
        self._telemetry = telemetry
        if seen is not None:
            self._telemetry_seen = seen
            self._update_last_seen(names)
        if shown != self.telemetry_shown:
            self.telemetry_shown = shown
            self._rebuild()
            return
        if not shown:
            return
        # The telemetry columns have fixed widths (see _fit), so new values never need a relayout.
        keys = [key for key in TELEMETRY_KEYS if key in self._widths]
        if not keys:
            return
        visible = self.rows
        for name in names:
            if name not in visible:
                continue
            cells = self._telemetry_cells(name)
            for key in keys:
                # An unchanged cell, often the alert marker, costs no redraw.
                if self.get_cell(name, key) != cells[key]:
                    self.update_cell(name, key, cells[key])

    def set_live(self, live: bool) -> None:
        """Limit column rebuilds while ``live`` (discovery runs), then rebuild once when it ends."""
        self._live = live
        if live or self._relayout_timer is None:
            return
        self._relayout_timer.stop()
        self._relayout_timer = None
        self._relayout_pending = False
        self._relayout_if_needed()

    def _relayout_if_needed(self) -> None:
        """Rebuild once when new cell text changes the column widths.

        Discovery fills cells that were empty when the columns were sized, so
        without this the board and arch columns would stay as narrow as "—".
        Updates that arrive together share one rebuild. While live, the rebuild
        waits LIVE_RELAYOUT_SECONDS, so a stream of results moves the columns
        at most that often; otherwise it runs after the next refresh.
        """
        if self._relayout_pending:
            return
        now = self._clock()
        shown = [row for row in self._rows.values() if row_matches(row, self.filter_query, now)]
        if self._fit(shown) == self._widths:
            return
        self._relayout_pending = True
        if self._live:
            self._relayout_timer = self.set_timer(LIVE_RELAYOUT_SECONDS, self._relayout)
        else:
            self.call_after_refresh(self._relayout)

    def _relayout(self) -> None:
        """Run the pending rebuild."""
        self._relayout_pending = False
        self._relayout_timer = None
        self._rebuild()

    def set_filter(self, query: str) -> None:
        """Show only the rows that match ``query``, as `row_matches` defines."""
        self.filter_query = query
        self._rebuild()

    def refresh_times(self) -> None:
        """Redraw the "last seen" column, whose text depends on the current time."""
        self._update_last_seen(self.visible_names)

    def _update_last_seen(self, names: Iterable[str]) -> None:
        """Redraw the "last seen" cells of ``names`` whose text changed."""
        if "last_seen" not in self._widths:
            return
        visible = self.rows
        now = self._clock()
        for name in names:
            if name not in visible or name not in self._rows:
                continue
            text = Text(self._last_seen_text(self._rows[name], now), no_wrap=True, overflow="ellipsis")
            if self.get_cell(name, "last_seen") != text:
                self.update_cell(name, "last_seen", text)

    def _last_seen_text(self, row: DeviceRow, now: datetime) -> str:
        """Return how long ago the device was last seen, by discovery or by its newest telemetry line."""
        moment = row.device.last_seen
        seen = self._telemetry_seen.get(row.name)
        if seen is not None:
            streamed = datetime.fromtimestamp(seen, UTC)
            if moment is None or streamed > as_utc(moment):
                moment = streamed
        return relative_time(moment, now)

    def action_toggle_mark(self) -> None:
        """Mark or unmark the device under the cursor."""
        name = self.selected_name
        if name is None:
            return
        self.marked ^= {name}
        self.update_cell(name, "name", self._cells(self._rows[name])["name"])

    def _rebuild(self) -> None:
        """Fit the columns to the width, then add every row that matches the filter."""
        if not self.is_mounted:
            return
        selected = self.selected_name
        now = self._clock()
        shown = [row for row in self._rows.values() if row_matches(row, self.filter_query, now)]
        self.clear(columns=True)
        self._widths = self._fit(shown)
        for key, width in self._widths.items():
            self.add_column(LABELS[key], width=width, key=key)
        for row in shown:
            self._add_row(row)
        if selected in self.rows:
            self.move_cursor(row=self.get_row_index(selected))

    def _fit(self, rows: list[DeviceRow]) -> dict[str, int]:
        """Return the width of each column that fits in the table's current width."""
        content: dict[str, int] = {}
        now = self._clock()
        for row in rows:
            for key, text in row.cells(now).items():
                content[key] = max(content.get(key, 0), len(text))
        # Telemetry columns are as wide as their fullest content, so streaming values never change the layout.
        content.update(TELEMETRY_WIDTHS)
        content["name"] = content.get("name", 0) + len(MARK)
        # The vertical scrollbar takes two cells once the rows overflow the height.
        available = self.size.width - (2 if len(rows) > self.size.height - 1 else 0)
        return {spec.key: width for spec, width in fit_columns(content, available, self.telemetry_shown)}

    def _add_row(self, row: DeviceRow) -> None:
        """Append one row with the cells of the shown columns."""
        cells = self._cells(row)
        self.add_row(*(cells[key] for key in self._widths), key=row.name)

    def _cells(self, row: DeviceRow) -> dict[str, Text]:
        """Return the row's cells as Text, so names with brackets are not read as markup."""
        texts = row.cells(self._clock())
        texts["last_seen"] = self._last_seen_text(row, self._clock())
        cells = {key: Text(value, no_wrap=True, overflow="ellipsis") for key, value in texts.items()}
        prefix = MARK if row.name in self.marked else ""
        cells["name"] = Text(prefix + row.name, no_wrap=True, overflow="ellipsis")
        cells["status"].stylize(theme_style(self.app, STATUS_COLOURS.get(row.device.status)))
        cells.update(self._telemetry_cells(row.name))
        return cells

    def _telemetry_cells(self, name: str) -> dict[str, Text]:
        """Return the alert marker and sparkline cells of one device.

        Both sparklines get as many samples per cell as the narrower of the two
        columns needs, so the cells of one row cover the same span of time.
        """
        widths = [self._widths[key] for key in SPARKLINE_COLUMNS if key in self._widths]
        telemetry = telemetry_cells(self._telemetry.get(name), min(widths, default=SPARKLINE_SAMPLES))
        cells = {"alert": alert_cell(self.app, telemetry["alert"])}
        for key in SPARKLINE_COLUMNS:
            cells[key] = sparkline_cell(self.app, key, telemetry[key], self._widths.get(key, 0))
        return cells

