"""Telemetry as JSON-ready dicts and as CSV or JSON files, for the CLI's output and `export telemetry`."""

import csv
import json
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from edgetui.errors import InputError
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


def check_output_path(text: str, option: str = "--output", example: str = "telemetry.csv") -> Path:
    """Return ``text`` as the path of a file to write; raise InputError when it names a folder or one is missing.

    The text is checked before pathlib drops a trailing "/", because "out/"
    means a folder even when no folder of that name exists yet. ``example``
    is the file name that the error suggests.
    """
    path = Path(text).expanduser()
    if text.endswith(("/", os.sep)):
        raise InputError(f"{option} {text!r} ends with '/', so it names a folder, not a file. "
                         f"Give a file path, such as {path / example}.")
    if path.is_dir():
        raise InputError(f"{option} {text!r} is a folder, not a file. Give a file path, such as {path / example}.")

    folder = path.parent
    if not folder.exists():
        raise InputError(f"The folder {folder} of {option} {text!r} does not exist. "
                         f"Create it first (mkdir -p {folder}) or choose a file in an existing folder.")
    if not folder.is_dir():
        raise InputError(f"{folder} in {option} {text!r} is a file, not a folder. Choose a path in a folder.")
    return path


@contextmanager
def atomic_text_file(path: Path) -> Iterator[TextIO]:
    """Open a temporary file beside ``path`` for writing and rename it over ``path`` when the block succeeds.

    Readers never see a half-written file, and a failed export leaves an
    existing file as it was. The folder must exist. The file gets the mode of
    the file it replaces, or 0666 minus the umask for a new file, as open() gives it.
    """
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates the file with mode 0600, which would hide the export from the user's group.
        os.chmod(temporary, _mode_for(path))
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _mode_for(path: Path) -> int:
    """Return the permission bits of the file at ``path``, else 0666 minus the process umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        pass
    # os.umask can only be read by setting it, so set it back at once.
    # NOTE: another thread creating a file between the two calls would get umask 0.
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask
