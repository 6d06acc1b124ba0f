"""TelemetryStore: the telemetry, roll-up, stream and alert tables of the fleet database.

The collector, the CLI and the TUI use this one class. It shares the fleet
database's connection when given a FleetStore, so its transactions and those
of the FleetStore take turns on one lock.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from edgetui.store.db import StoreConnection
from edgetui.store.devices import DeviceTable
from edgetui.store.fleet_store import DEFAULT_BUSY_TIMEOUT, FleetStore
from edgetui.telemetry import alert_rules, alerts, ingest
from edgetui.telemetry.alerts import AlertChange
from edgetui.telemetry.ingest import IngestResult
from edgetui.telemetry.retention import DEFAULT_RAW_KEEP_S, DEFAULT_ROLLUP_KEEP_S, prune_telemetry
from edgetui.telemetry.rollups import MINUTE_S
from edgetui.telemetry.rows import (
    ROLLUP_COLUMNS,
    SAMPLE_COLUMNS,
    SAMPLE_METRICS,
    STREAM_COLUMNS,
    rollup_dict,
    sample_dict,
)
from edgetui.telemetry.samples import Sample, StreamNotice

log = logging.getLogger("edgetui.telemetry")


class TelemetryStore:
    """Stores samples exactly once, keeps per-minute roll-ups, prunes old data and evaluates alert rules.

    ``source`` is a FleetStore, whose connection it shares, or the path of the
    fleet database, which it opens (and migrates) itself and closes in close().
    Every write method runs in one transaction.
    """

    def __init__(self, source: FleetStore | Path | str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        if isinstance(source, FleetStore):
            self._connection: StoreConnection = source.connection
            self._owns_connection = False
        else:
            self._connection = StoreConnection(Path(source), busy_timeout=busy_timeout)
            self._owns_connection = True

    def __enter__(self) -> "TelemetryStore":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection when this store opened it; a shared FleetStore connection stays open."""
        if self._owns_connection:
            self._connection.close()

    # Ingest

    def ingest(self, device: str, samples: list[Sample], received_at: float, clock_offset_s: float) -> IngestResult:
        """Store the samples not stored before, in one transaction, and recompute the roll-ups of their minutes.

        The stored ts is the device's ts plus ``clock_offset_s``, the laptop's
        receive time minus the device's clock at the stream's hello line.
        """
        if not samples:
            return IngestResult(inserted=0, duplicates=0)
        with self._connection.transaction() as db:
            return ingest.ingest_samples(db, device, samples, received_at, clock_offset_s)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group the writes of the block into one transaction, so a flush of many devices commits once.

        Each write inside becomes a savepoint: one that raises is rolled back
        alone, and the caller may catch its error and go on with the others.
        """
        with self._connection.transaction():
            yield

    def record_notice(self, device: str, notice: StreamNotice, received_at: float | None = None,
                      stream: str | None = None) -> int:
        """Apply a hello, dropped or heartbeat line; return the dropped samples it newly counted.

        With ``received_at``, a hello line sets the stream's clock offset and
        every notice updates its receive time. ``stream`` names the stream of a
        heartbeat, which carries none; without it the device's latest stream is used.
        """
        with self._connection.transaction() as db:
            return ingest.record_notice(db, device, notice, received_at, stream)

    def record_garbage(self, device: str, count: int = 1, stream: str | None = None) -> None:
        """Count ``count`` invalid stream lines of the device, under ``stream`` or its latest stream."""
        with self._connection.transaction() as db:
            ingest.record_garbage(db, device, count, stream)

    # Queries

    def last_seq(self, device: str, stream: str) -> int | None:
        """Return the highest seq stored for the device's stream, or None before its first sample."""
        with self._connection.reading() as db:
            row = db.execute("SELECT last_seq FROM telemetry_streams WHERE device = ? AND stream = ?",
                             [device, stream]).fetchone()
        return row[0] if row else None

    def samples(self, device: str, since_ts: float, until_ts: float | None = None) -> list[dict[str, Any]]:
        """Return the samples with since_ts <= ts <= until_ts, oldest first, with error_rate and throughput_rps."""
        rows = self._select(
            f"SELECT {', '.join(SAMPLE_COLUMNS)} FROM telemetry_samples WHERE device = ? AND ts >= ? AND ts <= ? "
            "ORDER BY ts, stream, seq",
            [device, since_ts, _until(until_ts)],
        )
        return [sample_dict(row) for row in rows]

    def rollups(self, device: str, since_ts: float, until_ts: float | None = None) -> list[dict[str, Any]]:
        """Return the device's per-minute roll-ups of the minutes that overlap [since_ts, until_ts], oldest first."""
        rows = self._select(
            f"SELECT {', '.join(ROLLUP_COLUMNS)} FROM telemetry_rollups WHERE device = ? AND minute > ? "
            "AND minute <= ? ORDER BY minute",
            [device, since_ts - MINUTE_S, _until(until_ts)],
        )
        return [rollup_dict(row) for row in rows]

    def latest(self, device: str) -> dict[str, Any] | None:
        """Return the device's newest sample, or None when it has none."""
        rows = self._select(
            f"SELECT {', '.join(SAMPLE_COLUMNS)} FROM telemetry_samples WHERE device = ? "
            "ORDER BY ts DESC, seq DESC LIMIT 1",
            [device],
        )
        return sample_dict(rows[0]) if rows else None

    def recent(self, device: str, metric: str, count: int) -> list[float | None]:
        """Return the metric's values in the device's newest ``count`` samples, oldest first, for sparklines."""
        if metric not in SAMPLE_METRICS:
            raise ValueError(f"unknown telemetry metric {metric!r}: use one of {', '.join(SAMPLE_METRICS)}")
        with self._connection.reading() as db:
            rows = db.execute(
                f"SELECT {SAMPLE_METRICS[metric]} FROM telemetry_samples WHERE device = ? "
                "ORDER BY ts DESC, seq DESC LIMIT ?",
                [device, max(count, 0)],
            ).fetchall()
        return [row[0] for row in reversed(rows)]

    def streams(self, device: str | None = None) -> list[dict[str, Any]]:
        """Return the stream rows (last seq, clock offset, dropped, gaps, duplicates, garbage) of one device or all."""
        where, params = ("WHERE device = ?", [device]) if device is not None else ("", [])
        return self._select(
            f"SELECT {', '.join(STREAM_COLUMNS)} FROM telemetry_streams {where} "
            "ORDER BY device, coalesce(last_received_at, 0)",
            params,
        )

    def devices(self) -> list[str]:
        """Return the names of the devices that have telemetry streams or samples, sorted."""
        with self._connection.reading() as db:
            rows = db.execute(
                "SELECT device FROM telemetry_streams UNION SELECT DISTINCT device FROM telemetry_samples "
                "ORDER BY device"
            ).fetchall()
        return [row[0] for row in rows]

    # Retention

    def prune(self, now: float, raw_keep_s: float = DEFAULT_RAW_KEEP_S,
              rollup_keep_s: float = DEFAULT_ROLLUP_KEEP_S) -> tuple[int, int]:
        """Delete samples older than raw_keep_s and roll-ups older than rollup_keep_s in one transaction.

        Returns (samples deleted, roll-ups deleted). Resolved alerts older than
        rollup_keep_s go too.
        """
        with self._connection.transaction() as db:
            return prune_telemetry(db, now, raw_keep_s, rollup_keep_s)

    # Alert rules and alerts

    def rules(self) -> list[dict[str, Any]]:
        """Return every alert rule as a dict (id, name, metric, op, threshold, for_s, device, severity, enabled)."""
        with self._connection.reading() as db:
            return [rule.as_json() for rule in alert_rules.list_rules(db)]

    def add_rule(self, name: str, metric: str, op: str, threshold: float, for_s: float = 0.0,
                 device: str | None = None, severity: str = "watch", enabled: bool = True) -> dict[str, Any]:
        """Validate and add a rule; return it. Raise AlertRuleError, or DeviceNotFound for an unknown device."""
        rule = alert_rules.make_rule(name=name, metric=metric, op=op, threshold=threshold, for_s=for_s,
                                     device=device, severity=severity, enabled=enabled)
        with self._connection.transaction() as db:
            if device is not None:
                DeviceTable(self._connection).get(device)
            return alert_rules.insert_rule(db, rule).as_json()

    def remove_rule(self, name: str) -> None:
        """Delete a rule; its open alerts resolve at the next evaluation. Raise AlertRuleError for an unknown name."""
        with self._connection.transaction() as db:
            alert_rules.delete_rule(db, name)

    def set_rule_enabled(self, name: str, enabled: bool) -> None:
        """Enable or disable a rule; a disabled rule's open alerts resolve at the next evaluation."""
        with self._connection.transaction() as db:
            alert_rules.update_enabled(db, name, enabled)

    def evaluate_alerts(self, now: float, online: dict[str, float | None] | None = None) -> list[AlertChange]:
        """Open and resolve alerts against the enabled rules, in one transaction; return the changes.

        ``online`` maps the devices a collector streams to the receive time of
        their last line (None when nothing arrived yet).
        """
        with self._connection.transaction() as db:
            return alerts.evaluate_alerts(db, now, online)

    def alerts(self, open_only: bool = False, device: str | None = None,
               since: float | None = None) -> list[dict[str, Any]]:
        """Return alerts newest first; ``since`` keeps those open or resolved at or after that unix time."""
        with self._connection.reading() as db:
            return alerts.list_alerts(db, open_only=open_only, device=device, since=since)

    def _select(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        with self._connection.reading() as db:
            cursor = db.execute(sql, params)
            columns = [description[0] for description in cursor.description]
            return [dict(zip(columns, row)) for row in cursor.fetchall()]


def _until(until_ts: float | None) -> float:
    """Return the upper time bound of a query; None means no bound."""
    return float("inf") if until_ts is None else until_ts
