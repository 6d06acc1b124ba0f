"""Turn telemetry values into the short texts that the fleet table and the device screen show.

Pure functions with no Textual imports, so sparklines, markers and trends are tested without an app.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

SPARK_BLOCKS = "▁▂▃▄▅▆▇█"
"""Block characters of a sparkline, lowest value first."""

SPARK_GAP = " "
"""Sparkline cell of a sample without a value, such as a p95 latency with no requests."""

SPARKLINE_SAMPLES = 30
"""Number of recent samples that a fleet table sparkline draws."""

ERROR_RATE_FULL_SCALE = 0.05
"""Error rate drawn as a full block, unless a higher rate in the same line sets the scale.

It equals the default "act" rule (error rate above 5 %), so a full block reads as "alert level"."""

ALERT_MARKERS = {"act": "▲", "watch": "△"}
"""Fleet table marker of a device's most severe open alert."""

ALERT_COLOURS = {"act": "error", "watch": "warning"}
"""Theme variable that colours each alert severity."""

SEVERITY_RANK = {"act": 2, "watch": 1}
"""Order of severities, so a device with both shows its "act" alert."""

DRIFT_WATCH = 0.1
"""PSI at which the default rules raise a "watch" alert for output drift."""

DRIFT_ACT = 0.25
"""PSI at which the default rules raise an "act" alert for output drift."""

TREND_TOLERANCE = 0.1
"""Relative change between the older and newer halves of a series below which the trend reads steady."""


@dataclass
class DeviceTelemetry:
    """Fleet table values of one device: recent p95 latencies, error rates and its worst open alert."""

    p95: list[float | None] = field(default_factory=list)
    error_rate: list[float | None] = field(default_factory=list)
    alert: str | None = None


def telemetry_cells(telemetry: DeviceTelemetry | None) -> dict[str, str]:
    """Return the text of the fleet table's telemetry columns; a device without telemetry gets empty cells."""
    if telemetry is None:
        return {"alert": "", "p95": "", "error_rate": ""}
    return {
        "alert": alert_marker(telemetry.alert),
        "p95": latency_sparkline(telemetry.p95),
        "error_rate": error_rate_sparkline(telemetry.error_rate),
    }


def sparkline(values: Sequence[float | None], *, low: float | None = None, high: float | None = None) -> str:
    """Draw ``values`` as one block character each, scaled between ``low`` and ``high``.

    ``low`` and ``high`` default to the smallest and largest value, so the
    line shows the shape of the series. A None value is a gap. When every
    value is equal (or the scale is empty) each one is the lowest block.
    """
    known = [value for value in values if value is not None]
    if not known:
        return SPARK_GAP * len(values)
    bottom = min(known) if low is None else low
    top = max(known) if high is None else high
    span = top - bottom
    characters = []
    for value in values:
        if value is None:
            characters.append(SPARK_GAP)
            continue
        level = 0.0 if span <= 0 else (min(max(value, bottom), top) - bottom) / span
        characters.append(SPARK_BLOCKS[round(level * (len(SPARK_BLOCKS) - 1))])
    return "".join(characters)


def latency_sparkline(p95: Sequence[float | None]) -> str:
    """Draw p95 latencies between their own minimum and maximum, so a spike is visible."""
    return sparkline(p95)


def error_rate_sparkline(rates: Sequence[float | None]) -> str:
    """Draw error rates from 0 up to ERROR_RATE_FULL_SCALE, or up to a higher rate in the line."""
    known = [rate for rate in rates if rate is not None]
    top = max([ERROR_RATE_FULL_SCALE, *known])
    return sparkline(rates, low=0.0, high=top)


def worst_severity(severities: Sequence[str]) -> str | None:
    """Return the most severe of ``severities`` ("act" over "watch"), or None when there is none."""
    ranked = [severity for severity in severities if severity in SEVERITY_RANK]
    if not ranked:
        return None
    return max(ranked, key=SEVERITY_RANK.__getitem__)


def alert_marker(severity: str | None) -> str:
    """Return the marker of an open alert's severity, or "" for no open alert."""
    if severity is None:
        return ""
    return ALERT_MARKERS.get(severity, "?")


def trend_arrow(values: Sequence[float | None]) -> str:
    """Compare the newer half of ``values`` with the older half: "↑" rising, "↓" falling, "→" steady.

    Returns "" when fewer than two values are known.
    """
    known = [value for value in values if value is not None]
    if len(known) < 2:
        return ""
    middle = len(known) // 2
    older = sum(known[:middle]) / middle
    newer = sum(known[middle:]) / (len(known) - middle)
    scale = max(abs(older), abs(newer), 1e-9)
    change = (newer - older) / scale
    if change > TREND_TOLERANCE:
        return "↑"
    if change < -TREND_TOLERANCE:
        return "↓"
    return "→"


def gauge_bar(fraction: float | None, width: int) -> str:
    """Draw a horizontal bar of ``width`` cells filled to ``fraction`` (clamped to 0..1)."""
    if fraction is None:
        return "·" * width
    filled = round(min(max(fraction, 0.0), 1.0) * width)
    return "█" * filled + "░" * (width - filled)


def drift_scale(psi: float | None, width: int, maximum: float = 0.4) -> str:
    """Draw a PSI scale from 0 to ``maximum`` with "│" at the watch and act thresholds and "●" at ``psi``."""
    cells = ["─"] * width
    for threshold in (DRIFT_WATCH, DRIFT_ACT):
        cells[_scale_index(threshold, width, maximum)] = "│"
    if psi is not None:
        cells[_scale_index(psi, width, maximum)] = "●"
    return "".join(cells)


def drift_level(psi: float | None) -> str | None:
    """Return "act", "watch" or None for a PSI, with the default thresholds."""
    if psi is None:
        return None
    if psi > DRIFT_ACT:
        return "act"
    if psi > DRIFT_WATCH:
        return "watch"
    return None


def number_text(value: float | None, unit: str = "", digits: int = 1) -> str:
    """Format a measurement with ``digits`` decimals and its unit, or "—" when unknown."""
    if value is None:
        return "—"
    return f"{value:.{digits}f}{unit}"


def _scale_index(value: float, width: int, maximum: float) -> int:
    """Return the cell of ``value`` on a scale of ``width`` cells from 0 to ``maximum``."""
    return min(max(round(value / maximum * (width - 1)), 0), width - 1)
