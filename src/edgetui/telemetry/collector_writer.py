"""The collector's database side: batched ingest, alert evaluation and pruning, one write at a time.

Device tasks add samples and notices on the event loop. A single writer task
passes them to the TelemetryStore in a worker thread at most every
``flush_interval`` seconds. So SQLite work never blocks the event loop, and two
of the collector's writes never compete for the database lock.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger("edgetui.telemetry.collector")


@dataclass
class _SampleGroup:
    """Consecutive samples of one device that share a clock offset, so one ingest call takes them."""

    samples: list[Any]
    received_at: float
    clock_offset_s: float


@dataclass
class _NoticeEntry:
    """A hello, dropped or heartbeat line, with its receive time and the stream it belongs to."""

    notice: Any
    received_at: float
    stream: str | None


@dataclass
class _GarbageEntry:
    """Invalid lines counted since the last flush for one stream."""

    count: int
    stream: str | None


@dataclass
class _Pending:
    """Entries of one device queued since the last flush, in arrival order."""

    entries: list[_SampleGroup | _NoticeEntry | _GarbageEntry] = field(default_factory=list)


@dataclass(frozen=True)
class WriteResult:
    """Counts the store returned for one device in one flush."""

    inserted: int = 0
    duplicates: int = 0
    gaps: int = 0
    dropped: int = 0


class TelemetryWriter:
    """Writes what the device tasks collect into a TelemetryStore, from one writer task.

    ``online()`` returns the last time each device sent a line (None when never)
    for alert evaluation. ``on_written(device, WriteResult)`` and
    ``on_alert(change)`` run on the event loop after each write.
    """

    def __init__(
        self,
        store: Any,
        *,
        online: Callable[[], dict[str, float | None]],
        on_written: Callable[[str, WriteResult], None],
        on_alert: Callable[[Any], None] | None = None,
        retention: tuple[float, float] = (86400.0, 30 * 86400.0),
        flush_interval: float = 0.5,
        alert_interval: float = 5.0,
        prune_interval: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._online = online
        self._on_written = on_written
        self._on_alert = on_alert
        self._retention = retention
        self._flush_interval = flush_interval
        self._alert_interval = alert_interval
        self._prune_interval = prune_interval
        self._clock = clock
        self._pending: dict[str, _Pending] = {}
        self._lock = asyncio.Lock()
        self.flushes = 0

    def add_sample(self, device: str, sample: Any, received_at: float, clock_offset_s: float) -> None:
        """Queue one sample for the next flush."""
        entries = self._pending.setdefault(device, _Pending()).entries
        last = entries[-1] if entries else None
        if isinstance(last, _SampleGroup) and last.clock_offset_s == clock_offset_s:
            last.samples.append(sample)
            last.received_at = received_at
            return
        entries.append(_SampleGroup([sample], received_at, clock_offset_s))

    def add_notice(self, device: str, notice: Any, received_at: float, stream: str | None) -> None:
        """Queue a hello, dropped or heartbeat line for the next flush, after the samples before it."""
        entries = self._pending.setdefault(device, _Pending()).entries
        last = entries[-1] if entries else None
        if notice.type == "heartbeat" and isinstance(last, _NoticeEntry) and last.notice.type == "heartbeat":
            # Only the newest receive time matters, so one heartbeat per flush is enough.
            entries[-1] = _NoticeEntry(notice, received_at, stream)
            return
        entries.append(_NoticeEntry(notice, received_at, stream))

    def add_garbage(self, device: str, stream: str | None) -> None:
        """Count one invalid line of the device for the next flush."""
        entries = self._pending.setdefault(device, _Pending()).entries
        last = entries[-1] if entries else None
        if isinstance(last, _GarbageEntry) and last.stream == stream:
            last.count += 1
            return
        entries.append(_GarbageEntry(1, stream))

    async def run(self) -> None:
        """Flush every flush_interval, evaluate alerts every alert_interval and prune every prune_interval, until cancelled."""
        loop_clock = time.monotonic
        next_alerts = loop_clock() + self._alert_interval
        # Pruning at start clears what piled up while no console ran.
        next_prune = loop_clock()
        while True:
            await asyncio.sleep(self._flush_interval)
            await self.flush()
            now = loop_clock()
            if now >= next_alerts:
                next_alerts = now + self._alert_interval
                await self.evaluate_alerts()
            if now >= next_prune:
                next_prune = now + self._prune_interval
                await self.prune()

    async def flush(self) -> None:
        """Write every queued sample and notice in a worker thread."""
        if not self._pending:
            return
        batch, self._pending = self._pending, {}
        results = await self._in_thread(self._write, batch)
        self.flushes += 1
        for device, result in results.items():
            self._on_written(device, result)

    async def evaluate_alerts(self) -> None:
        """Evaluate the alert rules against the stored samples and report what opened or resolved."""
        online = self._online()
        try:
            changes = await self._in_thread(self._store.evaluate_alerts, self._clock(), online)
        except Exception:
            # The next evaluation runs in alert_interval seconds; collecting goes on meanwhile.
            logger.exception("Evaluating alert rules failed")
            return
        for change in changes:
            logger.info("Alert change: %s", change)
            if self._on_alert is not None:
                self._on_alert(change)

    async def prune(self) -> None:
        """Delete raw samples and rollups older than the retention."""
        raw_keep_s, rollup_keep_s = self._retention
        try:
            raw, rollups = await self._in_thread(self._store.prune, self._clock(), raw_keep_s, rollup_keep_s)
        except Exception:
            logger.exception("Pruning old telemetry failed")
            return
        logger.info("Pruned %d raw samples and %d rollups", raw, rollups)

    async def _in_thread(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run one store call in a worker thread, one at a time.

        A caller cancelled meanwhile (the collector stopping) still waits for
        the thread, because the store is closed after the stop returns and
        must not be closed under a running write.
        """
        async with self._lock:
            work = asyncio.ensure_future(asyncio.to_thread(function, *args))
            try:
                return await asyncio.shield(work)
            except asyncio.CancelledError:
                await asyncio.wait({work})
                raise

    def _write(self, batch: dict[str, _Pending]) -> dict[str, WriteResult]:
        """Store each device's queued entries in order and total what the store counted; runs in a worker thread."""
        results = {}
        # One commit per flush rather than one per device: with 200 devices the
        # per-device commits were the collector's largest CPU cost.
        with self._store.batch():
            for device, pending in batch.items():
                results[device] = self._write_device(device, pending)
        return results

    def _write_device(self, device: str, pending: _Pending) -> WriteResult:
        """Store one device's queued entries in order and total what the store counted."""
        inserted = duplicates = gaps = dropped = 0
        for entry in pending.entries:
            try:
                if isinstance(entry, _SampleGroup):
                    result = self._store.ingest(device, entry.samples, entry.received_at, entry.clock_offset_s)
                    inserted += result.inserted
                    duplicates += result.duplicates
                    gaps += result.gaps
                elif isinstance(entry, _NoticeEntry):
                    dropped += self._store.record_notice(device, entry.notice, entry.received_at, entry.stream)
                else:
                    self._store.record_garbage(device, entry.count, entry.stream)
            except Exception:
                # NOTE: the samples of a failed write are lost, because the collector
                # has moved past their seq and does not request them again.
                logger.exception("Storing telemetry of device %s failed: %s", device, _describe(entry))
        return WriteResult(inserted, duplicates, gaps, dropped)


def _describe(entry: _SampleGroup | _NoticeEntry | _GarbageEntry) -> str:
    """Name a queued entry for an error message."""
    if isinstance(entry, _SampleGroup):
        seqs = [sample.seq for sample in entry.samples]
        return f"{len(seqs)} samples, seq {min(seqs)} to {max(seqs)}"
    if isinstance(entry, _NoticeEntry):
        return f"a {entry.notice.type} line"
    return f"a count of {entry.count} invalid lines"
