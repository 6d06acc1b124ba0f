"""ShimClient against a real sshd: upload once, parse replies, and the sh fallback without python3.

Each test logs in with a key whose authorized_keys entry forces
`cd HOME && exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"`, so the login folder is a
folder under tmp_path instead of root's home, and every file the shim client
writes stays there. The fallback test sets PATH in that forced command to a
folder of links to /usr/bin without python*, which is how a board without
python3 looks to the launch line.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from edgetui.domain import Device
from edgetui.shim_bundle import build_shim_bundle
from edgetui.shim_client import ShimClient, ShimError, shim_path
from ssh_helpers import make_pool, trusting_store
from sshd import SSHServer, keygen

pytestmark = pytest.mark.sshd

SFTP_SERVER = "/usr/lib/openssh/sftp-server"


@dataclass(frozen=True)
class StandInBundle:
    """A tiny zipapp whose __main__.py plays a misbehaving shim."""

    data: bytes
    sha256: str
    inventory_sh: bytes


def stand_in_bundle(main_source: str) -> StandInBundle:
    """Build a zipapp with the given __main__.py; the real inventory.sh serves as fallback."""
    buffer = io.BytesIO()
    buffer.write(b"#!/usr/bin/env python3\n")
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("__main__.py", main_source)
    data = buffer.getvalue()
    return StandInBundle(data=data, sha256=hashlib.sha256(data).hexdigest(), inventory_sh=build_shim_bundle().inventory_sh)


def python_free_path(folder: Path) -> Path:
    """Fill ``folder`` with links to every /usr/bin program except python*, and return it."""
    folder.mkdir()
    for entry in os.scandir("/usr/bin"):
        if not entry.name.startswith("python"):
            (folder / entry.name).symlink_to(entry.path)
    return folder


@pytest.fixture
def shim_sshd(sshd_factory) -> SSHServer:
    return sshd_factory("shim", sftp_server=SFTP_SERVER)


def home_device(server: SSHServer, tmp_path: Path, *, name: str = "board-1", path: Path | None = None) -> Device:
    """Authorize a new key whose sessions run in tmp_path/<name>-home, and return a device using it."""
    home = tmp_path / f"{name}-home"
    home.mkdir()
    key = keygen(tmp_path / f"{name}_key")
    setup = f"cd {home}"
    if path is not None:
        setup += f" && PATH={path} && export PATH"
    server.authorize(
        key.with_suffix(".pub").read_text(),
        options=f'command="{setup} && exec /bin/sh -c \\"$SSH_ORIGINAL_COMMAND\\""',
    )
    return Device(name=name, host="127.0.0.1", port=server.port, key_file=str(key))


def device_home(tmp_path: Path, device: Device) -> Path:
    return tmp_path / f"{device.name}-home"


async def test_inventory_uploads_shim_once(shim_sshd, tmp_path):
    device = home_device(shim_sshd, tmp_path)
    bundle = build_shim_bundle()

    async with make_pool(trusting_store(shim_sshd)) as pool:
        client = ShimClient(pool, bundle)
        first = await client.inventory(device)
        uploads_after_first = pool.stats.uploads
        second = await client.inventory(device)

    uploaded = device_home(tmp_path, device) / shim_path(bundle.sha256)
    assert uploads_after_first == 1
    assert pool.stats.uploads == 1
    assert uploaded.read_bytes() == bundle.data
    assert first.limited is False
    assert first.arch == os.uname().machine
    assert second.arch == first.arch


async def test_garbage_reply_raises_shim_error(shim_sshd, tmp_path):
    device = home_device(shim_sshd, tmp_path)
    bundle = stand_in_bundle("print('hello, this is not json')\n")

    async with make_pool(trusting_store(shim_sshd)) as pool:
        with pytest.raises(ShimError) as caught:
            await ShimClient(pool, bundle).inventory(device)

    assert "board-1" in caught.value.message
    assert "hello, this is not json" in caught.value.message
    assert "invalid JSON" in caught.value.message


async def test_truncated_json_raises_shim_error(shim_sshd, tmp_path):
    device = home_device(shim_sshd, tmp_path)
    bundle = stand_in_bundle("import sys\nsys.stdout.write('{\"arch\": \"aarch6')\n")

    async with make_pool(trusting_store(shim_sshd)) as pool:
        with pytest.raises(ShimError) as caught:
            await ShimClient(pool, bundle).inventory(device)

    assert "board-1" in caught.value.message
    assert '{"arch": "aarch6' in caught.value.message


async def test_nonzero_exit_raises_shim_error(shim_sshd, tmp_path):
    device = home_device(shim_sshd, tmp_path)
    source = "import sys\nprint('{\"error\": \"boom\"}')\nsys.stderr.write('disk full\\n')\nsys.exit(3)\n"
    bundle = stand_in_bundle(source)

    async with make_pool(trusting_store(shim_sshd)) as pool:
        with pytest.raises(ShimError) as caught:
            await ShimClient(pool, bundle).inventory(device)

    message = caught.value.message
    assert "board-1" in message
    assert "status 3" in message
    assert "disk full" in message


async def test_empty_and_non_object_replies_raise(shim_sshd, tmp_path):
    device = home_device(shim_sshd, tmp_path)
    silent = stand_in_bundle("pass\n")
    listing = stand_in_bundle("print('[1, 2]')\n")

    async with make_pool(trusting_store(shim_sshd)) as pool:
        with pytest.raises(ShimError) as empty:
            await ShimClient(pool, silent).inventory(device)
        with pytest.raises(ShimError) as not_object:
            await ShimClient(pool, listing).inventory(device)

    assert "printed nothing" in empty.value.message
    assert "list instead of an object" in not_object.value.message


async def test_wrong_fact_types_raise_and_extra_keys_pass(shim_sshd, tmp_path):
    device = home_device(shim_sshd, tmp_path)
    wrong = stand_in_bundle("print('{\"cpu_cores\": \"many\"}')\n")
    extra = stand_in_bundle("print('{\"arch\": \"riscv64\", \"shim_version\": \"9\", \"new_fact\": 1}')\n")

    async with make_pool(trusting_store(shim_sshd)) as pool:
        with pytest.raises(ShimError) as caught:
            await ShimClient(pool, wrong).inventory(device)
        facts = await ShimClient(pool, extra).inventory(device)

    assert "cpu_cores" in caught.value.message
    assert facts.arch == "riscv64"


async def test_call_sends_request_on_stdin(shim_sshd, tmp_path):
    device = home_device(shim_sshd, tmp_path)
    source = "import json, sys\nprint(json.dumps({'argv': sys.argv[1:], 'request': json.load(sys.stdin)}))\n"
    bundle = stand_in_bundle(source)
    request = {"text": "it's \"quoted\"; $(rm -rf /)", "n": 1}

    async with make_pool(trusting_store(shim_sshd)) as pool:
        reply = await ShimClient(pool, bundle).call(device, "status", request)

    assert reply == {"argv": ["status"], "request": request}


async def test_call_rejects_command_that_is_not_a_word(shim_sshd, tmp_path):
    device = home_device(shim_sshd, tmp_path)

    async with make_pool(trusting_store(shim_sshd)) as pool:
        with pytest.raises(ValueError):
            await ShimClient(pool, stand_in_bundle("pass\n")).call(device, "status; reboot")


async def test_without_python3_uses_sh_fallback(shim_sshd, tmp_path):
    device = home_device(shim_sshd, tmp_path, path=python_free_path(tmp_path / "bin"))

    async with make_pool(trusting_store(shim_sshd)) as pool:
        facts = await ShimClient(pool, build_shim_bundle()).inventory(device)

    assert facts.limited is True
    assert facts.arch == os.uname().machine
    assert pool.stats.uploads == 0
    assert not (device_home(tmp_path, device) / ".edgetui").exists()
