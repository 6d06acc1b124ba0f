"""Host key checks against real sshd: unknown, accepted, recorded, changed, and known_hosts files."""

from __future__ import annotations

import asyncssh
import pytest

from edgetui.domain import HostKeyRequest
from edgetui.ssh import HostKeyChanged, HostKeyUnknown
from ssh_helpers import device_for, make_pool, other_key_line, trusting_store
from sshd import MemoryHostKeyStore

pytestmark = pytest.mark.sshd


def fingerprint_of(key_line: str) -> str:
    return asyncssh.import_public_key(key_line).get_fingerprint("sha256")


async def test_unknown_key_rejected_before_login(sshd):
    store = MemoryHostKeyStore()
    async with make_pool(store) as pool:
        with pytest.raises(HostKeyUnknown) as caught:
            await pool.run(device_for(sshd), "true")

    message = caught.value.message
    assert "edge-1" in message
    assert f"127.0.0.1:{sshd.port}" in message
    assert "ssh-ed25519" in message
    assert fingerprint_of(sshd.host_key_line) in message
    assert "--accept-new-host-keys" in message
    assert store.keys == {}
    assert sshd.accepted_logins() == 0
    assert pool.stats.retries == 0


async def test_accept_flag_records_new_key(sshd):
    store = MemoryHostKeyStore()
    async with make_pool(store, accept_new_host_keys=True) as pool:
        result = await pool.run(device_for(sshd), "echo ok")

    assert result.stdout == b"ok\n"
    assert store.keys == {("127.0.0.1", sshd.port): [sshd.host_key_line]}


async def test_callback_accepting_records_key(sshd):
    store = MemoryHostKeyStore()
    requests: list[HostKeyRequest] = []

    async def approve(request: HostKeyRequest) -> bool:
        requests.append(request)
        return True

    async with make_pool(store, accept_new_host_keys=approve) as pool:
        result = await pool.run(device_for(sshd), "echo ok")
        await pool.run(device_for(sshd), "true")

    assert result.stdout == b"ok\n"
    assert len(requests) == 1
    assert requests[0].device == "edge-1"
    assert requests[0].port == sshd.port
    assert requests[0].key_type == "ssh-ed25519"
    assert requests[0].fingerprint == fingerprint_of(sshd.host_key_line)
    assert store.keys == {("127.0.0.1", sshd.port): [sshd.host_key_line]}


async def test_callback_declining_rejects_key(sshd):
    store = MemoryHostKeyStore()

    async def decline(request: HostKeyRequest) -> bool:
        return False

    async with make_pool(store, accept_new_host_keys=decline) as pool:
        with pytest.raises(HostKeyUnknown):
            await pool.run(device_for(sshd), "true")

    assert store.keys == {}
    assert sshd.accepted_logins() == 0


async def test_different_stored_key_raises_changed_even_with_flag(sshd, tmp_path):
    old_line = other_key_line(tmp_path)
    store = MemoryHostKeyStore()
    store.remember_host_key("127.0.0.1", sshd.port, old_line)

    async with make_pool(store, accept_new_host_keys=True) as pool:
        with pytest.raises(HostKeyChanged) as caught:
            await pool.run(device_for(sshd), "true")

    message = caught.value.message
    assert "edge-1" in message
    assert fingerprint_of(old_line) in message
    assert fingerprint_of(sshd.host_key_line) in message
    assert "remove the old key" in message
    assert store.keys == {("127.0.0.1", sshd.port): [old_line]}
    assert sshd.accepted_logins() == 0


async def test_restart_with_new_host_key_raises_changed(sshd):
    store = MemoryHostKeyStore()
    async with make_pool(store, accept_new_host_keys=True) as pool:
        await pool.run(device_for(sshd), "true")
    first_line = sshd.host_key_line

    sshd.restart(new_host_key=True)
    async with make_pool(store, accept_new_host_keys=True) as pool:
        with pytest.raises(HostKeyChanged) as caught:
            await pool.run(device_for(sshd), "true")

    assert fingerprint_of(first_line) in caught.value.message
    assert fingerprint_of(sshd.host_key_line) in caught.value.message
    assert caught.value.known_fingerprints == [fingerprint_of(first_line)]


async def test_known_hosts_file_entry_with_port_is_trusted(sshd, tmp_path):
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{sshd.port} {sshd.host_key_line}\n")
    store = MemoryHostKeyStore()

    async with make_pool(store, known_hosts_files=[known_hosts]) as pool:
        result = await pool.run(device_for(sshd), "echo ok")

    assert result.stdout == b"ok\n"
    assert store.keys == {}


async def test_portless_known_hosts_entry_ignored(sshd, tmp_path):
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"127.0.0.1 {other_key_line(tmp_path)}\n")

    async with make_pool(MemoryHostKeyStore(), known_hosts_files=[known_hosts]) as pool:
        with pytest.raises(HostKeyUnknown):
            await pool.run(device_for(sshd), "true")


async def test_changed_key_names_known_hosts_file(sshd, tmp_path):
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{sshd.port} {other_key_line(tmp_path)}\n")

    async with make_pool(MemoryHostKeyStore(), known_hosts_files=[known_hosts]) as pool:
        with pytest.raises(HostKeyChanged) as caught:
            await pool.run(device_for(sshd), "true")

    assert str(known_hosts) in caught.value.message


async def test_stored_key_for_other_port_does_not_count(sshd):
    store = trusting_store(sshd)
    store.keys = {("127.0.0.1", sshd.port + 1): store.keys[("127.0.0.1", sshd.port)]}

    async with make_pool(store) as pool:
        with pytest.raises(HostKeyUnknown):
            await pool.run(device_for(sshd), "true")
