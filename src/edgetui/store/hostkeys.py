"""The host_keys table: SSH host public keys that the user accepted or imported.

Only public keys are stored, one normalized OpenSSH line per row: the key type
and the base64 blob, without the comment.
"""

import base64
import binascii
import logging

from edgetui.store.db import StoreConnection
from edgetui.store.errors import InvalidHostKey
from edgetui.store.timestamps import to_iso, utc_now

log = logging.getLogger("edgetui.store")


class HostKeyTable:
    """Queries and writes on the host_keys table."""

    def __init__(self, connection: StoreConnection) -> None:
        self._connection = connection

    def known(self, host: str, port: int) -> list[str]:
        """Return the stored keys of host:port, oldest first."""
        with self._connection.reading() as db:
            rows = db.execute(
                "SELECT key FROM host_keys WHERE host = ? AND port = ? ORDER BY added_at, key",
                [host, port],
            ).fetchall()
        return [row[0] for row in rows]

    def remember(self, host: str, port: int, key: str) -> None:
        """Add a key for host:port, unless it is already stored."""
        normalized = normalize_host_key(host, port, key)
        with self._connection.transaction() as db:
            db.table("host_keys").insert(
                {"host": host, "port": port, "key": normalized, "added_at": to_iso(utc_now())},
                ignore=True,
            )
        log.info("stored host key %s for %s:%d", normalized.split()[0], host, port)

    def forget(self, host: str, port: int) -> None:
        """Delete every stored key of host:port."""
        with self._connection.transaction() as db:
            db.table("host_keys").delete_where("host = ? AND port = ?", [host, port])
        log.info("forgot host keys of %s:%d", host, port)

    def replace(self, host: str, port: int, key: str) -> None:
        """Make ``key`` the only stored key of host:port."""
        normalized = normalize_host_key(host, port, key)
        with self._connection.transaction():
            self.forget(host, port)
            self.remember(host, port, normalized)


def normalize_host_key(host: str, port: int, key: str) -> str:
    """Return "TYPE BASE64" from an OpenSSH public key line, or raise InvalidHostKey.

    The blob must decode and must start with its own key type as a
    length-prefixed string, as every SSH public key blob does. This catches a
    pasted fingerprint or a line whose type and blob do not match.
    """
    parts = key.split()
    if len(parts) < 2:
        raise InvalidHostKey(host, port, key, "expected a key type and a base64 key")
    key_type, blob_text = parts[0], parts[1]
    try:
        blob = base64.b64decode(blob_text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidHostKey(host, port, key, "the key is not valid base64") from error
    type_length = int.from_bytes(blob[:4], "big")
    if blob[4:4 + type_length] != key_type.encode("ascii", "replace"):
        raise InvalidHostKey(host, port, key, f"the key data does not contain its type {key_type!r}")
    return f"{key_type} {blob_text}"
