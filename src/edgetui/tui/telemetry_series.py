"""Chart series of one device's telemetry over a time range, from raw samples or per-minute roll-ups.

Pure functions with no Textual imports. The x axis counts back from "now" in
the range's unit (seconds, minutes or hours), so charts read "-5m … now".
"""

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class TimeRange:
    """A chart range: its key, its length in seconds, the x-axis unit and whether it reads roll-ups."""

    key: str
    label: str
    seconds: float
    unit_seconds: float
    unit: str
    rollups: bool


RANGES = (
    TimeRange("5m", "5 minutes (raw samples)", 300.0, 60.0, "m", rollups=False),
    TimeRange("1h", "1 hour (per-minute roll-ups)", 3600.0, 60.0, "m", rollups=True),
    TimeRange("24h", "24 hours (per-minute roll-ups)", 86400.0, 3600.0, "h", rollups=True),
)
"""The device screen's ranges, in the order that the range key cycles through them."""

RANGE_BY_KEY = {time_range.key: time_range for time_range in RANGES}

ROLLUP_SECONDS = 60.0
"""Length of one roll-up row."""


@dataclass
class ChartSeries:
    """The points of the device screen's charts; x is in the range's unit, negative before now."""

    time_range: TimeRange
    x: list[float] = field(default_factory=list)
    p50: list[float | None] = field(default_factory=list)
    p95: list[float | None] = field(default_factory=list)
    p99: list[float | None] = field(default_factory=list)
    throughput: list[float | None] = field(default_factory=list)
    error_percent: list[float | None] = field(default_factory=list)
    drift: list[float | None] = field(default_factory=list)
    drift_input: list[float | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.x)


def as_timestamp(value: Any) -> float:
    """Return a stored time as unix seconds: a number as is, an ISO 8601 string parsed (naive means UTC)."""
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        text = value.replace("Z", "+00:00")
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    raise ValueError(f"Invalid telemetry time {value!r}: expected unix seconds or an ISO 8601 string.")


def chart_series(rows: list[dict], time_range: TimeRange, now: float) -> ChartSeries:
    """Build the chart series from samples (raw range) or roll-ups, oldest first."""
    series = ChartSeries(time_range)
    time_key = "minute" if time_range.rollups else "ts"
    ordered = sorted(rows, key=lambda row: as_timestamp(row[time_key]))
    for row in ordered:
        moment = as_timestamp(row[time_key])
        series.x.append((moment - now) / time_range.unit_seconds)
        series.p50.append(row.get("latency_ms_p50"))
        series.p95.append(row.get("latency_ms_p95"))
        series.p99.append(row.get("latency_ms_p99"))
        series.throughput.append(_throughput(row, time_range))
        series.error_percent.append(_error_percent(row))
        series.drift.append(row.get("drift_psi"))
        series.drift_input.append(row.get("drift_input_psi"))
    return series


def x_ticks(time_range: TimeRange, count: int = 6) -> tuple[list[float], list[str]]:
    """Return evenly spaced x ticks from the start of the range to now, with labels such as "-60m" and "now"."""
    span = time_range.seconds / time_range.unit_seconds
    positions = [-span + span * index / (count - 1) for index in range(count)]
    labels = [f"{position:.0f}{time_range.unit}" if round(position) else "now" for position in positions]
    return positions, labels


Y_TICKS = 4
"""Default number of steps between the y ticks of a chart, at most."""


def y_axis(values: list[float | None], *, minimum_top: float = 1.0, maximum_top: float | None = None,
           steps: int = Y_TICKS) -> tuple[float, list[float], list[str]]:
    """Return a y axis from 0: its top, and evenly spaced ticks with labels.

    The step is 1, 2 or 5 times a power of ten, so the labels read 0, 25, 50.
    The top is the first tick at or above the largest value, at least
    ``minimum_top`` and at most ``maximum_top`` (100 for a percentage).
    """
    known = [value for value in values if value is not None]
    highest = max([minimum_top, *known])
    if maximum_top is not None:
        highest = min(highest, maximum_top)
    step = _nice_step(highest / steps)
    top = step * math.ceil(highest / step - 1e-9)
    if maximum_top is not None:
        top = min(top, maximum_top)
    count = round(top / step)
    ticks = [step * index for index in range(count + 1)]
    if ticks[-1] < top:
        ticks.append(top)
    digits = 0 if step >= 1 else -math.floor(math.log10(step))
    return top, ticks, [f"{tick:.{digits}f}" for tick in ticks]


def _nice_step(raw: float) -> float:
    """Return the smallest of 1, 2 or 5 times a power of ten that is at least ``raw``."""
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw - 1e-12:
            return factor * power
    return 10 * power


def points(x: list[float], values: list[float | None]) -> tuple[list[float], list[float]]:
    """Return the (x, value) pairs that have a value, because plotext cannot draw None."""
    pairs = [(position, value) for position, value in zip(x, values, strict=True) if value is not None]
    return [pair[0] for pair in pairs], [pair[1] for pair in pairs]


def _throughput(row: dict, time_range: TimeRange) -> float | None:
    """Return requests per second of a sample (over its interval) or of a roll-up minute."""
    requests = row.get("requests")
    if requests is None:
        return None
    seconds = ROLLUP_SECONDS if time_range.rollups else (row.get("interval_s") or 1.0)
    return requests / seconds


def _error_percent(row: dict) -> float | None:
    """Return errors as a percentage of requests, or None when there were no requests."""
    requests, errors = row.get("requests"), row.get("errors")
    if not requests or errors is None:
        return None
    return 100.0 * errors / requests


@dataclass
class DeviceView:
    """Data of the device screen's telemetry section: the latest sample and the range's chart series."""

    latest: dict | None
    series: ChartSeries


def read_device_view(store: Any, name: str, time_range: TimeRange, now: float) -> DeviceView:
    """Read the device's latest sample and the samples (5 minutes) or roll-ups (longer ranges) of the range.

    ``store`` is a TelemetryStore. It runs in a worker thread, so it may take as long as SQLite needs.
    """
    since = now - time_range.seconds
    rows = store.rollups(name, since) if time_range.rollups else store.samples(name, since)
    return DeviceView(store.latest(name), chart_series(rows, time_range, now))
