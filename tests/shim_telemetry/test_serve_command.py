"""The `serve` command as a real process: foreground, one per home, --detach yes, signals and its files."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from serve_fixtures import (  # noqa: F401 - pytest finds the fixtures by name
    REPO,
    command_line,
    http_json,
    process_alive,
    serve_device,
    wait_until,
)

# A package named onnxruntime that fails to import, put first on PYTHONPATH,
# stands for a device where onnxruntime is not installed.
MISSING_ONNXRUNTIME = "raise ImportError('onnxruntime is not installed on this test device')\n"


def files_of(device) -> dict[str, bool]:
    return {
        "serve.json": (device.telemetry / "serve.json").exists(),
        "serve.pid": (device.state / "serve.pid").exists(),
    }


def test_foreground_serve_stops_on_sigterm(serve_device):
    process = serve_device.start_serve("--interval", "0.2")
    state = serve_device.wait_serving(process)

    health_status, health = http_json(state["port"], "GET", "/v1/health")
    pid_file = (serve_device.state / "serve.pid").read_text().strip()
    os.kill(process.pid, signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=30)

    assert state["host"] == "127.0.0.1"
    assert state["release"] is None
    assert pid_file == str(process.pid)
    assert health_status == 200
    assert health["model_loaded"] is False
    assert process.returncode == 0, stderr.decode()
    assert json.loads(stdout) == {"ok": True, "stopped": True}
    assert files_of(serve_device) == {"serve.json": False, "serve.pid": False}
    assert b"serve stopped by signal" in stderr


def listening_addresses(port: int) -> list[str]:
    """Return the local addresses (hex, as /proc/net/tcp writes them) of the TCP sockets listening on port."""
    addresses = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as handle:
            for line in handle.readlines()[1:]:
                fields = line.split()
                address, _, hex_port = fields[1].partition(":")
                # State 0A is LISTEN.
                if int(hex_port, 16) == port and fields[3] == "0A":
                    addresses.append(address)
    return addresses


def test_serve_listens_on_loopback_only(serve_device):
    process = serve_device.start_serve()
    state = serve_device.wait_serving(process)

    # 0100007F is 127.0.0.1 in the kernel's little-endian hex.
    assert listening_addresses(state["port"]) == ["0100007F"]


def test_second_serve_replies_already_running(serve_device):
    first = serve_device.start_serve()
    state = serve_device.wait_serving(first)

    status, reply = serve_device.run("serve")

    assert status == 0
    assert reply == {"ok": True, "pid": first.pid, "port": state["port"], "already_running": True}
    assert first.poll() is None


@pytest.mark.parametrize("form", ["module", "zipapp"])
def test_detach_starts_and_sigterm_cleans_up(serve_device, form):
    shim = serve_device.zipapp() if form == "zipapp" else None

    status, reply = serve_device.run("serve", None, "--detach", "yes", "--interval", "0.2", shim=shim)
    state = serve_device.serve_state()
    pid = reply["pid"]
    again_status, again = serve_device.run("serve", None, "--detach", "yes", shim=shim)

    assert status == 0, reply
    assert reply == {"ok": True, "pid": pid, "port": state["port"], "started": True}
    assert state["pid"] == pid
    assert (serve_device.state / "serve.pid").read_text().strip() == str(pid)
    assert "serve" in command_line(pid)
    assert os.getsid(pid) == pid, "the detached serve must lead its own session"
    assert http_json(state["port"], "GET", "/v1/health")[0] == 200
    assert (serve_device.telemetry / "serve.log").exists()
    assert again_status == 0
    assert again == {"ok": True, "pid": pid, "port": state["port"], "already_running": True}
    if form == "zipapp":
        environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        pythonpath = [item for item in environment if item.startswith(b"PYTHONPATH=")]
        assert pythonpath
        assert b"/src" in pythonpath[0]
        assert str(REPO).encode() not in pythonpath[0]

    os.kill(pid, signal.SIGTERM)

    assert wait_until(lambda: not process_alive(pid))
    assert files_of(serve_device) == {"serve.json": False, "serve.pid": False}
    assert b"serve stopped by signal 15" in (serve_device.telemetry / "serve.log").read_bytes()


def test_detach_failure_returns_log_tail(serve_device):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]

        status, reply = serve_device.run("serve", None, "--detach", "yes", "--port", str(port))

    assert status == 1
    assert reply["ok"] is False
    assert reply["code"] == "serve_start_failed"
    assert "exited with status 1" in reply["error"]
    assert "cannot listen on 127.0.0.1:{}".format(port) in reply["error"]


def test_invalid_option_rejected(serve_device):
    status, reply = serve_device.run("serve", None, "--interval", "0")

    assert status == 2
    assert reply["code"] == "invalid_option"
    assert "--interval must be a number from 0.1 to 3600.0" in reply["error"]


def test_port_reused_after_crash(serve_device):
    first = serve_device.start_serve()
    port = serve_device.wait_serving(first)["port"]
    first.kill()
    first.wait(timeout=10)

    second = serve_device.start_serve()
    state = serve_device.wait_serving(second)

    assert state["port"] == port


def test_serves_without_onnxruntime(serve_device, tmp_path):
    blocker = tmp_path / "no_onnxruntime" / "onnxruntime"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text(MISSING_ONNXRUNTIME)
    serve_device.activate(serve_device.stage("1.0.0"))
    process = serve_device.start_serve("--interval", "0.2", pythonpath=[str(blocker.parent)])
    state = serve_device.wait_serving(process)

    health_status, health = http_json(state["port"], "GET", "/v1/health")
    model_status, model = http_json(state["port"], "GET", "/v1/model")
    spool = serve_device.telemetry / "spool"
    sampled = wait_until(lambda: [line for path in spool.glob("*.jsonl") for line in path.read_text().splitlines()])

    assert health_status == 200
    assert health["model_loaded"] is False
    assert "onnxruntime" in health["error"]
    assert model_status == 503
    assert model["code"] == "onnxruntime_missing"
    assert sampled, "the sampler wrote no sample"
    assert json.loads(sampled[0])["serving"] is False


def test_usage_lists_serve():
    completed = subprocess.run([sys.executable, "-m", "device_shim", "nothing"], capture_output=True, cwd=REPO,
                               env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=60)

    assert "serve" in json.loads(completed.stdout)["commands"]
