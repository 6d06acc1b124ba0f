"""Resumable upload and a deploy against a real OpenSSH sshd on 127.0.0.1, with the shim in a tmp home."""

import os
import sys
from pathlib import Path

import pytest
from deploy_helpers import FAST, GOOD_V1, GOOD_V2

from edgetui.domain import Device
from edgetui.service import Fleet
from edgetui.ssh.files import PART_SUFFIX
from sshd import keygen

pytestmark = pytest.mark.sshd

SFTP_SERVER = "/usr/lib/openssh/sftp-server"
MEGABYTE = 1024 * 1024


def python_wrapper(folder: Path) -> Path:
    """Make a folder whose python3 runs the console's interpreter, so the shim finds onnxruntime."""
    folder.mkdir()
    wrapper = folder / "python3"
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    wrapper.chmod(0o755)
    return folder


def home_device(server, tmp_path: Path, name: str = "board-1") -> tuple[Device, Path]:
    """Authorize a key whose sessions run in a tmp home with the console's python3; return the device and home."""
    home = tmp_path / f"{name}-home"
    home.mkdir()
    key = keygen(tmp_path / f"{name}_key")
    path = f"{python_wrapper(tmp_path / f'{name}-bin')}:/usr/bin:/bin"
    setup = f"cd {home} && PATH={path} && export PATH"
    server.authorize(key.with_suffix(".pub").read_text(),
                     options=f'command="{setup} && exec /bin/sh -c \\"$SSH_ORIGINAL_COMMAND\\""')
    return Device(name=name, host="127.0.0.1", port=server.port, key_file=str(key)), home


@pytest.fixture
def server(sshd_factory):
    return sshd_factory("deploy", sftp_server=SFTP_SERVER)


@pytest.fixture
async def sshd_fleet(db_path, server, tmp_path):
    fleet = Fleet.open(db_path, connect_timeout=5.0)
    fleet.pool._known_hosts_paths = []
    fleet.store.remember_host_key("127.0.0.1", server.port, server.host_key_line)
    device, home = home_device(server, tmp_path)
    fleet.store.upsert_device(device)
    yield fleet, device, home
    await fleet.aclose()


async def test_upload_resumes_matching_part(sshd_fleet, tmp_path):
    fleet, device, home = sshd_fleet
    data = os.urandom(3 * MEGABYTE)
    local = tmp_path / "blob"
    local.write_bytes(data)
    remote = home / "up" / "blob"
    remote.parent.mkdir()
    Path(str(remote) + PART_SUFFIX).write_bytes(data[:MEGABYTE])

    result = await fleet.pool.upload_resumable(device, local, "up/blob")

    assert result.resumed_from == MEGABYTE
    assert result.bytes_sent == 2 * MEGABYTE
    assert remote.read_bytes() == data
    assert not Path(str(remote) + PART_SUFFIX).exists()


async def test_unverified_upload_corrupt_file_resent(sshd_fleet, tmp_path):
    # Deploy uploads without hashing on the device, because stage verifies;
    # a file corrupted on the device must then be sent again, not skipped.
    fleet, device, home = sshd_fleet
    data = os.urandom(2 * MEGABYTE)
    local = tmp_path / "blob"
    local.write_bytes(data)

    first = await fleet.pool.upload_resumable(device, local, "up/blob", verify=False)
    remote = home / "up" / "blob"
    corrupted = bytearray(remote.read_bytes())
    corrupted[12345] ^= 0xFF
    remote.write_bytes(bytes(corrupted))
    second = await fleet.pool.upload_resumable(device, local, "up/blob", verify=False)

    assert first.bytes_sent == 2 * MEGABYTE
    assert second.skipped is False
    assert second.bytes_sent == 2 * MEGABYTE
    assert remote.read_bytes() == data


async def test_upload_restarts_mismatched_part(sshd_fleet, tmp_path):
    fleet, device, home = sshd_fleet
    data = os.urandom(2 * MEGABYTE)
    local = tmp_path / "blob"
    local.write_bytes(data)
    (home / "up").mkdir()
    Path(str(home / "up" / "blob") + PART_SUFFIX).write_bytes(b"x" * MEGABYTE)

    result = await fleet.pool.upload_resumable(device, local, "up/blob")
    again = await fleet.pool.upload_resumable(device, local, "up/blob")

    assert result.resumed_from == 0
    assert result.bytes_sent == 2 * MEGABYTE
    assert (home / "up" / "blob").read_bytes() == data
    assert again.skipped is True
    assert again.bytes_sent == 0


async def test_deploy_rollback_over_sshd(sshd_fleet):
    fleet, device, home = sshd_fleet

    first = await fleet.deploy(GOOD_V1, device.name, waves="100%", **FAST)
    second = await fleet.deploy(GOOD_V2, device.name, waves="100%", **FAST)
    rolled = await fleet.rollback(device.name)
    # A second rollback has no older release to go to and must not flip back to 2.0.0.
    again = await fleet.rollback(device.name)
    releases = await fleet.releases(device.name)

    assert fleet.rollout_report(first.id)["waves"][0]["devices"][0]["state"] == "committed"
    assert fleet.rollout_report(second.id)["waves"][0]["devices"][0]["bytes_sent"] == 0
    assert rolled[0]["version"] == "1.0.0"
    assert again[0]["version"] == "1.0.0"
    assert releases["current"] == "1.0.0"
    assert releases["known_good"] == "1.0.0"
    assert list((home / ".edgetui" / "artifacts").glob("*.part")) == []
