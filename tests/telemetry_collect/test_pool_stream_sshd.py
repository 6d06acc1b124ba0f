"""SSHPool.start_process and forward_local against a real OpenSSH sshd."""

from __future__ import annotations

import asyncio

import asyncssh
import httpx
import pytest

from collect_helpers import TcpRelay, make_pool, wait_until
from edgetui.domain import Device
from sshd import MemoryHostKeyStore, SSHServer

pytestmark = pytest.mark.sshd


def device_for(server: SSHServer, name: str = "edge-1") -> Device:
    return Device(name=name, host="127.0.0.1", port=server.port, key_file=str(server.client_key))


def trusting_store(*servers: SSHServer) -> MemoryHostKeyStore:
    store = MemoryHostKeyStore()
    for server in servers:
        store.remember_host_key("127.0.0.1", server.port, server.host_key_line)
    return store


async def test_process_streams_lines_and_stops_at_eof(sshd):
    device = device_for(sshd)
    async with make_pool(trusting_store(sshd)) as pool:
        process = await pool.start_process(device, "echo ready; while read line; do echo got-$line; done")
        first = await asyncio.wait_for(process.stdout.readline(), 10)
        process.stdin.write(b"one\n")
        second = await asyncio.wait_for(process.stdout.readline(), 10)
        process.stdin.write_eof()
        rest = await asyncio.wait_for(process.stdout.read(), 10)
        await process.wait_closed()

    assert first == b"ready\n"
    assert second == b"got-one\n"
    assert rest == b""
    assert process.exit_status == 0


async def test_stream_shares_connection_with_runs(sshd):
    device = device_for(sshd)
    async with make_pool(trusting_store(sshd)) as pool:
        process = await pool.start_process(device, "echo started; cat >/dev/null")
        assert await asyncio.wait_for(process.stdout.readline(), 10) == b"started\n"
        results = await asyncio.gather(*(pool.run(device, f"echo {index}") for index in range(5)))
        process.stdin.write_eof()
        await asyncio.wait_for(process.wait_closed(), 10)

    assert [result.stdout for result in results] == [f"{index}\n".encode() for index in range(5)]
    assert pool.stats.connects == 1
    assert sshd.accepted_logins() == 1


async def test_stream_keeps_connection_from_eviction(sshd_factory):
    first, second = sshd_factory("first"), sshd_factory("second")
    async with make_pool(trusting_store(first, second), max_connections=1) as pool:
        process = await pool.start_process(device_for(first, "a"), "cat >/dev/null")
        waiting = asyncio.create_task(pool.run(device_for(second, "b"), "echo b"))
        await asyncio.sleep(0.5)
        blocked_while_streaming = not waiting.done()

        # sshd closes the channel once the command exits, which EOF on its stdin causes.
        process.stdin.write_eof()
        await asyncio.wait_for(process.wait_closed(), 10)
        result = await asyncio.wait_for(waiting, 20)

    assert blocked_while_streaming
    assert result.stdout == b"b\n"
    assert pool.stats.peak_open_connections == 1


async def test_raised_limit_wakes_waiting_caller(sshd_factory):
    first, second = sshd_factory("first"), sshd_factory("second")
    async with make_pool(trusting_store(first, second), max_connections=1) as pool:
        process = await pool.start_process(device_for(first, "a"), "cat >/dev/null")
        waiting = asyncio.create_task(pool.run(device_for(second, "b"), "echo b"))
        await asyncio.sleep(0.2)
        pool.max_connections = 2
        result = await asyncio.wait_for(waiting, 20)
        process.stdin.write_eof()

    assert result.stdout == b"b\n"
    assert pool.stats.peak_open_connections == 2


async def test_lost_connection_ends_stream_and_frees_slot(sshd):
    relay = TcpRelay(sshd.port)
    await relay.start()
    store = trusting_store()
    store.remember_host_key("127.0.0.1", relay.port, sshd.host_key_line)
    device = Device(name="edge-1", host="127.0.0.1", port=relay.port, key_file=str(sshd.client_key))
    try:
        async with make_pool(store) as pool:
            process = await pool.start_process(device, "echo started; sleep 60")
            assert await asyncio.wait_for(process.stdout.readline(), 10) == b"started\n"
            await relay.cut()
            with pytest.raises(asyncssh.ConnectionLost):
                await asyncio.wait_for(process.stdout.read(), 10)
            freed = await wait_until(lambda: pool.stats.open_connections == 0)
            closed = await wait_until(lambda: process.is_closing())
    finally:
        await relay.close()

    assert freed
    assert closed


async def test_forward_local_reaches_remote_loopback_port(sshd):
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = b'{"ok": true}'
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    remote_port = server.sockets[0].getsockname()[1]
    device = device_for(sshd)
    try:
        async with make_pool(trusting_store(sshd)) as pool:
            async with pool.forward_local(device, remote_port=remote_port) as local_port:
                async with httpx.AsyncClient() as client:
                    response = await client.get(f"http://127.0.0.1:{local_port}/v1/health", timeout=10)
            open_after = pool.stats.open_connections
    finally:
        server.close()
        await server.wait_closed()

    assert local_port != remote_port
    assert response.json() == {"ok": True}
    assert open_after == 1


async def test_forward_local_rejects_invalid_port(sshd):
    async with make_pool(trusting_store(sshd)) as pool:
        with pytest.raises(ValueError, match="70000"):
            async with pool.forward_local(device_for(sshd), remote_port=70000):
                pass


async def test_forward_to_closed_port_fails_request(sshd):
    device = device_for(sshd)
    async with make_pool(trusting_store(sshd)) as pool:
        async with pool.forward_local(device, remote_port=1) as local_port:
            async with httpx.AsyncClient() as client:
                with pytest.raises(httpx.HTTPError):
                    await client.get(f"http://127.0.0.1:{local_port}/", timeout=10)
        # The connection survives a refused forward.
        result = await pool.run(device, "echo still")

    assert result.stdout == b"still\n"
