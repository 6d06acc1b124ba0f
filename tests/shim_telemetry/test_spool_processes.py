"""A writer process and a reader in this process share the spool: every seq arrives exactly once."""

import json
import subprocess
import sys
import time

from device_shim.telemetry.spool_reader import SpoolReader
from device_shim.telemetry.state import TelemetryPaths, ensure_state
from stream_fixtures import WAIT_S, make_layout, segment_names, shim_env, stop_process, wait_until

WRITER = """
import os, sys, time
from device_shim.release.paths import Layout
from device_shim.telemetry.spool import SpoolWriter
home, count, bound, pause, go_file = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
writer = SpoolWriter(Layout(home), bound)
writer.open()
for index in range(count):
    writer.append({"type": "sample", "stream": None, "seq": None, "ts": time.time(), "requests": index})
    time.sleep(pause)
    # After the first line, wait (bounded) for the test's go file when it named one.
    deadline = time.monotonic() + 30
    while index == 0 and go_file and not os.path.exists(go_file) and time.monotonic() < deadline:
        time.sleep(0.01)
writer.close()
"""


def start_writer(layout, count, bound, pause, go_file=""):
    """Start the writer process; with go_file it writes one line, then waits for that file to exist."""
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, layout.home, str(count), str(bound), str(pause), str(go_file)],
        env=shim_env(),
        stderr=subprocess.PIPE,
    )


def follow_until(reader, last_seq, writer):
    """Collect parsed lines until last_seq has been read; bounded by WAIT_S."""
    lines = []
    deadline = time.monotonic() + WAIT_S
    while reader.last_seq < last_seq and time.monotonic() < deadline:
        batch = reader.read_available()
        lines.extend(json.loads(line) for line in batch)
        if not batch:
            time.sleep(0.01)
    assert reader.last_seq == last_seq, "reader stopped at seq {}; writer status {}".format(reader.last_seq, writer.poll())
    return lines


def test_spool_two_processes_every_seq_once(tmp_path):
    layout = make_layout(tmp_path)
    paths = TelemetryPaths(layout)
    # The reader starts first and creates the state that the writer then continues.
    stream = ensure_state(paths)["stream"]
    reader = SpoolReader(paths, stream, 0)
    # A bound of 800 gives segments of 100 lines, so the reader crosses 5 segment switches.
    writer = start_writer(layout, 600, 800, 0.001)
    try:
        lines = follow_until(reader, 600, writer)
        assert writer.wait(WAIT_S) == 0, writer.stderr.read().decode()
    finally:
        stop_process(writer)
        reader.close()

    seqs = [line["seq"] for line in lines]
    assert seqs == list(range(1, 601))
    assert {line["stream"] for line in lines} == {stream}
    assert reader.skipped_lines == 0


def test_spool_two_processes_with_trimming(tmp_path):
    layout = make_layout(tmp_path)
    paths = TelemetryPaths(layout)
    stream = ensure_state(paths)["stream"]
    # Segments of 5 lines and a bound of 40. The reader reads the first lines,
    # then falls behind until the writer has finished, so the segments it had
    # not reached are trimmed and must come back as "dropped" lines.
    go_file = tmp_path / "go"
    writer = start_writer(layout, 400, 40, 0.001, go_file)
    reader = SpoolReader(paths, stream, 0)
    lines = []
    try:
        first = wait_until(reader.read_available)
        assert first, "the writer wrote no line within {} s".format(WAIT_S)
        go_file.write_text("go")
        lines.extend(json.loads(line) for line in first)
        assert writer.wait(WAIT_S) == 0, writer.stderr.read().decode()
        oldest_kept = int(segment_names(layout)[0].split(".")[0])
        lines.extend(follow_until(reader, 400, writer))
    finally:
        stop_process(writer)
        reader.close()

    covered = []
    for line in lines:
        if line["type"] == "sample":
            covered.append(line["seq"])
        else:
            assert line["type"] == "dropped"
            assert line["count"] == line["last_seq"] - line["first_seq"] + 1
            covered.extend(range(line["first_seq"], line["last_seq"] + 1))
    assert covered == list(range(1, 401))
    dropped = [line for line in lines if line["type"] == "dropped"]
    assert len(dropped) == 1
    # The gap ends where the spool's oldest segment begins.
    assert dropped[0]["last_seq"] == oldest_kept - 1
    assert oldest_kept >= 400 - 40
