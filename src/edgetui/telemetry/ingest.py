"""Writing samples and stream notices: exactly once per (device, stream, seq), with stream counters.

Every function here runs inside the caller's transaction.
"""

import json
import logging
from dataclasses import dataclass

import sqlite_utils

from edgetui.telemetry.rollups import minute_of, recompute_rollups
from edgetui.telemetry.rows import SAMPLE_COLUMNS, sample_row
from edgetui.telemetry.samples import Sample, StreamNotice

log = logging.getLogger("edgetui.telemetry")

# Garbage that arrives before any hello line has no stream id; it is counted under this one.
UNKNOWN_STREAM = ""

_INSERT_SAMPLE_SQL = (
    f"INSERT OR IGNORE INTO telemetry_samples ({', '.join(SAMPLE_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in SAMPLE_COLUMNS)})"
)

# Creates the stream's row on first contact; the counters start at 0.
_ENSURE_STREAM_SQL = "INSERT OR IGNORE INTO telemetry_streams (device, stream) VALUES (?, ?)"


@dataclass(frozen=True)
class IngestResult:
    """Counts of one ingest call: samples stored, samples already stored before, and new gaps in seq."""

    inserted: int
    duplicates: int
    gaps: int = 0


def ingest_samples(db: sqlite_utils.Database, device: str, samples: list[Sample], received_at: float,
                   clock_offset_s: float) -> IngestResult:
    """Insert the samples that are new, update each stream's counters and the roll-ups of the minutes touched."""
    by_stream: dict[str, dict[int, Sample]] = {}
    for sample in samples:
        # The first copy of a seq within the batch wins, as INSERT OR IGNORE keeps the stored one.
        by_stream.setdefault(sample.stream, {}).setdefault(sample.seq, sample)

    inserted = gaps = 0
    minutes: set[int] = set()
    for stream, batch in by_stream.items():
        new = _new_samples(db, device, stream, batch)
        before = db.conn.total_changes
        db.conn.executemany(_INSERT_SAMPLE_SQL, [sample_row(device, sample, received_at, clock_offset_s)
                                                  for sample in new])
        stream_inserted = db.conn.total_changes - before
        stream_gaps = _update_stream(db, device, stream, new, len(batch) - stream_inserted,
                                     received_at, clock_offset_s)
        inserted += stream_inserted
        gaps += stream_gaps
        minutes.update(minute_of(sample.ts + clock_offset_s) for sample in new)

    recompute_rollups(db, device, minutes)
    duplicates = len(samples) - inserted
    if gaps:
        log.warning("%s: %d new gaps in seq; stored %d samples, skipped %d already stored",
                    device, gaps, inserted, duplicates)
    elif duplicates:
        log.info("%s: stored %d samples, skipped %d already stored", device, inserted, duplicates)
    return IngestResult(inserted=inserted, duplicates=duplicates, gaps=gaps)


def _new_samples(db: sqlite_utils.Database, device: str, stream: str, batch: dict[int, Sample]) -> list[Sample]:
    """Return the samples of the batch whose seq the stream has not stored yet, in seq order."""
    stored = {
        row[0] for row in db.execute(
            "SELECT seq FROM telemetry_samples WHERE device = ? AND stream = ? "
            "AND seq IN (SELECT value FROM json_each(?))",
            [device, stream, json.dumps(list(batch))],
        )
    }
    return [batch[seq] for seq in sorted(batch) if seq not in stored]


def _update_stream(db: sqlite_utils.Database, device: str, stream: str, new: list[Sample], duplicates: int,
                   received_at: float, clock_offset_s: float) -> int:
    """Update the stream's last seq, gap and duplicate counters, and return the number of new gaps.

    A gap is a jump in seq past the highest seq stored or reported dropped.
    The first sample of a stream the console has never seen opens no gap, and a
    late sample below the highest seq fills a hole without counting.
    """
    db.execute(_ENSURE_STREAM_SQL, [device, stream])
    last_seq, dropped_through = db.execute(
        "SELECT last_seq, dropped_through_seq FROM telemetry_streams WHERE device = ? AND stream = ?",
        [device, stream],
    ).fetchone()
    previous = max(last_seq or 0, dropped_through) or None

    gaps = 0
    for sample in new:
        if previous is not None and sample.seq <= previous:
            continue
        if previous is not None and sample.seq > previous + 1:
            gaps += 1
        previous = sample.seq

    newest_seq = max((sample.seq for sample in new), default=None)
    db.execute(
        "UPDATE telemetry_streams SET last_seq = max(coalesce(last_seq, 0), coalesce(?, 0)), "
        "gaps = gaps + ?, duplicates = duplicates + ?, clock_offset_s = ?, "
        "last_received_at = max(coalesce(last_received_at, 0), ?) WHERE device = ? AND stream = ?",
        [newest_seq, gaps, duplicates, clock_offset_s, received_at, device, stream],
    )
    return gaps


def record_notice(db: sqlite_utils.Database, device: str, notice: StreamNotice, received_at: float | None,
                  stream: str | None) -> int:
    """Apply a hello, dropped or heartbeat line to the stream's row; return the newly counted dropped samples.

    hello sets the clock offset (received_at - device_ts) when ``received_at``
    is given. dropped adds the part of its seq range not counted before to
    dropped_total and one gap. heartbeat, which names no stream, updates the
    receive time of ``stream`` or of the device's most recent stream.
    """
    stream = notice.stream or stream or _latest_stream(db, device)
    if stream is None:
        log.info("%s: %s line before any hello line; nothing recorded", device, notice.type)
        return 0
    db.execute(_ENSURE_STREAM_SQL, [device, stream])
    where = [device, stream]

    if received_at is not None:
        db.execute("UPDATE telemetry_streams SET last_received_at = max(coalesce(last_received_at, 0), ?) "
                   "WHERE device = ? AND stream = ?", [received_at, *where])
    if notice.type == "hello" and received_at is not None:
        offset = received_at - notice.device_ts
        db.execute("UPDATE telemetry_streams SET clock_offset_s = ? WHERE device = ? AND stream = ?",
                   [offset, *where])
        log.info("%s: stream %s hello, next seq %d, clock offset %.3f s", device, stream, notice.next_seq, offset)
    if notice.type != "dropped":
        return 0

    last_seq, dropped_through = db.execute(
        "SELECT last_seq, dropped_through_seq FROM telemetry_streams WHERE device = ? AND stream = ?", where
    ).fetchone()
    # Only seq numbers above everything stored or counted before are new losses,
    # so a range reported again after a reconnect counts once.
    start = max(notice.first_seq, dropped_through + 1, (last_seq or 0) + 1)
    if notice.last_seq < start:
        return 0
    newly_dropped = min(notice.count, notice.last_seq - start + 1)
    db.execute(
        "UPDATE telemetry_streams SET dropped_total = dropped_total + ?, gaps = gaps + 1, "
        "dropped_through_seq = ? WHERE device = ? AND stream = ?",
        [newly_dropped, notice.last_seq, *where],
    )
    log.warning("%s: stream %s dropped %d samples (seq %d to %d) before the console received them",
                device, stream, newly_dropped, start, notice.last_seq)
    return newly_dropped


def record_garbage(db: sqlite_utils.Database, device: str, count: int, stream: str | None) -> None:
    """Add ``count`` invalid lines to the counter of ``stream``, else of the device's most recent stream."""
    stream = stream or _latest_stream(db, device) or UNKNOWN_STREAM
    db.execute(_ENSURE_STREAM_SQL, [device, stream])
    db.execute("UPDATE telemetry_streams SET garbage = garbage + ? WHERE device = ? AND stream = ?",
               [count, device, stream])


def _latest_stream(db: sqlite_utils.Database, device: str) -> str | None:
    """Return the device's stream that received a line last, or None when it has none."""
    row = db.execute(
        "SELECT stream FROM telemetry_streams WHERE device = ? AND stream != ? "
        "ORDER BY coalesce(last_received_at, 0) DESC, rowid DESC LIMIT 1",
        [device, UNKNOWN_STREAM],
    ).fetchone()
    return row[0] if row else None
