"""Shared helpers for the spool, stream, sampler and system tests: real files and real processes."""

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from device_shim.release.paths import Layout
from device_shim.telemetry.spool import SpoolWriter
from device_shim.telemetry.spool_reader import SpoolReader
from device_shim.telemetry.state import TelemetryPaths, list_segments, read_state

REPO = Path(__file__).resolve().parents[2]
WAIT_S = 30.0


def make_layout(tmp_path):
    home = tmp_path / "home"
    home.mkdir(parents=True, exist_ok=True)
    return Layout(str(home))


def sample(**fields):
    """Return a sample dict in the contract's key order with test values; stream and seq come from the spool."""
    values = {
        "type": "sample",
        "stream": None,
        "seq": None,
        "ts": time.time(),
        "interval_s": 1.0,
        "requests": 0,
        "errors": 0,
        "latency_ms_p50": None,
        "latency_ms_p95": None,
        "latency_ms_p99": None,
        "cpu_percent": None,
        "mem_used_mb": None,
        "mem_total_mb": None,
        "temp_c": None,
        "disk_free_mb": None,
        "disk_used_percent": None,
        "release": None,
        "serving": False,
        "drift_psi": None,
        "drift_input_psi": None,
    }
    values.update(fields)
    return values


def write_samples(layout, count, max_samples=86400, writer=None):
    """Append count samples with a fresh (or the given) open SpoolWriter; return the writer, still open."""
    if writer is None:
        writer = SpoolWriter(layout, max_samples)
        writer.open()
    for index in range(count):
        writer.append(sample(requests=index))
    return writer


def read_all(layout, after=0, stream=None):
    """Return the parsed lines a SpoolReader yields now (samples and dropped notices)."""
    paths = TelemetryPaths(layout)
    state = read_state(paths)
    reader = SpoolReader(paths, stream or state["stream"], after)
    lines = []
    while True:
        batch = reader.read_available()
        if not batch:
            break
        lines.extend(json.loads(line) for line in batch)
    reader.close()
    return lines


def seqs_of(lines):
    return [line["seq"] for line in lines if line.get("type") == "sample"]


def segment_names(layout):
    return [os.path.basename(path) for _, path in list_segments(TelemetryPaths(layout))]


def shim_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("EDGETUI_SHIM_ROOT", None)
    return env


def wait_until(condition, timeout=WAIT_S, poll=0.05):
    """Poll condition() until it returns a true value; return it, or None after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    return None


class FakeServe(object):
    """A sleeping process whose command line contains `serve`, named in serve.pid, so stream starts no real serve."""

    def __init__(self, layout):
        self.layout = layout
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(600)", "serve"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        os.makedirs(layout.root, exist_ok=True)
        Path(layout.serve_pid_file).write_text("{}\n".format(self.process.pid))

    def stop(self):
        stop_process(self.process)


def stop_process(process, timeout=10):
    """End a process this test started, by its PID: SIGTERM, then SIGKILL."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout)


class StreamProcess(object):
    """`python -m device_shim stream` as a real subprocess, its stdout lines collected by a thread."""

    def __init__(self, layout, *args):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "device_shim", "stream", "--home", layout.home] + [str(arg) for arg in args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=layout.home,
            env=shim_env(),
        )
        self.lines = queue.Queue()
        self.received = []
        self.stderr = b""
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()

    def _read_stdout(self):
        for raw in self.process.stdout:
            self.lines.put(raw.decode())
        self.lines.put(None)

    def next_line(self, timeout=WAIT_S):
        """Return the next stdout line parsed as JSON; raise AssertionError on EOF or timeout."""
        try:
            raw = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no stream line within {} s; received so far: {}".format(timeout, self.received))
        if raw is None:
            raise AssertionError("stream stdout closed; stderr: {}".format(self.stderr_text()))
        line = json.loads(raw)
        self.received.append(line)
        return line

    def next_lines(self, count, skip_heartbeats=True):
        lines = []
        while len(lines) < count:
            line = self.next_line()
            if skip_heartbeats and line.get("type") == "heartbeat":
                continue
            lines.append(line)
        return lines

    def close_stdin(self):
        self.process.stdin.close()

    def wait(self, timeout=WAIT_S):
        status = self.process.wait(timeout)
        self.stderr = self.process.stderr.read()
        return status

    def stderr_text(self):
        return self.stderr.decode(errors="replace")

    def stop(self):
        stop_process(self.process)
        for handle in (self.process.stdin, self.process.stderr):
            if handle and not handle.closed:
                handle.close()
