"""Follows the spool by position: replays the lines after a seq, then each new one as it is appended.

Readers (stream processes) never take the spool lock: only the newest segment
grows, and the writer records dropped seqs in state.json before it removes
a segment, so a reader that finds a gap reads the range that explains it.
"""

import json
import logging

from device_shim.telemetry.spool import READ_CHUNK_BYTES, parse_sample_line
from device_shim.telemetry.state import dropped_between, list_segments, read_state

LOG = logging.getLogger(__name__)


class SpoolReader(object):
    """Reads the spool's lines with seq > after, oldest first, and keeps following new ones.

    read_available() returns the lines to print (str, without newline): the
    samples, with a "dropped" line before each gap that the writer trimmed.
    It does not wait for new lines: an empty list means nothing new yet.
    """

    def __init__(self, paths, stream, after=0):
        self.paths = paths
        self.stream = stream
        self.last_seq = after
        self.skipped_lines = 0
        self._handle = None
        self._segment_first = None
        self._partial = b""

    def close(self):
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def read_available(self, max_lines=1000):
        """Return the new lines, at most max_lines plus one read chunk; [] when the spool has nothing newer."""
        lines = []
        while len(lines) < max_lines:
            if self._handle is None and not self._open_start_segment():
                return lines
            chunk = self._handle.read(READ_CHUNK_BYTES)
            if chunk:
                self._consume(chunk, lines)
                continue
            # At the end of this segment: move on only when a newer one exists,
            # and only after reading once more, because the writer creates the
            # newer segment after its last write to this one.
            newer = self._newer_segment()
            if newer is None:
                return lines
            chunk = self._handle.read()
            if chunk:
                self._consume(chunk, lines)
            if self._partial:
                self._skip_line(self._partial, "torn line at the end of segment {:012d}".format(self._segment_first))
                self._partial = b""
            self._switch_to(newer)
        return lines

    def _consume(self, chunk, lines):
        data = self._partial + chunk
        complete, separator, self._partial = data.rpartition(b"\n")
        if not separator:
            self._partial = data
            return
        for raw in complete.split(b"\n"):
            if not raw.strip():
                continue
            sample = parse_sample_line(raw)
            if sample is None:
                self._skip_line(raw, "invalid line in segment {:012d}".format(self._segment_first))
                continue
            seq = sample["seq"]
            if seq <= self.last_seq:
                continue
            if seq > self.last_seq + 1:
                lines.extend(self._dropped_lines(seq))
            lines.append(raw.decode("ascii", "replace"))
            self.last_seq = seq

    def _dropped_lines(self, seq):
        """Return the "dropped" lines for the recorded ranges between the last printed seq and seq."""
        state = read_state(self.paths)
        if state is None or state["stream"] != self.stream:
            return []
        notices = []
        for first, last in dropped_between(state, self.last_seq, seq):
            notice = {
                "type": "dropped",
                "stream": self.stream,
                "first_seq": first,
                "last_seq": last,
                "count": last - first + 1,
            }
            notices.append(json.dumps(notice, separators=(",", ":")))
        return notices

    def _skip_line(self, raw, reason):
        self.skipped_lines += 1
        LOG.warning("skipped a %s: %r", reason, raw[:80])

    def _open_start_segment(self):
        """Open the newest segment that can hold last_seq + 1; return False when the spool is empty."""
        while True:
            segments = list_segments(self.paths)
            if not segments:
                return False
            start = segments[0]
            for segment in segments:
                if segment[0] <= self.last_seq + 1:
                    start = segment
            try:
                self._handle = open(start[1], "rb")
            except (IOError, OSError):
                # Trimmed between the listing and the open: list again.
                continue
            self._segment_first = start[0]
            self._partial = b""
            return True

    def _newer_segment(self):
        for first, path in list_segments(self.paths):
            if first > self._segment_first:
                return first, path
        return None

    def _switch_to(self, segment):
        self.close()
        try:
            self._handle = open(segment[1], "rb")
        except (IOError, OSError):
            # Trimmed before this reader got to it: start again from the listing.
            self._handle = None
            return
        self._segment_first = segment[0]
        self._partial = b""
