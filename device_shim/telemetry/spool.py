"""The bounded on-disk spool of sample lines: one writer (the sampler in serve), many readers (stream).

Segments are telemetry/spool/<first seq, 12 digits>.jsonl with at most
SEGMENT_MAX_LINES lines each, every line the exact JSON line that stream
prints. The writer appends each line with one write(2) on an O_APPEND file,
and only the newest segment ever grows, so a reader follows the files by
position without taking the lock.
"""

import json
import logging
import math
import os
import time

from device_shim.release.files import ensure_dir, fsync_dir
from device_shim.telemetry.state import (
    SpoolLock,
    TelemetryPaths,
    add_dropped_ranges,
    current_boot_id,
    ensure_state,
    list_segments,
    read_state,
    recover_state,
    segment_path,
    write_state,
)

LOG = logging.getLogger(__name__)

SEGMENT_MAX_LINES = 3600
# Small bounds get smaller segments, so trimming whole segments keeps at least
# 7/8 of the bound.
SEGMENT_FRACTION = 8

# Durability: each line goes to the kernel at once (one write(2), no buffer),
# and the segment is fsynced by the first append SYNC_INTERVAL_S or more after
# the previous fsync, and when it is closed. A power cut can lose the last
# SYNC_INTERVAL_S (plus one interval) of samples; SpoolWriter.open accounts for that.
SYNC_INTERVAL_S = 10.0

READ_CHUNK_BYTES = 256 * 1024
TAIL_BYTES = 64 * 1024


def parse_sample_line(data):
    """Return the sample dict of one spool line (bytes, without newline), or None when it is not a sample."""
    try:
        sample = json.loads(data.decode("utf-8"))
    except ValueError:
        return None
    if not isinstance(sample, dict):
        return None
    seq = sample.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        return None
    return sample


def read_samples(path):
    """Return the valid samples of a segment, in file order; torn and invalid lines are skipped."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except (IOError, OSError):
        return []
    samples = []
    for line in data.split(b"\n"):
        sample = parse_sample_line(line) if line.strip() else None
        if sample is not None:
            samples.append(sample)
    return samples


def last_sample_in(path):
    """Return the last valid sample of a segment, reading only its tail, or None."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - TAIL_BYTES))
            tail = handle.read()
    except (IOError, OSError):
        return None
    for line in reversed(tail.split(b"\n")):
        sample = parse_sample_line(line) if line.strip() else None
        if sample is not None:
            return sample
    return None


def first_sample_in(path):
    """Return the first valid sample of a segment, or None."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(TAIL_BYTES)
    except (IOError, OSError):
        return None
    for line in head.split(b"\n"):
        sample = parse_sample_line(line) if line.strip() else None
        if sample is not None:
            return sample
    return None


def newest_sample(paths):
    """Return the newest valid sample in the spool, or None when it has none."""
    for _, path in reversed(list_segments(paths)):
        sample = last_sample_in(path)
        if sample is not None:
            return sample
    return None


def oldest_seq(paths):
    """Return the seq of the oldest valid sample in the spool, or None when it has none."""
    for _, path in list_segments(paths):
        sample = first_sample_in(path)
        if sample is not None:
            return sample["seq"]
    return None


def spool_status(paths):
    """Return the hello fields {stream, next_seq, oldest_seq, dropped_total}, creating the state when missing."""
    state = ensure_state(paths)
    newest = newest_sample(paths)
    next_seq = state["next_seq"]
    # The writer persists next_seq when it rolls a segment, so the newest line may be ahead of state.json.
    if newest is not None and newest.get("stream") == state["stream"]:
        next_seq = max(next_seq, newest["seq"] + 1)
    return {
        "stream": state["stream"],
        "next_seq": next_seq,
        "oldest_seq": oldest_seq(paths),
        "dropped_total": state["dropped_total"],
    }


def segment_lines_for(max_samples):
    """Return the number of lines per segment for a spool bound of max_samples."""
    return max(1, min(SEGMENT_MAX_LINES, max_samples // SEGMENT_FRACTION))


def count_lines(path):
    """Return the number of newline-terminated lines in a file."""
    count = 0
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(READ_CHUNK_BYTES)
            if not chunk:
                return count
            count += chunk.count(b"\n")


def encode_line(sample):
    """Return a sample as one compact ASCII JSON line with its newline, as bytes."""
    return (json.dumps(sample, separators=(",", ":"), allow_nan=False) + "\n").encode("ascii")


class SpoolWriter(object):
    """Appends samples to the spool, assigns their seq and keeps the spool within max_samples lines.

    One writer per HOME: serve holds telemetry/serve.lock while its sampler writes.
    """

    def __init__(self, layout, max_samples=86400, interval_s=1.0):
        if not isinstance(max_samples, int) or max_samples < 1:
            raise ValueError("spool max_samples must be an integer >= 1, got {!r}".format(max_samples))
        self.paths = TelemetryPaths(layout)
        self.max_samples = max_samples
        self.interval_s = interval_s
        self.segment_lines = segment_lines_for(max_samples)
        self.state = None
        self.next_seq = None
        self._descriptor = None
        self._segment_first = None
        self._segment_count = 0
        self._total = 0
        self._last_sync = 0.0
        self._needs_newline = False

    @property
    def stream(self):
        return self.state["stream"] if self.state else None

    def open(self):
        """Recover the spool's state, end a torn last line, and mark the state as in use (not clean)."""
        ensure_dir(self.paths.spool_dir)
        with SpoolLock(self.paths):
            state = read_state(self.paths) or recover_state(self.paths)
            segments = list_segments(self.paths)
            if segments:
                self._end_torn_line(segments[-1][1])

            next_seq = state["next_seq"]
            newest = newest_sample(self.paths)
            if newest is not None and newest.get("stream") == state["stream"]:
                next_seq = max(next_seq, newest["seq"] + 1)
            next_seq += self._seqs_to_skip(state)

            self._total = sum(count_lines(path) for _, path in segments)
            if segments:
                self._segment_first = segments[-1][0]
                self._segment_count = count_lines(segments[-1][1])

            state["next_seq"] = next_seq
            state["clean"] = False
            state["boot_id"] = current_boot_id()
            write_state(self.paths, state)
            self.state = state
            self.next_seq = next_seq
        LOG.info(
            "spool %s opened: stream %s, next seq %d, %d lines in %d segments",
            self.paths.spool_dir,
            state["stream"],
            next_seq,
            self._total,
            len(segments),
        )
        self._trim_if_over_bound()

    def _seqs_to_skip(self, state):
        """Return how many seqs to skip so that no seq repeats after a power cut.

        After a power cut the lines written in the last SYNC_INTERVAL_S may be
        gone from disk although a console already received them. Reusing their
        seqs would make the console drop the new samples as duplicates. A crash
        of serve alone (same boot id) loses nothing that was flushed.
        """
        if state["clean"]:
            return 0
        boot_id = current_boot_id()
        if boot_id is not None and boot_id == state["boot_id"]:
            return 0
        skip = int(math.ceil(SYNC_INTERVAL_S / max(self.interval_s, 0.001))) + 1
        LOG.warning("the spool was not closed cleanly before a reboot; skipping %d seqs so none repeats", skip)
        return skip

    def _end_torn_line(self, path):
        """End a torn last line (a write cut short by a crash) so the next line starts on its own."""
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() == 0:
                return
            handle.seek(-1, os.SEEK_END)
            last = handle.read(1)
        if last != b"\n":
            LOG.warning("segment %s ends in a torn line; readers skip it", path)
            with open(path, "ab") as handle:
                handle.write(b"\n")

    def append(self, sample):
        """Give sample the stream id and the next seq, write it as one line, and return the line (bytes).

        The seq is used up only when the whole line was written, so a failed
        write (disk full) is retried with the same seq.
        """
        if self.state is None:
            raise RuntimeError("SpoolWriter.append called before open()")
        sample["stream"] = self.state["stream"]
        sample["seq"] = self.next_seq
        line = encode_line(sample)

        if self._descriptor is None or self._segment_count >= self.segment_lines:
            self._roll()
        if self._needs_newline:
            # The last write may have stopped mid-line; an empty line is skipped by readers.
            line = b"\n" + line
        try:
            self._write_all(line)
        except OSError:
            self._needs_newline = True
            raise
        self._needs_newline = False

        self.next_seq += 1
        self._segment_count += 1
        self._total += 1
        if time.monotonic() - self._last_sync >= SYNC_INTERVAL_S:
            os.fsync(self._descriptor)
            self._last_sync = time.monotonic()
        if self._total > self.max_samples:
            self._trim_if_over_bound()
        return line.lstrip(b"\n")

    def _write_all(self, data):
        view = memoryview(data)
        while view:
            written = os.write(self._descriptor, view)
            view = view[written:]

    def _roll(self):
        """Close the full (or missing) segment and start one named after the next seq."""
        reuse = self._descriptor is None and self._segment_first is not None
        if reuse and self._segment_count < self.segment_lines:
            # After open(): keep appending to the newest segment while it has room.
            path = segment_path(self.paths, self._segment_first)
        else:
            self._close_segment()
            self._segment_first = self.next_seq
            self._segment_count = 0
            path = segment_path(self.paths, self._segment_first)
            with SpoolLock(self.paths):
                self.state["next_seq"] = self.next_seq
                write_state(self.paths, self.state)
        self._descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        fsync_dir(self.paths.spool_dir)
        self._last_sync = time.monotonic()

    def _close_segment(self):
        if self._descriptor is not None:
            os.fsync(self._descriptor)
            os.close(self._descriptor)
            self._descriptor = None

    def _trim_if_over_bound(self):
        """Delete the oldest segments until the spool contains at most max_samples lines.

        The dropped seqs go into state.json before the files are removed, so
        a reader that finds a gap can always find the range that explains it.
        The segment being written is never removed.
        """
        if self._total <= self.max_samples:
            return
        with SpoolLock(self.paths):
            segments = list_segments(self.paths)
            doomed = []
            remaining = self._total
            for first, path in segments[:-1]:
                if remaining <= self.max_samples:
                    break
                lines = count_lines(path)
                seqs = sorted(sample["seq"] for sample in read_samples(path))
                doomed.append((path, lines, seqs))
                remaining -= lines
            if not doomed:
                return
            added = 0
            for _, _, seqs in doomed:
                added += add_dropped_ranges(self.state, seqs)
            self.state["next_seq"] = self.next_seq
            write_state(self.paths, self.state)
            for path, lines, _ in doomed:
                os.unlink(path)
                self._total -= lines
            fsync_dir(self.paths.spool_dir)
        LOG.info(
            "spool over its bound of %d samples: removed %d oldest segments, %d samples dropped (%d in total)",
            self.max_samples,
            len(doomed),
            added,
            self.state["dropped_total"],
        )

    def close(self):
        """fsync and close the segment, and record a clean stop in state.json."""
        if self.state is None:
            return
        self._close_segment()
        with SpoolLock(self.paths):
            self.state["next_seq"] = self.next_seq
            self.state["clean"] = True
            write_state(self.paths, self.state)
        LOG.info("spool %s closed at next seq %d", self.paths.spool_dir, self.next_seq)
        self.state = None
