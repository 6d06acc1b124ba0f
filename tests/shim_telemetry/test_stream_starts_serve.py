"""stream starts the real `serve --detach yes` when none runs, and its sampler's lines reach the stream."""

import json
import os
import signal
from pathlib import Path

import pytest

from device_shim.release.processes import is_alive, runs_with_argument
from stream_fixtures import WAIT_S, StreamProcess, make_layout, wait_until


def serve_pid(layout):
    try:
        return int(Path(layout.serve_pid_file).read_text().strip())
    except (OSError, ValueError):
        return None


@pytest.fixture
def layout(tmp_path):
    layout = make_layout(tmp_path)
    yield layout
    # The detached serve was started by this test's stream: end it by the PID it wrote.
    pid = serve_pid(layout)
    if pid is not None and runs_with_argument(pid, "serve"):
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not is_alive(pid), timeout=WAIT_S)


def test_stream_starts_serve_and_follows_sampler(layout):
    assert serve_pid(layout) is None
    stream = StreamProcess(layout)
    try:
        hello = stream.next_line(timeout=90)
        assert hello["type"] == "hello"

        pid = serve_pid(layout)
        assert pid is not None
        assert runs_with_argument(pid, "serve")
        serve_json = json.loads(Path(layout.root, "telemetry", "serve.json").read_text())
        assert serve_json["pid"] == pid

        # The real sampler writes one sample per second (serve's default interval).
        samples = stream.next_lines(2)
        assert [line["type"] for line in samples] == ["sample", "sample"]
        assert samples[0]["stream"] == hello["stream"]
        assert samples[1]["seq"] == samples[0]["seq"] + 1
        assert samples[0]["serving"] is False
        assert samples[0]["release"] is None

        stream.close_stdin()
        assert stream.wait() == 0
        assert "Traceback" not in stream.stderr_text()
    finally:
        stream.stop()

    # A second stream finds serve running and starts no other one.
    second = StreamProcess(layout)
    try:
        assert second.next_line()["type"] == "hello"
        assert serve_pid(layout) == pid
        second.close_stdin()
        assert second.wait() == 0
    finally:
        second.stop()
