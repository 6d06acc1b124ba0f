"""`python -m device_shim stream` as a real subprocess against a real spool.

serve.pid names a sleeping process with `serve` on its command line, so
stream finds serve running and starts none. The samples come from a
SpoolWriter in this test process.
"""

import json
import os
import subprocess
import sys

import pytest

from device_shim import __version__
from device_shim.telemetry.state import TelemetryPaths, read_state
from stream_fixtures import (
    WAIT_S,
    FakeServe,
    StreamProcess,
    make_layout,
    sample,
    shim_env,
    stop_process,
    wait_until,
    write_samples,
)


@pytest.fixture
def layout(tmp_path):
    layout = make_layout(tmp_path)
    serve = FakeServe(layout)
    yield layout
    serve.stop()


@pytest.fixture
def streams():
    started = []
    yield started
    for stream in started:
        stream.stop()


def start_stream(streams, layout, *args):
    stream = StreamProcess(layout, *args)
    streams.append(stream)
    return stream


def test_stream_hello_replay_follow(layout, streams):
    writer = write_samples(layout, 5)
    state = read_state(TelemetryPaths(layout))
    stream = start_stream(streams, layout)

    hello = stream.next_line()
    assert hello["type"] == "hello"
    assert hello["stream"] == state["stream"]
    assert hello["next_seq"] == 6
    assert hello["oldest_seq"] == 1
    assert hello["dropped_total"] == 0
    assert hello["shim"] == __version__
    assert isinstance(hello["device_ts"], float)

    replayed = stream.next_lines(5)
    assert [line["seq"] for line in replayed] == [1, 2, 3, 4, 5]
    assert all(line["type"] == "sample" for line in replayed)

    for _ in range(3):
        writer.append(sample())
    followed = stream.next_lines(3)
    assert [line["seq"] for line in followed] == [6, 7, 8]
    writer.close()


def test_stream_exits_on_stdin_eof(layout, streams):
    write_samples(layout, 2).close()
    stream = start_stream(streams, layout)
    stream.next_lines(3)

    stream.close_stdin()
    assert stream.wait() == 0
    assert "Traceback" not in stream.stderr_text()
    # Nothing follows the lines: no final JSON reply.
    assert wait_until(lambda: not stream._reader.is_alive())
    remaining = []
    while not stream.lines.empty():
        remaining.append(stream.lines.get())
    assert [line for line in remaining if line is not None and json.loads(line)["type"] != "heartbeat"] == []


def test_stream_exits_on_closed_stdout(layout):
    writer = write_samples(layout, 2)
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        [sys.executable, "-m", "device_shim", "stream", "--home", layout.home],
        stdin=subprocess.PIPE,
        stdout=write_end,
        stderr=subprocess.PIPE,
        env=shim_env(),
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end, "rb") as stdout:
            hello = json.loads(stdout.readline())
            assert hello["type"] == "hello"
        # The reading side is gone; the next line stream writes fails with EPIPE.
        writer.append(sample())
        assert process.wait(WAIT_S) == 0
        stderr = process.stderr.read().decode()
        assert "Traceback" not in stderr
        assert "BrokenPipeError" not in stderr
    finally:
        stop_process(process)
        process.stdin.close()
        process.stderr.close()
        writer.close()


def test_stream_after_same_stream(layout, streams):
    write_samples(layout, 6).close()
    stream_id = read_state(TelemetryPaths(layout))["stream"]
    stream = start_stream(streams, layout, "--after", 4, "--stream", stream_id)

    assert stream.next_line()["type"] == "hello"
    assert [line["seq"] for line in stream.next_lines(2)] == [5, 6]
    stream.close_stdin()
    assert stream.wait() == 0
    assert [line.get("seq") for line in stream.received if line["type"] == "sample"] == [5, 6]


def test_stream_other_stream_replays_all(layout, streams):
    write_samples(layout, 4).close()
    stream = start_stream(streams, layout, "--after", 3, "--stream", "0123456789abcdef")

    assert stream.next_line()["type"] == "hello"
    assert [line["seq"] for line in stream.next_lines(4)] == [1, 2, 3, 4]


def test_stream_after_without_stream(layout, streams):
    write_samples(layout, 4).close()
    stream = start_stream(streams, layout, "--after", 2)

    assert stream.next_line()["type"] == "hello"
    assert [line["seq"] for line in stream.next_lines(2)] == [3, 4]


def test_stream_replay_shows_dropped(layout, streams):
    # Segments of 2 lines and a bound of 16: the oldest samples are gone.
    write_samples(layout, 40, max_samples=16).close()
    state = read_state(TelemetryPaths(layout))
    stream = start_stream(streams, layout, "--after", 3, "--stream", state["stream"])

    hello = stream.next_line()
    oldest = hello["oldest_seq"]
    assert hello["dropped_total"] == oldest - 1
    assert hello["dropped_total"] == state["dropped_total"]
    assert stream.next_line() == {
        "type": "dropped",
        "stream": state["stream"],
        "first_seq": 4,
        "last_seq": oldest - 1,
        "count": oldest - 4,
    }
    assert [line["seq"] for line in stream.next_lines(41 - oldest)] == list(range(oldest, 41))


def test_stream_heartbeat_when_quiet(layout, streams):
    write_samples(layout, 1).close()
    stream = start_stream(streams, layout)
    assert [line["type"] for line in stream.next_lines(2)] == ["hello", "sample"]

    # Nothing is appended; a heartbeat follows 5 s after the last line.
    heartbeat = stream.next_line(timeout=WAIT_S)
    assert heartbeat["type"] == "heartbeat"
    assert isinstance(heartbeat["device_ts"], float)


def test_stream_empty_spool_creates_state(layout, streams):
    stream = start_stream(streams, layout)

    hello = stream.next_line()
    state = read_state(TelemetryPaths(layout))
    assert hello["stream"] == state["stream"]
    assert hello["next_seq"] == 1
    assert hello["oldest_seq"] is None

    # A writer that starts later continues the stream that hello announced.
    writer = write_samples(layout, 1)
    line = stream.next_lines(1)[0]
    assert line["stream"] == hello["stream"]
    assert line["seq"] == 1
    writer.close()


def test_stream_invalid_after(layout):
    completed = subprocess.run(
        [sys.executable, "-m", "device_shim", "stream", "--home", layout.home, "--after", "-3"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=shim_env(),
        timeout=WAIT_S,
    )
    assert completed.returncode == 2
    reply = json.loads(completed.stdout)
    assert reply["ok"] is False
    assert reply["code"] == "invalid_request"
    assert "'-3'" in reply["error"]
