"""Per-minute roll-ups of the raw samples, recomputed from the raw rows of each minute touched.

Recomputing from the raw rows, instead of adding each sample to a running
total, means a sample that arrives late (a spool replay after a reconnect)
corrects its minute, and a duplicate cannot count twice.
"""

import sqlite_utils

MINUTE_S = 60

# Bound by device and by a [start, end) range of whole minutes. Aggregates:
# p50 and CPU are means, p95, p99 and the other gauges are maxima, release is
# the one of the minute's newest sample. A row's minute is computed as in
# `minute_of`, so a ts that rounds across a minute boundary lands in the same
# minute here as in Python. The ts filter is one second wider than the range
# for that reason, and HAVING drops the partial groups the margin lets in.
_RECOMPUTE_SQL = """
INSERT OR REPLACE INTO telemetry_rollups (
    device, minute, samples, interval_s, requests, errors, latency_ms_p50, latency_ms_p95, latency_ms_p99,
    cpu_percent, mem_used_mb, temp_c, drift_psi, drift_input_psi, release
)
SELECT
    s.device,
    CAST(s.ts / 60 AS INTEGER) * 60 AS minute,
    count(*),
    sum(s.interval_s),
    sum(s.requests),
    sum(s.errors),
    avg(s.latency_ms_p50),
    max(s.latency_ms_p95),
    max(s.latency_ms_p99),
    avg(s.cpu_percent),
    max(s.mem_used_mb),
    max(s.temp_c),
    max(s.drift_psi),
    max(s.drift_input_psi),
    (SELECT newest.release FROM telemetry_samples AS newest
      WHERE newest.device = s.device
        AND newest.ts >= CAST(s.ts / 60 AS INTEGER) * 60 - 1
        AND newest.ts < CAST(s.ts / 60 AS INTEGER) * 60 + 61
        AND CAST(newest.ts / 60 AS INTEGER) = CAST(s.ts / 60 AS INTEGER)
      ORDER BY newest.ts DESC, newest.seq DESC LIMIT 1)
FROM telemetry_samples AS s
WHERE s.device = ? AND s.ts >= ? - 1 AND s.ts < ? + 1
GROUP BY minute
HAVING minute >= ? AND minute < ?
"""


def minute_of(ts: float) -> int:
    """Return the unix seconds of the start of the minute that contains ``ts`` (a positive time).

    Truncated division, as SQLite's CAST(ts / 60 AS INTEGER) computes it, so
    Python and SQL put a sample in the same minute.
    """
    return int(ts / MINUTE_S) * MINUTE_S


def recompute_rollups(db: sqlite_utils.Database, device: str, minutes: set[int]) -> None:
    """Rewrite the roll-up rows of ``device`` for ``minutes`` from the raw samples, inside the caller's transaction.

    Consecutive minutes share one statement, so a replay of hours of samples
    costs one grouped query per run of minutes rather than one per minute.
    """
    # NOTE: a minute whose raw rows were already pruned is rebuilt from the rows
    # that remain, so a sample that arrives after the raw retention shrinks its roll-up.
    for start, end in _minute_ranges(minutes):
        db.execute(_RECOMPUTE_SQL, [device, start, end, start, end])


def _minute_ranges(minutes: set[int]) -> list[tuple[int, int]]:
    """Group minute starts into [start, end) ranges of consecutive minutes."""
    ranges: list[tuple[int, int]] = []
    for minute in sorted(minutes):
        if ranges and ranges[-1][1] == minute:
            ranges[-1] = (ranges[-1][0], minute + MINUTE_S)
        else:
            ranges.append((minute, minute + MINUTE_S))
    return ranges
