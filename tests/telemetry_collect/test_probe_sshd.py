"""Probe over a real OpenSSH sshd: serve started by the shim, a local port forward, and a real release.

The device's sessions run in a tmp home with the console's python3, so the
shim's serve finds onnxruntime. The release is the sample VAD model, deployed
through the real deploy pipeline.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest

from edgetui.cli.main import main
from edgetui.domain import Device
from edgetui.errors import InputError
from edgetui.service import Fleet
from edgetui.telemetry.probe import ProbeError
from release_fixtures import FAST, GOOD_V1, build_artifacts
from sshd import keygen

pytestmark = pytest.mark.sshd

SFTP_SERVER = "/usr/lib/openssh/sftp-server"


@pytest.fixture
async def sshd_fleet(sshd_factory, tmp_path, monkeypatch):
    """A fleet database with the artifacts and one device on a real sshd; stops the device's serve at the end."""
    data = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("EDGETUI_DB", raising=False)
    build_artifacts(data, tmp_path)
    db_path = data / "edgetui" / "fleet.db"

    server = sshd_factory("probe", sftp_server=SFTP_SERVER)
    home = tmp_path / "board-home"
    home.mkdir()
    bin_dir = tmp_path / "board-bin"
    bin_dir.mkdir()
    (bin_dir / "python3").write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    (bin_dir / "python3").chmod(0o755)
    key = keygen(tmp_path / "board_key")
    setup = f"cd {home} && PATH={bin_dir}:/usr/bin:/bin && export PATH"
    server.authorize(key.with_suffix(".pub").read_text(),
                     options=f'command="{setup} && exec /bin/sh -c \\"$SSH_ORIGINAL_COMMAND\\""')
    device = Device(name="board-1", host="127.0.0.1", port=server.port, key_file=str(key))

    fleet = Fleet.open(db_path, connect_timeout=5.0)
    fleet.store.remember_host_key("127.0.0.1", server.port, server.host_key_line)
    fleet.store.upsert_device(device)
    try:
        yield fleet, device, home, db_path
    finally:
        await fleet.aclose()
        stop_serve(home)


def stop_serve(home: Path) -> None:
    """Stop the serve process the probe started, by the PID in its pid file."""
    pid_file = home / ".edgetui" / "serve.pid"
    if not pid_file.is_file():
        return
    try:
        os.kill(int(pid_file.read_text().split()[0]), signal.SIGTERM)
    except (ProcessLookupError, ValueError):
        pass


def vad_input(tmp_path: Path) -> Path:
    path = tmp_path / "vad.npz"
    np.savez(path, input=np.zeros((1, 576), dtype=np.float32), state=np.zeros((2, 1, 128), dtype=np.float32))
    return path


async def test_probe_without_release_says_how_to_deploy(sshd_fleet, tmp_path):
    fleet, device, home, _ = sshd_fleet

    with pytest.raises(ProbeError) as caught:
        await fleet.probe(device.name, vad_input(tmp_path))

    assert "no release" in caught.value.message
    assert f"edgetui deploy ARTIFACT --to {device.name}" in caught.value.message
    assert (home / ".edgetui" / "telemetry" / "serve.json").is_file()


async def test_probe_runs_release_and_checks_names(sshd_fleet, tmp_path, capsys):
    fleet, device, _, db_path = sshd_fleet
    await fleet.deploy(GOOD_V1, device.name, waves="100%", **FAST)

    result = await fleet.probe(device.name, vad_input(tmp_path))

    assert set(result.outputs) == {"output", "stateN"}
    assert result.outputs["output"].shape == (1, 1)
    assert result.outputs["stateN"].shape == (2, 1, 128)
    assert result.release is not None
    assert result.latency_ms > 0
    assert result.server_latency_ms is not None
    assert result.latency_ms >= result.server_latency_ms

    single = tmp_path / "one.npy"
    np.save(single, np.zeros((1, 576), dtype=np.float32))
    with pytest.raises(InputError) as caught:
        await fleet.probe(device.name, single)
    assert "'input', 'state'" in caught.value.message

    status = await asyncio.to_thread(main, ["--db", str(db_path), "probe", device.name,
                                            "--input", str(vad_input(tmp_path)), "--json"])
    printed = json.loads(capsys.readouterr().out)
    assert status == 0
    assert printed["outputs"]["output"]["shape"] == [1, 1]
    assert printed["release"] == result.release
