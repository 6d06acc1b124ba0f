"""Helpers for the telemetry collector tests: pools on test servers, a TCP relay that can cut a link, polling.

The module name is unique across tests/, because pytest imports folders
without __init__.py by base name.
"""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path

from edgetui.domain import Device
from edgetui.ssh import SSHPool
from sshd import MemoryHostKeyStore

EMITTER = Path(__file__).with_name("telemetry_emitter.py")

# Upper bound for polls that wait for a condition: 600 polls 50 ms apart, about 30 s.
WAIT_POLLS = 600


def make_pool(store: MemoryHostKeyStore, **options: object) -> SSHPool:
    """Return a pool isolated from ~/.ssh: no ssh_config and no known_hosts files."""
    values: dict[str, object] = {"ssh_config": [], "known_hosts_files": [], "retry_delay": 0.01}
    values.update(options)
    return SSHPool(store, **values)


async def wait_until(condition, polls: int = WAIT_POLLS) -> bool:
    """Poll ``condition`` on the event loop a bounded number of times; return its last value."""
    for _ in range(polls):
        if condition():
            return True
        await asyncio.sleep(0.05)
    return bool(condition())


def emitter_command(*options: str):
    """Return a collector command_factory that runs telemetry_emitter.py with ``options`` on the device."""
    script = EMITTER.read_text()

    def factory(device: Device, after: int | None, stream_id: str | None) -> str:
        words = ["python3", "-c", script, *options]
        if after is not None and stream_id is not None:
            words += ["--after", str(after), "--stream", stream_id]
        return " ".join(shlex.quote(word) for word in words)

    return factory


class TcpRelay:
    """A TCP relay on 127.0.0.1 in front of a device's SSH port, so a test can cut the link and restore it.

    cut() closes the listener and every relayed connection, as a pulled cable
    or a rebooting device would; restore() listens again on the same port.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        """Listen on the relay's port (a free one the first time)."""
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Stop listening and reset every relayed connection."""
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        await self._server.wait_closed()
        self._server = None

    async def restore(self) -> None:
        """Listen again on the same port."""
        await self.start()

    async def close(self) -> None:
        """Stop the relay for good."""
        if self._server is not None:
            await self.cut()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, upstream_writer))
        await asyncio.gather(_pump(reader, upstream_writer), _pump(upstream_reader, writer), return_exceptions=True)
        for end in (writer, upstream_writer):
            self._writers.discard(end)
            end.transport.abort()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy bytes from reader to writer until EOF or an error on either side."""
    while True:
        data = await reader.read(65536)
        if not data:
            writer.transport.abort()
            return
        writer.write(data)
        await writer.drain()
