"""ssh_config resolution and ProxyJump, against real sshd where it connects."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgetui.domain import Device
from edgetui.ssh import HostKeyUnknown
from edgetui.ssh.config import jump_device, parse_hop, resolve_target
from ssh_helpers import device_for, make_pool, trusting_store


def write_config(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_resolve_applies_alias_settings(tmp_path):
    config = write_config(
        tmp_path / "config",
        "Host board\n  HostName 127.0.0.1\n  Port 2200\n  User edge\n  IdentityFile /keys/board\n  ProxyJump gw\n",
    )

    target = resolve_target(Device(name="b", host="board"), [config])

    assert target.host == "127.0.0.1"
    assert target.port == 2200
    assert target.username == "edge"
    assert target.identity_files == ("/keys/board",)
    assert target.proxy_jump == "gw"


def test_resolve_prefers_device_fields(tmp_path):
    config = write_config(tmp_path / "config", "Host board\n  Port 2200\n  User edge\n  ProxyJump gw\n")
    device = Device(name="b", host="board", port=2201, user="pi", proxy_jump="other")

    target = resolve_target(device, [config])

    assert target.port == 2201
    assert target.username == "pi"
    assert target.proxy_jump == "other"


def test_resolve_treats_proxyjump_none_as_direct(tmp_path):
    config = write_config(tmp_path / "config", "Host board\n  ProxyJump none\n")

    assert resolve_target(Device(name="b", host="board"), [config]).proxy_jump is None


@pytest.mark.parametrize(
    ("hop", "expected"),
    [
        ("gw", (None, "gw", None)),
        ("admin@gw:2222", ("admin", "gw", 2222)),
        ("ssh://admin@gw:22", ("admin", "gw", 22)),
        ("[2001:db8::1]:2022", (None, "2001:db8::1", 2022)),
    ],
)
def test_parse_hop(hop, expected):
    assert parse_hop(hop) == expected


def test_jump_device_chains_earlier_hops():
    device = Device(name="b", host="board")

    jump = jump_device(device, "first,edge@second:2022")

    assert (jump.host, jump.port, jump.user) == ("second", 2022, "edge")
    assert jump.proxy_jump == "first"
    assert jump.name == "jump:first,edge@second:2022"


@pytest.mark.sshd
async def test_host_alias_from_ssh_config_connects(sshd, tmp_path):
    config = write_config(
        tmp_path / "ssh_config",
        f"Host lab-board\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User root\n  IdentityFile {sshd.client_key}\n",
    )
    device = Device(name="lab", host="lab-board")

    async with make_pool(trusting_store(sshd), ssh_config=[config]) as pool:
        result = await pool.run(device, "id -un")

    assert result.stdout == b"root\n"
    assert sshd.accepted_logins() == 1


@pytest.mark.sshd
async def test_proxy_jump_reaches_second_server(sshd_factory, tmp_path):
    gateway = sshd_factory("gateway")
    board = sshd_factory("board")
    config = write_config(
        tmp_path / "ssh_config",
        f"Host gateway\n  HostName 127.0.0.1\n  Port {gateway.port}\n  User root\n  IdentityFile {gateway.client_key}\n",
    )
    device = device_for(board, name="behind-gateway", proxy_jump="gateway")

    async with make_pool(trusting_store(gateway, board), ssh_config=[config]) as pool:
        first = await pool.run(device, "echo through")
        second = await pool.run(device, "echo again")
        open_connections = pool.stats.open_connections

    assert first.stdout == b"through\n"
    assert second.stdout == b"again\n"
    assert open_connections == 2
    assert gateway.accepted_logins() == 1
    assert board.accepted_logins() == 1


@pytest.mark.sshd
async def test_proxy_jump_checks_gateway_host_key(sshd_factory, tmp_path):
    gateway = sshd_factory("gateway")
    board = sshd_factory("board")
    config = write_config(
        tmp_path / "ssh_config",
        f"Host gateway\n  HostName 127.0.0.1\n  Port {gateway.port}\n  User root\n  IdentityFile {gateway.client_key}\n",
    )
    device = device_for(board, name="behind-gateway", proxy_jump="gateway")

    async with make_pool(trusting_store(board), ssh_config=[config]) as pool:
        with pytest.raises(HostKeyUnknown) as caught:
            await pool.run(device, "true")

    assert f"127.0.0.1:{gateway.port}" in caught.value.message
    assert gateway.accepted_logins() == 0
