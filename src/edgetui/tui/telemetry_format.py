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

ERROR_RATE_FULL_SCALE = 1.0
"""Error rate drawn as a full block: the error sparkline has a fixed scale from 0 to 100 %."""

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
    unsupported: str | None = None
    """The reason the device can never stream telemetry (such as python3 missing), or None."""


UNSUPPORTED_MARK = "∅"
"""Fleet table cell of a device that cannot stream telemetry, such as one without python3."""


def telemetry_cells(telemetry: DeviceTelemetry | None, cells: int = SPARKLINE_SAMPLES) -> dict[str, str]:
    """Return the text of the fleet table's telemetry columns, each sparkline ``cells`` characters at most.

    A device without telemetry gets empty cells, and one that cannot stream gets UNSUPPORTED_MARK.
    """
    if telemetry is None:
        return {"alert": "", "p95": "", "error_rate": ""}
    if telemetry.unsupported is not None and not telemetry.p95:
        return {"alert": alert_marker(telemetry.alert), "p95": UNSUPPORTED_MARK, "error_rate": UNSUPPORTED_MARK}
    return {
        "alert": alert_marker(telemetry.alert),
        "p95": latency_sparkline(fit_samples(telemetry.p95, cells)),
        "error_rate": error_rate_sparkline(fit_samples(telemetry.error_rate, cells)),
    }


def fit_samples(values: Sequence[float | None], cells: int,
                window: int = SPARKLINE_SAMPLES) -> list[float | None]:
    """Reduce the newest ``window`` values to ``cells`` values, each the max of its group, so a spike stays.

    Fewer than ``window`` values are padded with gaps at the old end, so every
    sparkline covers the same span of samples whatever its width. The groups
    differ in size by at most one sample when ``cells`` does not divide ``window``.
    """
    recent = list(values)[-window:]
    padded: list[float | None] = [None] * (window - len(recent)) + recent
    if cells <= 0:
        return []
    if cells >= window:
        return padded
    fitted: list[float | None] = []
    for index in range(cells):
        group = padded[index * window // cells:(index + 1) * window // cells]
        known = [value for value in group if value is not None]
        fitted.append(max(known) if known else None)
    return fitted


def sparkline(values: Sequence[float | None], *, low: float | None = None, high: float | None = None) -> str:
    """Draw ``values`` as one block character each, scaled between ``low`` and ``high``.

    ``low`` and ``high`` default to the smallest and largest value, so the
    line shows the shape of the series. A None value is a gap. When every
    value is equal (or the scale is empty) each one is the lowest block. A
    value above ``low`` never draws the lowest block, so a small error rate
    on a fixed 0-100 % scale stays visible.
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
        index = round(level * (len(SPARK_BLOCKS) - 1))
        if index == 0 and span > 0 and value > bottom:
            index = 1
        characters.append(SPARK_BLOCKS[index])
    return "".join(characters)


def latency_sparkline(p95: Sequence[float | None]) -> str:
    """Draw p95 latencies from 0 ms up to the row's own maximum, so a flat line stays flat."""
    return sparkline(p95, low=0.0)


def error_rate_sparkline(rates: Sequence[float | None]) -> str:
    """Draw error rates on the fixed scale from 0 to ERROR_RATE_FULL_SCALE (100 %)."""
    return sparkline(rates, low=0.0, high=ERROR_RATE_FULL_SCALE)


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


def alert_value_text(metric: str | None, value: float | None) -> str:
    """Format an alert's value by its rule's metric: "6.7%" for error rate, "130.2 ms" for latency, PSI with 3 decimals."""
    if value is None:
        return "—"
    if metric == "error_rate":
        return f"{value * 100:.1f}%"
    if metric is not None and metric.startswith("latency_ms"):
        return f"{value:.1f} ms"
    if metric is not None and metric.startswith("drift"):
        return f"{value:.3f}"
    if metric == "temp_c":
        return f"{value:.1f} °C"
    if metric == "offline_s":
        return f"{value:.0f} s"
    if metric == "cpu_percent":
        return f"{value:.1f}%"
    if metric == "mem_used_mb":
        return f"{value:.0f} MB"
    return f"{value:.4g}"
