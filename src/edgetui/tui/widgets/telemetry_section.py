"""The device screen's telemetry section: a header line, the charts and the health gauges, or how to get data."""

from datetime import UTC, datetime
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from edgetui.tui.formatting import relative_time
from edgetui.tui.telemetry_series import DeviceView, TimeRange
from edgetui.tui.widgets.health_gauges import HealthGauges
from edgetui.tui.widgets.telemetry_charts import TelemetryCharts


class TelemetrySection(Vertical):
    """Charts and gauges of one device, with an empty state that explains how to get telemetry."""

    DEFAULT_CSS = """
    TelemetrySection {
        height: auto;
    }
    TelemetrySection #telemetry-empty {
        color: $text-warning;
    }
    """

    _drawn = False
    """Whether the charts have shown a read view."""

    _header: tuple[DeviceView, Any] | None = None
    """The view and link state of the header line, kept so refresh_age can redraw it with a new time."""

    def compose(self) -> ComposeResult:
        """Lay out the header line, the empty state, the charts and the gauges."""
        yield Static(id="telemetry-header")
        yield Static(id="telemetry-empty")
        yield TelemetryCharts(id="telemetry-charts")
        yield HealthGauges(id="health-gauges")

    def show_loading(self, name: str, time_range: TimeRange) -> None:
        """Say that the range is being read; before the first read returns, hide the charts.

        Three plotext charts are costly to draw, so the device screen's first
        frame shows the header line only and the charts appear with their data.
        A range switch keeps the previous charts until the new ones arrive.
        """
        self.query_one("#telemetry-header", Static).update(Content(f"{time_range.label} · reading…"))
        self._show_empty(None, charts=self._drawn)

    def show(self, name: str, view: DeviceView, link_state: Any, collecting: bool, now: datetime) -> None:
        """Draw ``view``, or the empty state when the device has sent no telemetry yet."""
        self._header = (view, link_state)
        self.refresh_age(now)
        if view.latest is None:
            self._show_empty(empty_message(name, link_state, collecting))
            return
        self._drawn = True
        self._show_empty(None)
        self.query_one(TelemetryCharts).show(view.series)
        self.query_one(HealthGauges).show(view.latest, view.series.drift, view.series.drift_input)

    def refresh_age(self, now: datetime) -> None:
        """Redraw the header line, whose "latest sample … ago" depends on the current time."""
        if self._header is None:
            return
        view, link_state = self._header
        self.query_one("#telemetry-header", Static).update(header_line(view, link_state, now))

    def _show_empty(self, message: Content | None, *, charts: bool = True) -> None:
        """Show ``message`` in place of the charts and gauges, or the charts when it is None and ``charts``."""
        empty = self.query_one("#telemetry-empty", Static)
        empty.update(message or "")
        empty.display = message is not None
        self.query_one(TelemetryCharts).display = message is None and charts
        self.query_one(HealthGauges).display = message is None and charts


def header_line(view: DeviceView, link_state: Any, now: datetime) -> Content:
    """Describe the range, the stream's state and the age of the newest sample."""
    parts: list[str | tuple[str, str]] = [(view.series.time_range.label, "bold"), " · t: next range"]
    if link_state is not None:
        parts += [" · stream ", (link_state.state, _state_colour(link_state.state))]
        if link_state.last_error:
            parts.append(f" ({link_state.last_error})")
    if view.latest is not None:
        newest = datetime.fromtimestamp(view.latest["ts"], UTC)
        parts.append(f" · latest sample {newest:%H:%M:%S} UTC ({relative_time(newest, now)})")
        release = view.latest.get("release")
        parts.append(f" · release {release}" if release else " · no release serving")
    return Content.assemble(*parts)


def empty_message(name: str, link_state: Any, collecting: bool) -> Content:
    """Say that the device has sent no telemetry yet, and how to get some, or why it never can."""
    if link_state is not None and link_state.state == "unsupported":
        return Content.assemble(
            ("No telemetry: python3 missing on the device. ", "bold"),
            f"The telemetry stream runs in the device shim, which needs python3 3.6 or later. "
            f"Install it on {name}, and the collector starts streaming at its next check (every 10 minutes).",
        )
    if collecting:
        state = link_state.state if link_state is not None else "connecting"
        how = (f"The collector started with the TUI and streams one sample a second once {name} answers; "
               f"its stream is {state}. A device that is offline sends its spooled samples when it returns.")
    else:
        how = (f"The collector starts with the TUI (edgetui tui) and streams from every device. "
               f"Without the TUI, `edgetui collect {name}` collects its telemetry.")
    return Content.assemble(("No telemetry yet. ", "bold"), how)


def _state_colour(state: str) -> str:
    """Return the theme colour of a stream state."""
    return {"streaming": "$success", "connecting": "$accent", "offline": "$warning",
            "unsupported": "$text-muted"}.get(state, "$error")
