"""The device's update journal: .edgetui/journal.jsonl, one JSON object per line, fsynced."""

import json
import os
import time

from device_shim.release.files import ensure_dir, fsync_dir

TAIL_READ_BYTES = 256 * 1024


def utc_timestamp(epoch=None):
    """Return an ISO 8601 UTC timestamp with seconds, such as 2026-12-04T21:00:00Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if epoch is None else epoch))


def append(layout, command, release, state, detail=None, trigger=None):
    """Append one entry {ts, command, release, state, detail[, trigger]} and fsync file and folder."""
    entry = {
        "ts": utc_timestamp(),
        "command": command,
        "release": release,
        "state": state,
        "detail": detail or {},
    }
    if trigger is not None:
        entry["trigger"] = trigger
    line = (json.dumps(entry, sort_keys=True) + "\n").encode("utf-8")
    ensure_dir(layout.root)
    created = not os.path.exists(layout.journal)
    # O_APPEND makes each entry one write at the end, even with several writers.
    descriptor = os.open(layout.journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, line)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    if created:
        fsync_dir(layout.root)
    return entry


def tail(layout, count=20):
    """Return the last count journal entries, oldest first; unreadable lines are skipped."""
    try:
        with open(layout.journal, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - TAIL_READ_BYTES))
            data = handle.read()
    except (IOError, OSError):
        return []
    entries = []
    for line in data.splitlines()[-count:]:
        try:
            entries.append(json.loads(line.decode("utf-8")))
        except ValueError:
            continue
    return entries
