"""Telemetry paths, the spool lock, state.json and the record of dropped seq ranges.

state.json: {"stream": "<16 hex>", "next_seq": int, "dropped_total": int,
"dropped": [[first_seq, last_seq], ...], "clean": bool, "boot_id": str or null}.
The first three keys are the shared contract. "dropped" lets a replay print a
"dropped" line at each gap, "clean" and "boot_id" let a writer tell a power cut
from a clean stop (see SpoolWriter.open).
"""

import binascii
import fcntl
import json
import logging
import os
import re
import time

from device_shim.release.files import ensure_dir, write_atomic

LOG = logging.getLogger(__name__)

TELEMETRY_DIR = "telemetry"
SEGMENT_PATTERN = re.compile(r"^(\d{12})\.jsonl$")
STREAM_ID_PATTERN = re.compile(r"^[0-9a-f]{16}$")

# Dropped ranges merge when adjacent, so trimming the oldest segments keeps
# one range. Only the seqs skipped after a power cut start a new one. Past
# this cap the oldest ranges are forgotten.
MAX_DROPPED_RANGES = 200

LOCK_WAIT_S = 30.0
LOCK_POLL_S = 0.02

BOOT_ID_PATH = "/proc/sys/kernel/random/boot_id"


class TelemetryPaths(object):
    """The telemetry files of one device, under HOME/.edgetui/telemetry."""

    def __init__(self, layout):
        self.layout = layout
        self.root = os.path.join(layout.root, TELEMETRY_DIR)
        self.state_file = os.path.join(self.root, "state.json")
        self.spool_dir = os.path.join(self.root, "spool")
        self.spool_lock = os.path.join(self.root, "spool.lock")


class SpoolLockTimeout(Exception):
    """Another process held telemetry/spool.lock for longer than LOCK_WAIT_S."""


class SpoolLock(object):
    """An exclusive flock on telemetry/spool.lock, held for every change of state.json or the segment list.

    The holders (the sampler in serve, and stream when it creates the state)
    keep it for a few file operations, so waiters poll instead of blocking forever.
    """

    def __init__(self, paths, wait_s=LOCK_WAIT_S):
        self.paths = paths
        self.wait_s = wait_s
        self.descriptor = None

    def __enter__(self):
        ensure_dir(self.paths.root)
        descriptor = os.open(self.paths.spool_lock, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except (IOError, OSError):
                if time.monotonic() >= deadline:
                    os.close(descriptor)
                    raise SpoolLockTimeout(
                        "{} was held by another process for more than {:.0f} s; "
                        "check for a hung serve or stream process".format(self.paths.spool_lock, self.wait_s)
                    )
                time.sleep(LOCK_POLL_S)
        self.descriptor = descriptor
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        fcntl.flock(self.descriptor, fcntl.LOCK_UN)
        os.close(self.descriptor)
        self.descriptor = None
        return False


def new_stream_id():
    """Return a random stream id: 16 lowercase hex digits."""
    return binascii.hexlify(os.urandom(8)).decode("ascii")


def current_boot_id():
    """Return the kernel's boot id, or None when unreadable.

    It is read from the real /proc, not the shim's root prefix, because it
    describes the kernel under the spool's disk, also on a simulated device.
    """
    try:
        with open(BOOT_ID_PATH, "r") as handle:
            return handle.read().strip() or None
    except (IOError, OSError):
        return None


def _valid_ranges(value):
    if not isinstance(value, list):
        return []
    ranges = []
    for item in value:
        if isinstance(item, list) and len(item) == 2 and all(_is_count(part) for part in item) and item[0] <= item[1]:
            ranges.append([item[0], item[1]])
    return sorted(ranges)


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def read_state(paths):
    """Return state.json as a dict with every key filled in, or None when it is missing or invalid."""
    try:
        with open(paths.state_file, "r") as handle:
            data = json.load(handle)
    except (IOError, OSError, ValueError):
        return None
    if not isinstance(data, dict) or not STREAM_ID_PATTERN.match(str(data.get("stream", ""))):
        return None
    if not _is_count(data.get("next_seq")) or data["next_seq"] < 1:
        return None
    return {
        "stream": data["stream"],
        "next_seq": data["next_seq"],
        "dropped_total": data["dropped_total"] if _is_count(data.get("dropped_total")) else 0,
        "dropped": _valid_ranges(data.get("dropped")),
        "clean": data.get("clean", True) is True,
        "boot_id": data.get("boot_id") if isinstance(data.get("boot_id"), str) else None,
    }


def write_state(paths, state):
    """Replace state.json atomically (temporary file, fsync, rename); the caller holds the SpoolLock."""
    data = json.dumps(state, sort_keys=True, separators=(",", ":")) + "\n"
    write_atomic(paths.state_file, data.encode("ascii"))


def fresh_state(stream=None, next_seq=1):
    """Return the state of a new stream, or of a recovered one when stream and next_seq are given."""
    return {
        "stream": stream or new_stream_id(),
        "next_seq": next_seq,
        "dropped_total": 0,
        "dropped": [],
        "clean": True,
        "boot_id": current_boot_id(),
    }


def ensure_state(paths):
    """Return the device's state, creating state.json when missing; takes the SpoolLock.

    When state.json is missing or unreadable but the spool has samples, the
    stream id and seq of the newest sample are kept, so the console does not
    see a new stream for the same samples. The dropped counts restart at 0.
    """
    state = read_state(paths)
    if state is not None:
        return state
    with SpoolLock(paths):
        state = read_state(paths)
        if state is not None:
            return state
        state = recover_state(paths)
        write_state(paths, state)
        return state


def recover_state(paths):
    """Build a state from the newest sample in the spool, or a new stream when there is none."""
    # Imported here: spool imports this module.
    from device_shim.telemetry.spool import newest_sample

    sample = newest_sample(paths)
    if sample is None or not STREAM_ID_PATTERN.match(str(sample.get("stream", ""))):
        if os.path.exists(paths.state_file):
            LOG.warning("%s is invalid; starting a new stream id", paths.state_file)
        return fresh_state()
    LOG.warning(
        "%s is missing or invalid; continuing stream %s after seq %d from the spool, dropped counts restart at 0",
        paths.state_file,
        sample["stream"],
        sample["seq"],
    )
    return fresh_state(sample["stream"], sample["seq"] + 1)


def list_segments(paths):
    """Return [(first seq, path)] of the spool's segments, oldest first."""
    try:
        names = os.listdir(paths.spool_dir)
    except OSError:
        return []
    segments = []
    for name in names:
        match = SEGMENT_PATTERN.match(name)
        if match:
            segments.append((int(match.group(1)), os.path.join(paths.spool_dir, name)))
    return sorted(segments)


def segment_path(paths, first_seq):
    """Return the path of the segment whose first sample has first_seq."""
    return os.path.join(paths.spool_dir, "{:012d}.jsonl".format(first_seq))


def add_dropped_ranges(state, seqs):
    """Record the sorted seqs as dropped in state; return how many of them were not recorded before."""
    ranges = [list(item) for item in state["dropped"]]
    added = 0
    for seq in seqs:
        if _covered(ranges, seq):
            continue
        added += 1
        if ranges and ranges[-1][1] == seq - 1:
            ranges[-1][1] = seq
        else:
            ranges.append([seq, seq])
            ranges.sort()
    state["dropped"] = _merge(ranges)[-MAX_DROPPED_RANGES:]
    state["dropped_total"] += added
    return added


def _covered(ranges, seq):
    for first, last in ranges:
        if first <= seq <= last:
            return True
    return False


def _merge(ranges):
    merged = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return merged


def dropped_between(state, after, before):
    """Return the dropped ranges clipped to the seqs after < seq < before, as [(first, last)]."""
    clipped = []
    for first, last in state["dropped"]:
        first = max(first, after + 1)
        last = min(last, before - 1)
        if first <= last:
            clipped.append((first, last))
    return clipped
