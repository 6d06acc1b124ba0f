"""Telemetry as JSON-ready dicts and as CSV or JSON files, for the CLI's output and `export telemetry`."""

import csv
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from edgetui.telemetry.rows import SAMPLE_COLUMNS

# CSV columns: the stored columns with the derived rates after the counts they come from.
CSV_COLUMNS = (
    *SAMPLE_COLUMNS[:9], "error_rate", "throughput_rps", *SAMPLE_COLUMNS[9:],
)


def iso_utc(ts: float | None) -> str | None:
    """Format unix seconds as ISO 8601 in UTC with milliseconds, such as 2025-12-05T00:00:01.000+00:00."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


def sample_json(sample: dict[str, Any]) -> dict[str, Any]:
    """Return a sample dict with ts as ISO 8601 UTC text; device_ts and received_at stay unix seconds."""
    return {**sample, "ts": iso_utc(sample["ts"])}


def rollup_json(rollup: dict[str, Any]) -> dict[str, Any]:
    """Return a roll-up dict with its minute as ISO 8601 UTC text."""
    return {**rollup, "minute": iso_utc(rollup["minute"])}


def alert_json(alert: dict[str, Any]) -> dict[str, Any]:
    """Return an alert dict with opened_at and resolved_at as ISO 8601 UTC text."""
    return {**alert, "opened_at": iso_utc(alert["opened_at"]), "resolved_at": iso_utc(alert["resolved_at"])}


def write_samples(out: TextIO, samples: Iterable[dict[str, Any]], file_format: str) -> int:
    """Write samples as CSV (a header row, then one row per sample) or as one JSON list; return the count."""
    count = 0
    if file_format == "csv":
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for sample in samples:
            writer.writerow(_csv_row(sample))
            count += 1
        return count

    # JSON is written one sample at a time, so a day of a large fleet never sits in memory at once.
    out.write("[")
    for sample in samples:
        out.write(",\n  " if count else "\n  ")
        out.write(json.dumps(sample_json(sample)))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def _csv_row(sample: dict[str, Any]) -> dict[str, Any]:
    row = sample_json(sample)
    row["serving"] = int(row["serving"])
    return row


@contextmanager
def atomic_text_file(path: Path) -> Iterator[TextIO]:
    """Open a temporary file beside ``path`` for writing and rename it over ``path`` when the block succeeds.

    Readers never see a half-written file, and a failed export leaves an
    existing file as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
