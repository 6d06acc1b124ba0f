"""Devices and pools pointed at the test sshd servers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncssh

from edgetui.domain import Device
from edgetui.ssh import SSHPool
from sshd import MemoryHostKeyStore, SSHServer

# Upper bound for polls that wait for the pool to notice a server-side close.
WAIT_POLLS = 200


def device_for(server: SSHServer, name: str = "edge-1", **fields: object) -> Device:
    """Return a device that reaches ``server`` on 127.0.0.1 with its client key."""
    values: dict[str, object] = {
        "name": name,
        "host": "127.0.0.1",
        "port": server.port,
        "key_file": str(server.client_key),
    }
    values.update(fields)
    return Device(**values)


def trusting_store(*servers: SSHServer) -> MemoryHostKeyStore:
    """Return a store that already contains the host key of each server."""
    store = MemoryHostKeyStore()
    for server in servers:
        store.remember_host_key("127.0.0.1", server.port, server.host_key_line)
    return store


def make_pool(store: MemoryHostKeyStore, **options: object) -> SSHPool:
    """Return a pool isolated from ~/.ssh: no ssh_config and no known_hosts unless given."""
    values: dict[str, object] = {"ssh_config": [], "known_hosts_files": [], "retry_delay": 0.01}
    values.update(options)
    return SSHPool(store, **values)


def other_key_line(tmp_path: Path) -> str:
    """Return the public key line of a fresh ed25519 key that no server uses."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    return key.export_public_key().decode().strip()


async def wait_until(condition, polls: int = WAIT_POLLS) -> bool:
    """Poll ``condition`` on the event loop a bounded number of times; return its last value."""
    for _ in range(polls):
        if condition():
            return True
        await asyncio.sleep(0.05)
    return bool(condition())
