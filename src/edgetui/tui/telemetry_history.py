"""The newest sparkline samples of every device, kept in memory and fed by the collector's on_sample callback.

The fleet table draws the last SPARKLINE_SAMPLES p95 latencies and error
rates of each device. Reading them from SQLite every tick cost three queries
per device and second, so the feed reads them once at start (`read_recent`)
and then appends each sample that the collector reports.
"""

import logging
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from edgetui.tui.telemetry_format import SPARKLINE_SAMPLES, DeviceTelemetry

if TYPE_CHECKING:
    from edgetui.telemetry import TelemetryStore

log = logging.getLogger("edgetui.tui.telemetry")

SEED_ATTEMPTS = 3
"""Reads of one device at start before its values are taken even though a write ran between the queries."""


@dataclass(frozen=True)
class Point:
    """One sample's sparkline values, with the stream and seq that identify the sample."""

    stream: str | None
    seq: int | None
    p95: float | None
    error_rate: float | None


@dataclass
class StoredRecent:
    """A device's newest stored values, oldest first, and the stream and seq of the newest stored sample."""

    p95: list[float | None]
    error_rate: list[float | None]
    newest: tuple[str, int] | None
    received_at: float | None = None
    """When the console received the newest stored sample (unix seconds), for "last seen"."""


class SparklineHistory:
    """Bounded per-device deques of the newest SPARKLINE_SAMPLES points."""

    def __init__(self, size: int = SPARKLINE_SAMPLES) -> None:
        self.size = size
        self._points: dict[str, deque[Point]] = {}

    def add(self, device: str, point: Point) -> None:
        """Append ``point`` as the device's newest sample, dropping the oldest past the bound."""
        points = self._points.get(device)
        if points is None:
            points = self._points[device] = deque(maxlen=self.size)
        points.append(point)

    def seed(self, device: str, stored: StoredRecent) -> None:
        """Put the stored values first and keep the points added since that are newer than the stored ones.

        A point of the stored newest sample's stream with a seq at or below it
        is in the store already, so it is dropped. Points of another stream are
        kept, because a new stream starts after the stored one.
        """
        added = list(self._points.get(device, ()))
        points: deque[Point] = deque(maxlen=self.size)
        for p95, rate in zip(stored.p95, stored.error_rate, strict=True):
            points.append(Point(None, None, p95, rate))
        for point in added:
            if stored.newest is not None and point.stream == stored.newest[0] and point.seq is not None \
                    and point.seq <= stored.newest[1]:
                continue
            points.append(point)
        self._points[device] = points

    def telemetry(self, device: str, alert: str | None = None) -> DeviceTelemetry:
        """Return the device's fleet table values, with ``alert`` as its marker."""
        points = self._points.get(device, ())
        return DeviceTelemetry(p95=[point.p95 for point in points],
                               error_rate=[point.error_rate for point in points], alert=alert)


def sample_point(sample: Any) -> Point:
    """Return the sparkline values of a collector Sample; error rate is 0 without requests, as the store computes it."""
    from edgetui.telemetry.samples import error_rate

    return Point(getattr(sample, "stream", None), getattr(sample, "seq", None),
                 getattr(sample, "latency_ms_p95", None),
                 error_rate(getattr(sample, "requests", None), getattr(sample, "errors", None)))


def read_recent(store: "TelemetryStore", names: list[str], count: int = SPARKLINE_SAMPLES) -> dict[str, StoredRecent]:
    """Read the newest ``count`` p95 latencies and error rates of each device that has stored samples.

    Runs in a worker thread, once at start. Each device takes four queries:
    the newest sample, the two series, and the newest sample again. When the
    newest sample changed between them, a write ran meanwhile, so the device
    is read again, up to SEED_ATTEMPTS times.
    """
    # NOTE: one query for every device would need a method on TelemetryStore; per device it is 4 queries once.
    stored = set(store.devices())
    result: dict[str, StoredRecent] = {}
    for name in names:
        if name not in stored:
            continue
        for attempt in range(1, SEED_ATTEMPTS + 1):
            before = store.latest(name)
            p95 = store.recent(name, "latency_ms_p95", count)
            rates = store.recent(name, "error_rate", count)
            after = store.latest(name)
            if _key(before) == _key(after) and len(p95) == len(rates):
                break
            log.debug("telemetry of %s changed while read (attempt %d), reading again", name, attempt)
        # After the last attempt the two series may still differ in length; both keep their newest values.
        shared = min(len(p95), len(rates))
        received_at = after.get("received_at") if after is not None else None
        result[name] = StoredRecent(p95[len(p95) - shared:], rates[len(rates) - shared:], _key(after), received_at)
    return result


def _key(sample: dict | None) -> tuple[str, int] | None:
    """Return the stream and seq that identify a stored sample."""
    return None if sample is None else (sample["stream"], sample["seq"])
