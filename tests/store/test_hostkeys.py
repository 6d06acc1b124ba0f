"""SSH host public keys: remember, list, forget, replace and validation."""

import base64

import pytest

from edgetui.errors import InputError
from edgetui.store import InvalidHostKey


def ssh_key(key_type: str, payload: bytes) -> str:
    """Build an OpenSSH public key line with a blob that starts with its type."""
    name = key_type.encode()
    blob = len(name).to_bytes(4, "big") + name + len(payload).to_bytes(4, "big") + payload
    return f"{key_type} {base64.b64encode(blob).decode()}"


ED_A = ssh_key("ssh-ed25519", b"A" * 32)
ED_B = ssh_key("ssh-ed25519", b"B" * 32)
RSA = ssh_key("ssh-rsa", b"\x01\x00\x01" + b"R" * 256)


def test_remember_and_list(store):
    store.remember_host_key("10.0.0.5", 22, ED_A)
    store.remember_host_key("10.0.0.5", 22, RSA)
    assert sorted(store.known_host_keys("10.0.0.5", 22)) == sorted([ED_A, RSA])
    assert store.known_host_keys("10.0.0.5", 2222) == []
    assert store.known_host_keys("10.0.0.6", 22) == []


def test_remember_is_idempotent(store):
    store.remember_host_key("10.0.0.5", 22, ED_A)
    store.remember_host_key("10.0.0.5", 22, ED_A)
    store.remember_host_key("10.0.0.5", 22, ED_A + " root@rpi4")
    assert store.known_host_keys("10.0.0.5", 22) == [ED_A]


def test_forget_only_that_port(store):
    store.remember_host_key("127.0.0.1", 40001, ED_A)
    store.remember_host_key("127.0.0.1", 40002, ED_B)
    store.forget_host_keys("127.0.0.1", 40001)
    assert store.known_host_keys("127.0.0.1", 40001) == []
    assert store.known_host_keys("127.0.0.1", 40002) == [ED_B]


def test_replace_leaves_one_key(store):
    store.remember_host_key("10.0.0.5", 22, ED_A)
    store.remember_host_key("10.0.0.5", 22, RSA)
    store.replace_host_key("10.0.0.5", 22, ED_B)
    assert store.known_host_keys("10.0.0.5", 22) == [ED_B]


@pytest.mark.parametrize("key, problem", [
    ("", "key type"),
    ("ssh-ed25519", "key type"),
    ("ssh-ed25519 not*base64!", "not valid base64"),
    ("SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s abc", "not valid base64"),
    (ED_A.replace("ssh-ed25519", "ssh-rsa", 1), "does not contain its type"),
])
def test_invalid_key_is_rejected(store, key, problem):
    with pytest.raises(InvalidHostKey, match=problem) as raised:
        store.remember_host_key("10.0.0.5", 22, key)
    assert isinstance(raised.value, InputError)
    assert "10.0.0.5:22" in str(raised.value)
    assert store.known_host_keys("10.0.0.5", 22) == []


def test_invalid_replacement_keeps_old_key(store):
    store.remember_host_key("10.0.0.5", 22, ED_A)
    with pytest.raises(InvalidHostKey):
        store.replace_host_key("10.0.0.5", 22, "ssh-ed25519 broken")
    assert store.known_host_keys("10.0.0.5", 22) == [ED_A]
