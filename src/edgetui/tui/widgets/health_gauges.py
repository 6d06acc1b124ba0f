"""Health gauges of one device (CPU, memory, temperature, disk) and its drift score against the thresholds."""

from textual.content import Content
from textual.widgets import Static

from edgetui.tui.telemetry_format import (
    DRIFT_ACT,
    DRIFT_WATCH,
    drift_level,
    drift_scale,
    gauge_bar,
    number_text,
    sparkline,
    trend_arrow,
)

GAUGE_WIDTH = 24
"""Cells of each gauge bar."""

LABEL_WIDTH = 13
"""Width of the gauge labels."""

TEMPERATURE_FULL_C = 100.0
"""Temperature that fills the gauge."""

TEMPERATURE_WARN_C = 80.0
"""Temperature from which the gauge turns to the warning colour, as the default alert rule."""

HIGH_USE = 0.9
"""Fraction of CPU, memory or disk from which the gauge turns to the warning colour."""

DRIFT_TREND_SAMPLES = 30
"""Newest drift scores that the trend sparkline draws."""


class HealthGauges(Static):
    """CPU, memory, temperature and disk of the latest sample, then the drift score with its trend."""

    DEFAULT_CSS = """
    HealthGauges {
        height: auto;
        margin-top: 1;
    }
    """

    def show(self, latest: dict | None, drift: list[float | None], drift_input: list[float | None] | None = None) -> None:
        """Draw the gauges of the ``latest`` sample and the trends of the output and input drift scores, oldest first."""
        self.update(health_content(latest or {}, drift, drift_input or []))


def health_content(latest: dict, drift: list[float | None], drift_input: list[float | None] | None = None) -> Content:
    """Return the gauge lines of a sample dict and the output and input drift series."""
    cpu = latest.get("cpu_percent")
    used, total = latest.get("mem_used_mb"), latest.get("mem_total_mb")
    temperature = latest.get("temp_c")
    disk = latest.get("disk_used_percent")
    memory_fraction = used / total if used is not None and total else None
    lines = [
        _gauge("CPU", None if cpu is None else cpu / 100, number_text(cpu, " %")),
        _gauge("memory", memory_fraction, _memory_text(used, total)),
        _gauge("temperature", None if temperature is None else temperature / TEMPERATURE_FULL_C,
               number_text(temperature, " °C"),
               warn=temperature is not None and temperature >= TEMPERATURE_WARN_C),
        _gauge("disk", None if disk is None else disk / 100, _disk_text(disk, latest.get("disk_free_mb"))),
        _drift_line("drift PSI", latest.get("drift_psi"), drift),
        _drift_line("input drift", latest.get("drift_input_psi"), drift_input or []),
    ]
    return Content("\n").join(lines)


def _gauge(label: str, fraction: float | None, text: str, *, warn: bool | None = None) -> Content:
    """Return one gauge line: label, bar coloured by how full it is, and the value."""
    if warn is None:
        warn = fraction is not None and fraction >= HIGH_USE
    colour = "$warning" if warn else "$success"
    return Content.assemble(
        (label.ljust(LABEL_WIDTH), "$text-primary"),
        (gauge_bar(fraction, GAUGE_WIDTH), colour if fraction is not None else "$text-muted"),
        "  ",
        text,
    )


def _drift_line(label: str, psi: float | None, trend: list[float | None]) -> Content:
    """Return the drift score on a scale marked at the watch and act thresholds, with its trend."""
    level = drift_level(psi)
    colour = {"act": "$error", "watch": "$warning"}.get(level or "", "$success")
    recent = trend[-DRIFT_TREND_SAMPLES:]
    parts: list[str | tuple[str, str]] = [
        (label.ljust(LABEL_WIDTH), "$text-primary"),
        (drift_scale(psi, GAUGE_WIDTH), colour if psi is not None else "$text-muted"),
        "  ",
        (number_text(psi, digits=3) if psi is not None else "— (fewer than 30 requests)", colour),
    ]
    if recent:
        # The arrow compares the halves of the whole range; the sparkline shows only its newest scores.
        parts += [" ", trend_arrow(trend), " ", (sparkline(recent, low=0.0, high=max(
            [DRIFT_ACT, *(value for value in recent if value is not None)])), "$secondary")]
    parts.append((f"  │ watch {DRIFT_WATCH} │ act {DRIFT_ACT}", "$text-muted"))
    return Content.assemble(*parts)


def _memory_text(used: float | None, total: float | None) -> str:
    """Return "612 / 3792 MiB", or what is known of it."""
    if used is None:
        return "—"
    if total is None:
        return f"{used:.0f} MiB used"
    return f"{used:.0f} / {total:.0f} MiB"


def _disk_text(used_percent: float | None, free_mb: float | None) -> str:
    """Return "41 % used, 10.0 GiB free", or what is known of it."""
    used = number_text(used_percent, " % used", digits=0)
    if free_mb is None:
        return used
    return f"{used}, {free_mb / 1024:.1f} GiB free"
