"""Helpers for the serve and drift tests: a device home with signed digits releases, serve processes, HTTP calls.

Releases go through the real shim (`trust`, `stage`, `activate`, `commit`),
so serve reads the same layout a device has. Every process a test starts is
recorded by PID and ended at teardown.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edgetui.artifacts.samples import reference_statistics
from edgetui.shim_bundle import build_shim_bundle

REPO = Path(__file__).resolve().parents[2]
DIGITS = REPO / "sample_models" / "digits_mlp.onnx"
COMMAND_TIMEOUT_S = 60
WAIT_S = 30.0
POLL_S = 0.05
REFERENCE_COUNT = 32


def digits_inputs(count: int = REFERENCE_COUNT, seed: int = 0) -> np.ndarray:
    """Return seeded pixel values in the digits data's range (0 to 16), shaped (count, 1, 64) like a samples file."""
    return np.random.default_rng(seed).uniform(0, 16, (count, 1, 64)).astype(np.float32)


def samples_npz(inputs: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, X=inputs)
    return buffer.getvalue()


def digits_reference(inputs: np.ndarray) -> dict:
    """Return the manifest reference that `artifact add` computes for the digits model over inputs."""
    session = ort.InferenceSession(str(DIGITS), providers=["CPUExecutionProvider"])
    return reference_statistics(session, {"X": inputs}, "given: samples.npz")


def wait_until(condition, timeout_s: float = WAIT_S):
    """Poll condition() until it returns a true value or timeout_s passes; return its last value."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(POLL_S)
    return condition()


def process_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def command_line(pid: int) -> list[str]:
    try:
        data = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode() for part in data.split(b"\0") if part]


def http_call(port: int, method: str, path: str, body: bytes | None = None,
              headers: dict | None = None) -> tuple[int, dict, bytes]:
    """Send one request to 127.0.0.1:port; return (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def http_json(port: int, method: str, path: str, payload=None) -> tuple[int, dict]:
    body = None if payload is None else json.dumps(payload).encode()
    status, _, data = http_call(port, method, path, body, {"Content-Type": "application/json"})
    return status, json.loads(data)


def infer_json(port: int, rows: np.ndarray) -> tuple[int, dict]:
    return http_json(port, "POST", "/v1/infer", {"inputs": {"X": {"data": rows.tolist()}}})


class ServeDevice:
    """A device home that the real shim runs against, with a trusted signing key."""

    def __init__(self, home: Path):
        self.home = home
        self.state = home / ".edgetui"
        self.telemetry = self.state / "telemetry"
        self.popens: list[subprocess.Popen] = []
        self.pids: set[int] = set()
        self.key = Ed25519PrivateKey.generate()
        home.mkdir(parents=True, exist_ok=True)
        public = self.key.public_key().public_bytes_raw().hex()
        status, reply = self.run("trust", {"name": "test-key", "public_key": public})
        assert status == 0, reply

    # Running the shim.

    def environment(self, pythonpath: list[str] | None = None, zipapp: bool = False) -> dict:
        """Return the environment for a shim run; a zipapp must find device_shim inside itself, not in REPO."""
        environment = dict(os.environ)
        environment.pop("PYTHONPATH", None)
        if not zipapp:
            environment["PYTHONPATH"] = os.pathsep.join((pythonpath or []) + [str(REPO)])
        return environment

    def run(self, command: str, request: dict | None = None, *options: str,
            shim: list[str] | None = None) -> tuple[int, dict]:
        """Run one shim command to its end (with `python -m device_shim`, or shim); return (exit status, reply)."""
        argv = (shim or [sys.executable, "-m", "device_shim"]) + [command, "--home", str(self.home), *options]
        completed = subprocess.run(argv, input=json.dumps(request or {}).encode(), capture_output=True,
                                   cwd=self.home if shim else REPO, env=self.environment(zipapp=shim is not None),
                                   timeout=COMMAND_TIMEOUT_S)
        self.remember_pids()
        assert completed.stdout, completed.stderr.decode()
        return completed.returncode, json.loads(completed.stdout)

    def start_serve(self, *options: str, pythonpath: list[str] | None = None) -> subprocess.Popen:
        """Start a foreground serve; the fixture ends it at teardown."""
        process = subprocess.Popen(
            [sys.executable, "-m", "device_shim", "serve", "--home", str(self.home), *options],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=REPO, env=self.environment(pythonpath),
        )
        self.popens.append(process)
        self.pids.add(process.pid)
        return process

    def zipapp(self) -> list[str]:
        """Install the shim as the console does (.edgetui/shim/<sha256>/shim.pyz); return its argv prefix."""
        bundle = build_shim_bundle()
        folder = self.state / "shim" / bundle.sha256
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "shim.pyz").write_bytes(bundle.data)
        return [sys.executable, str(folder / "shim.pyz")]

    # serve's files.

    def serve_state(self) -> dict | None:
        try:
            state = json.loads((self.telemetry / "serve.json").read_text())
        except (OSError, ValueError):
            return None
        self.pids.add(state["pid"])
        return state

    def wait_serving(self, process: subprocess.Popen | None = None) -> dict:
        """Wait until serve.json names a live serve (this process when given); return it."""
        def ready():
            state = self.serve_state()
            if state is None or not process_alive(state["pid"]):
                return None
            if process is not None and state["pid"] != process.pid:
                return None
            return state

        state = wait_until(ready)
        assert state, "serve.json did not appear; stderr: {}".format(self.stderr_of(process))
        return state

    def stderr_of(self, process: subprocess.Popen | None) -> str:
        if process is None or process.poll() is None:
            return "(running)"
        return process.stderr.read().decode()

    def remember_pids(self) -> None:
        """Record the PIDs of serve and of the watchdog, so teardown can end them."""
        self.serve_state()
        try:
            watchdog = json.loads((self.state / "watchdog.json").read_text())
        except (OSError, ValueError):
            return
        if watchdog.get("pid"):
            self.pids.add(watchdog["pid"])

    def stop_processes(self) -> None:
        """End every process started here, by PID: serve processes and watchdogs."""
        for process in self.popens:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
        self.remember_pids()
        try:
            self.pids.add(int((self.state / "serve.pid").read_text()))
        except (OSError, ValueError):
            pass
        for pid in self.pids:
            if process_alive(pid) and str(self.home) in command_line(pid):
                os.kill(pid, signal.SIGKILL)

    # Releases.

    def upload(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        folder = self.state / "artifacts"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / sha256).write_bytes(data)
        return sha256

    def stage(self, version: str, model: bytes | None = None, reference: dict | None = None) -> str:
        """Stage a digits release signed by the trusted key; return its id."""
        inputs = digits_inputs()
        files = {"model.onnx": model if model is not None else DIGITS.read_bytes(), "samples.npz": samples_npz(inputs)}
        manifest = {
            "format": 1,
            "name": "digits",
            "version": version,
            "created": "2026-12-04T21:00:00Z",
            "files": [{"path": name, "sha256": self.upload(data), "size": len(data)} for name, data in files.items()],
            "entrypoint": "model.onnx",
            "target": {"arch": None, "execution_provider": None, "min_memory_mb": None},
            "health": None,
            "reference": digits_reference(inputs) if reference is None else reference,
        }
        canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")
        signature = base64.b64encode(self.key.sign(canonical)).decode()
        status, reply = self.run("stage", {"manifest": manifest, "signature": signature, "key": "test-key"})
        assert status == 0, reply
        return reply["release"]

    def activate(self, release: str) -> dict:
        """Activate and commit a release through the shim; return the activate reply."""
        status, reply = self.run("activate", {"release": release})
        assert status == 0, reply
        status, committed = self.run("commit", {"release": release})
        assert status == 0, committed
        return reply

    def release_dir(self, release: str) -> Path:
        return self.state / "releases" / release


@pytest.fixture
def serve_device(tmp_path) -> ServeDevice:
    """Yield a device home with a trusted key; every process started against it ends at teardown."""
    device = ServeDevice(tmp_path / "home")
    yield device
    device.stop_processes()


class LocalServer:
    """serve's HTTP server and its parts, run inside the test process for the device's home."""

    def __init__(self, device: ServeDevice):
        from device_shim.release.paths import Layout
        from device_shim.telemetry.inference import InferenceApp
        from device_shim.telemetry.model import ModelHolder
        from device_shim.telemetry.requests_stats import RequestStats, make_window_source
        from device_shim.telemetry.server import start_server

        self.holder = ModelHolder(Layout(str(device.home)))
        self.holder.reload("test start")
        self.stats = RequestStats()
        self.window_source = make_window_source(self.stats, self.holder)
        self.server = start_server(0, InferenceApp(self.holder, self.stats))
        self.port = self.server.server_address[1]

    def stop(self) -> None:
        from device_shim.telemetry.server import stop_server

        stop_server(self.server)


@pytest.fixture
def local_server(serve_device):
    """Return a function that starts a LocalServer for serve_device; each one is stopped at teardown."""
    servers: list[LocalServer] = []

    def start() -> LocalServer:
        server = LocalServer(serve_device)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
