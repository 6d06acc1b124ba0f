"""Helpers for the release command tests: run the real shim, build signed releases, track processes."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "sample_models" / "silero_vad_openvino_16k.onnx"
COMMAND_TIMEOUT_S = 60
POLL_S = 0.05


def canonical(manifest: dict) -> bytes:
    """Return the bytes the console signs: canonical JSON of the manifest."""
    return json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def vad_samples(count: int = 4) -> bytes:
    """Return an .npz of zero inputs for the silero VAD model: input [1, 576], state [2, 1, 128]."""
    buffer = io.BytesIO()
    np.savez(
        buffer,
        input=np.zeros((count, 1, 576), dtype=np.float32),
        state=np.zeros((count, 2, 1, 128), dtype=np.float32),
    )
    return buffer.getvalue()


def process_alive(pid: int) -> bool:
    """Return True when pid exists and is not a zombie."""
    try:
        stat = Path("/proc/{}/stat".format(pid)).read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def command_line(pid: int) -> list[str]:
    """Return the arguments of pid, or [] when it has exited."""
    try:
        data = Path("/proc/{}/cmdline".format(pid)).read_bytes()
    except OSError:
        return []
    return [part.decode() for part in data.split(b"\0") if part]


def wait_until(condition, timeout_s: float = 20.0) -> bool:
    """Poll condition() until it returns true or timeout_s passes; return its last result."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(POLL_S)
    return bool(condition())


class Device:
    """A simulated device: a home folder that the real shim runs against with --home."""

    def __init__(self, home: Path, shim: list[str] | None = None):
        self.home = home
        self.state = home / ".edgetui"
        # The zipapp must find device_shim inside itself, so PYTHONPATH is set only for `-m`.
        self.runs_module = shim is None
        self.shim = shim or [sys.executable, "-m", "device_shim"]
        self.started_pids: set[int] = set()
        self.popens: list[subprocess.Popen] = []
        home.mkdir(parents=True, exist_ok=True)

    def environment(self, extra: dict | None = None) -> dict:
        environment = dict(os.environ)
        environment.pop("PYTHONPATH", None)
        if self.runs_module:
            environment["PYTHONPATH"] = str(REPO)
        environment.pop("EDGETUI_SHIM_FAKE_FREE_MB", None)
        environment.pop("EDGETUI_SHIM_HEALTH_DELAY_S", None)
        environment.update(extra or {})
        return environment

    def argv(self, command: str) -> list[str]:
        return self.shim + [command, "--home", str(self.home)]

    def run(self, command: str, request: dict | None = None, env: dict | None = None) -> tuple[int, dict]:
        """Run one shim command; return (exit status, reply)."""
        completed = subprocess.run(
            self.argv(command),
            input=json.dumps(request or {}).encode(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=REPO,
            env=self.environment(env),
            timeout=COMMAND_TIMEOUT_S,
        )
        reply = json.loads(completed.stdout)
        self.remember_watchdog()
        return completed.returncode, reply

    def start(self, command: str, request: dict | None = None, env: dict | None = None) -> subprocess.Popen:
        """Start one shim command without waiting; the fixture ends it at teardown."""
        process = subprocess.Popen(
            self.argv(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=REPO,
            env=self.environment(env),
        )
        process.stdin.write(json.dumps(request or {}).encode())
        process.stdin.close()
        self.popens.append(process)
        return process

    def watchdog_state(self) -> dict | None:
        try:
            state = json.loads((self.state / "watchdog.json").read_text())
        except (OSError, ValueError):
            return None
        if state.get("pid"):
            self.started_pids.add(state["pid"])
        return state

    def remember_watchdog(self) -> None:
        self.watchdog_state()

    def link(self, name: str) -> str | None:
        try:
            return os.path.basename(os.readlink(self.state / name))
        except OSError:
            return None

    def journal(self) -> list[dict]:
        path = self.state / "journal.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def upload(self, data: bytes) -> str:
        """Store data as a verified artifact, as the console's upload would; return its sha256."""
        sha256 = hashlib.sha256(data).hexdigest()
        folder = self.state / "artifacts"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / sha256).write_bytes(data)
        return sha256

    def tree(self) -> dict:
        """Return every path under .edgetui except the journal, with its link target or content hash."""
        snapshot = {}
        for path in sorted(self.state.rglob("*")):
            relative = str(path.relative_to(self.state))
            if relative == "journal.jsonl":
                continue
            if path.is_symlink():
                snapshot[relative] = "link:" + os.readlink(path)
            elif path.is_dir():
                snapshot[relative] = "dir"
            else:
                snapshot[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
        return snapshot

    def stop_processes(self) -> None:
        """End every process the tests started here: shim commands and watchdogs, by PID."""
        for process in self.popens:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
        self.watchdog_state()
        for pid in self.started_pids:
            if process_alive(pid) and str(self.home) in command_line(pid):
                os.kill(pid, signal.SIGKILL)


class Signer:
    """An Ed25519 key that signs manifests, trusted on the device under a name."""

    def __init__(self, name: str = "release-key"):
        self.name = name
        self.private_key = Ed25519PrivateKey.generate()
        self.public_hex = self.private_key.public_key().public_bytes_raw().hex()

    def sign(self, manifest: dict) -> str:
        return base64.b64encode(self.private_key.sign(canonical(manifest))).decode()


def make_manifest(device: Device, files: dict[str, bytes], version: str = "1.0.0", **overrides) -> dict:
    """Upload files as artifacts and return a manifest for them; overrides replace top-level keys."""
    entries = [{"path": name, "sha256": device.upload(data), "size": len(data)} for name, data in files.items()]
    manifest = {
        "format": 1,
        "name": "vad",
        "version": version,
        "created": "2026-12-04T21:00:00Z",
        "files": entries,
        "entrypoint": "model.onnx",
        "target": {"arch": None, "execution_provider": None, "min_memory_mb": None},
        "health": {"max_p95_ms": None, "max_error_rate": 0.0, "warmup": 2, "runs": 5, "samples": "samples.npz"},
        "reference": {},
    }
    manifest.update(overrides)
    return manifest


def vad_files(model: bytes | None = None) -> dict[str, bytes]:
    """Return the files of a working VAD release: the model and its samples."""
    return {"model.onnx": model if model is not None else MODEL.read_bytes(), "samples.npz": vad_samples()}


def stage_request(signer: Signer, manifest: dict) -> dict:
    return {"manifest": manifest, "signature": signer.sign(manifest), "key": signer.name}
