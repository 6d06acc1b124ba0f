"""Trusted signing keys (.edgetui/trusted_keys/<name>.pub) and manifest signature checks."""

import base64
import binascii
import os
import re

from device_shim import ed25519
from device_shim.release import journal
from device_shim.release.errors import ReleaseError
from device_shim.release.files import write_atomic
from device_shim.release.lock import StateLock

KEY_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
KEY_HEX_PATTERN = re.compile(r"^[0-9a-fA-F]{64}$")


def key_path(layout, name):
    """Return the file of the trusted key with this name; the name must match KEY_NAME_PATTERN."""
    return os.path.join(layout.trusted_keys, name + ".pub")


def check_key_name(name):
    """Raise ReleaseError "invalid_request" unless name is a valid key name."""
    if not isinstance(name, str) or not KEY_NAME_PATTERN.match(name):
        raise ReleaseError(
            "invalid_request", "key name must be 1-64 letters, digits, '.', '_' or '-', not {!r}".format(name)
        )


def run_trust(layout, request):
    """Install a trusted public key: {"name", "public_key": 64 hex, "replace": false}."""
    name = request.get("name")
    check_key_name(name)
    public_key = request.get("public_key")
    if not isinstance(public_key, str) or not KEY_HEX_PATTERN.match(public_key):
        raise ReleaseError("invalid_key", "public_key must be 64 hexadecimal characters (a raw Ed25519 key)")
    public_key = public_key.lower()
    if ed25519.decode_point(binascii.unhexlify(public_key)) is None:
        raise ReleaseError("invalid_key", "public_key is not a valid Ed25519 public key")
    replace = request.get("replace", False) is True

    with StateLock(layout):
        existing = read_key_hex(layout, name)
        if existing == public_key:
            return {"name": name, "public_key": public_key, "changed": False}
        if existing is not None and not replace:
            raise ReleaseError(
                "key_exists",
                "a different key named {!r} is already trusted; send \"replace\": true to replace it".format(name),
                name=name,
            )
        write_atomic(key_path(layout, name), (public_key + "\n").encode("ascii"))
        journal.append(layout, "trust", None, "trusted", {"key": name, "replaced": existing is not None})
    return {"name": name, "public_key": public_key, "changed": True}


def read_key_hex(layout, name):
    """Return the stored hex key with this name, or None when there is none."""
    try:
        with open(key_path(layout, name), "r") as handle:
            return handle.read().strip().lower()
    except (IOError, OSError):
        return None


def load_trusted_key(layout, name):
    """Return the 32-byte trusted key with this name; raise ReleaseError "untrusted_key"."""
    check_key_name(name)
    text = read_key_hex(layout, name)
    if text is None:
        raise ReleaseError(
            "untrusted_key", "no trusted key named {!r} on this device; install it with trust".format(name), key=name
        )
    if not KEY_HEX_PATTERN.match(text):
        raise ReleaseError("untrusted_key", "trusted key {!r} is not 64 hex characters; install it again".format(name))
    return binascii.unhexlify(text)


def decode_signature(text):
    """Decode a base64 signature; raise ReleaseError "bad_signature" unless it is 64 bytes."""
    if not isinstance(text, str):
        raise ReleaseError("bad_signature", "signature must be a base64 string")
    try:
        signature = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, binascii.Error):
        raise ReleaseError("bad_signature", "signature is not valid base64")
    if len(signature) != ed25519.SIGNATURE_BYTES:
        raise ReleaseError("bad_signature", "signature has {} bytes, not 64".format(len(signature)))
    return signature


def check_signature(layout, key_name, canonical, signature_text):
    """Verify the manifest's canonical bytes against a trusted key; raise ReleaseError on failure."""
    public_key = load_trusted_key(layout, key_name)
    signature = decode_signature(signature_text)
    if not ed25519.verify(public_key, canonical, signature):
        raise ReleaseError(
            "bad_signature",
            "the manifest's signature does not match trusted key {!r}; the manifest or signature "
            "was changed, or it was signed with another key".format(key_name),
            key=key_name,
        )
