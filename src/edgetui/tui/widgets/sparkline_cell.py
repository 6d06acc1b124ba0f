"""Fleet table cells of the telemetry columns: sparklines aligned to the column's right edge and the coloured alert marker."""

from rich.style import Style
from rich.text import Text
from textual.app import App
from textual.color import Color, ColorParseError

from edgetui.tui.telemetry_format import ALERT_COLOURS, ALERT_MARKERS

SPARKLINE_COLOURS = {"p95": "primary", "error_rate": "warning"}
"""Theme variable that colours each sparkline column."""


def theme_style(app: App, variable: str | None) -> Style:
    """Return a Rich style in the colour of the theme variable ``variable``; an unknown one gives no colour."""
    value = app.theme_variables.get(variable) if variable else None
    try:
        return Style(color=Color.parse(value).rich_color) if value else Style()
    except ColorParseError:
        return Style()


def sparkline_cell(app: App, key: str, text: str, width: int) -> Text:
    """Return a sparkline right-aligned in ``width`` cells, in its column's theme colour.

    A sparkline ends with the newest sample, so the newest sample sits at the
    column's right edge. A text longer than ``width`` keeps its right end.
    """
    shown = text[-width:].rjust(width) if width > 0 else ""
    return Text(shown, style=theme_style(app, SPARKLINE_COLOURS.get(key)), no_wrap=True, overflow="crop")


def alert_cell(app: App, marker: str) -> Text:
    """Return the alert marker in the colour of its severity."""
    severity = next((name for name, symbol in ALERT_MARKERS.items() if symbol == marker), None)
    colour = ALERT_COLOURS.get(severity) if severity else None
    return Text(marker, style=theme_style(app, colour) + Style(bold=True), no_wrap=True)
