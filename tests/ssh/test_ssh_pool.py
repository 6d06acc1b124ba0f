"""SSHPool against real OpenSSH servers on 127.0.0.1: commands, files, errors, reuse and limits."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
from pathlib import Path

import pytest

from edgetui.ssh import (
    AuthenticationFailed,
    CommandTimeout,
    ConnectTimeout,
    SSHError,
    Unreachable,
)
from ssh_helpers import device_for, make_pool, trusting_store, wait_until
from sshd import keygen

pytestmark = pytest.mark.sshd


async def test_run_returns_output_and_status(sshd):
    async with make_pool(trusting_store(sshd)) as pool:
        result = await pool.run(device_for(sshd), "echo out; echo err >&2; exit 3")

    assert result.exit_status == 3
    assert result.stdout == b"out\n"
    assert result.stderr == b"err\n"


async def test_run_passes_stdin_bytes_and_str(sshd):
    async with make_pool(trusting_store(sshd)) as pool:
        from_bytes = await pool.run(device_for(sshd), "cat", input=b"\x00\xffdata")
        from_str = await pool.run(device_for(sshd), "cat", input="héllo")
        without_input = await pool.run(device_for(sshd), "cat")

    assert from_bytes.stdout == b"\x00\xffdata"
    assert from_str.stdout == "héllo".encode()
    assert without_input.stdout == b""


async def test_run_timeout_raises_and_pool_still_works(sshd):
    device = device_for(sshd)
    async with make_pool(trusting_store(sshd)) as pool:
        with pytest.raises(CommandTimeout) as caught:
            await pool.run(device, "sleep 30", timeout=0.5)
        after = await pool.run(device, "echo still here")

    assert "edge-1" in caught.value.message
    assert after.stdout == b"still here\n"


async def test_wrong_key_raises_authentication_failed(sshd, tmp_path):
    wrong_key = keygen(tmp_path / "wrong_key")
    device = device_for(sshd, key_file=str(wrong_key))

    async with make_pool(trusting_store(sshd)) as pool:
        with pytest.raises(AuthenticationFailed) as caught:
            await pool.run(device, "true")

    message = caught.value.message
    assert "root" in message
    assert str(wrong_key) in message
    assert "edge-1" in message
    assert "PRIVATE KEY" not in message
    assert pool.stats.retries == 0


async def test_missing_key_file_raises_authentication_failed(sshd, tmp_path):
    device = device_for(sshd, key_file=str(tmp_path / "no_such_key"))

    async with make_pool(trusting_store(sshd)) as pool:
        with pytest.raises(AuthenticationFailed) as caught:
            await pool.run(device, "true")

    assert "no_such_key" in caught.value.message


async def test_closed_port_raises_unreachable(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    device = device_for_port(port, tmp_path)

    async with make_pool(trusting_store(), retries=1) as pool:
        with pytest.raises(Unreachable) as caught:
            await pool.run(device, "true")

    assert f"127.0.0.1:{port}" in caught.value.message
    assert caught.value.reason
    assert pool.stats.retries == 1
    assert pool.stats.open_connections == 0


async def test_silent_server_raises_connect_timeout(tmp_path):
    accepted: list[asyncio.StreamWriter] = []

    async def stay_silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(stay_silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with make_pool(trusting_store(), connect_timeout=0.5, retries=0) as pool:
            with pytest.raises(ConnectTimeout) as caught:
                await pool.run(device_for_port(port, tmp_path), "true")
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()

    assert len(accepted) == 1
    assert f"127.0.0.1:{port}" in caught.value.message


async def test_two_runs_share_one_connection(sshd):
    device = device_for(sshd)
    async with make_pool(trusting_store(sshd)) as pool:
        await pool.run(device, "true")
        await pool.run(device, "true")

    assert pool.stats.connects == 1
    assert pool.stats.reuses == 1
    assert sshd.accepted_logins() == 1


async def test_concurrent_callers_share_one_connect(sshd):
    device = device_for(sshd)
    async with make_pool(trusting_store(sshd)) as pool:
        results = await asyncio.gather(*(pool.run(device, "echo hi") for _ in range(5)))

    assert [result.stdout for result in results] == [b"hi\n"] * 5
    assert pool.stats.connects == 1
    assert sshd.accepted_logins() == 1


async def test_max_connections_bounds_open_connections(sshd):
    devices = [device_for(sshd, name=f"edge-{index}") for index in range(5)]
    async with make_pool(trusting_store(sshd), max_connections=2) as pool:
        results = await asyncio.gather(*(pool.run(device, "sleep 0.2; echo done") for device in devices))
        open_at_end = pool.stats.open_connections

    assert [result.stdout for result in results] == [b"done\n"] * 5
    assert pool.stats.connects == 5
    assert pool.stats.peak_open_connections == 2
    assert open_at_end <= 2


async def test_idle_connection_closed_to_make_room(sshd):
    first, second = device_for(sshd, name="first"), device_for(sshd, name="second")
    async with make_pool(trusting_store(sshd), max_connections=1) as pool:
        await pool.run(first, "true")
        await pool.run(second, "true")
        await pool.run(first, "true")

    assert pool.stats.connects == 3
    assert pool.stats.peak_open_connections == 1


async def test_reconnects_after_server_closes_connection(sshd):
    device = device_for(sshd)
    async with make_pool(trusting_store(sshd)) as pool:
        await pool.run(device, "true")
        for pid in sshd.session_pids():
            os.kill(pid, 15)
        noticed = await wait_until(lambda: pool.stats.open_connections == 0)
        result = await pool.run(device, "echo again")

    assert noticed
    assert result.stdout == b"again\n"
    assert pool.stats.connects == 2


async def test_reconnects_after_server_restart(sshd):
    device = device_for(sshd)
    async with make_pool(trusting_store(sshd)) as pool:
        await pool.run(device, "true")
        sshd.restart()
        result = await pool.run(device, "echo again")

    assert result.stdout == b"again\n"
    assert pool.stats.connects == 2


async def test_write_file_creates_folders_and_sets_mode(sshd, tmp_path):
    target = tmp_path / "remote" / "a" / "b" / "model.bin"
    async with make_pool(trusting_store(sshd)) as pool:
        await pool.write_file(device_for(sshd), str(target), b"first", mode=0o600)
        await pool.write_file(device_for(sshd), str(target), b"second version", mode=0o640)
        digest = await pool.file_sha256(device_for(sshd), str(target))
        missing = await pool.file_sha256(device_for(sshd), str(tmp_path / "absent"))

    assert target.read_bytes() == b"second version"
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(path.name for path in target.parent.iterdir()) == ["model.bin"]
    assert digest == hashlib.sha256(b"second version").hexdigest()
    assert missing is None
    assert pool.stats.uploads == 2


async def test_write_file_into_unwritable_path_raises_ssh_error(sshd, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    async with make_pool(trusting_store(sshd)) as pool:
        with pytest.raises(SSHError) as caught:
            await pool.write_file(device_for(sshd), str(blocker / "child" / "x"), b"data")

    assert "edge-1" in caught.value.message


def device_for_port(port: int, tmp_path: Path):
    """Return a device on a port where no sshd runs."""
    from edgetui.domain import Device

    return Device(name="edge-1", host="127.0.0.1", port=port, key_file=str(keygen(tmp_path / "key")))
