"""Audit log entries and the hash that chains them. No I/O.

Each entry's hash is the sha256 of the canonical JSON of all its fields,
including its id and the hash of the entry before it (``prev_hash``). Editing,
removing or swapping an entry therefore breaks the hash of that entry or the
link from the next one.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

# prev_hash of the first entry.
GENESIS_HASH = "0" * 64

# Keys that must never reach the audit log, matched as substrings of detail keys.
SECRET_KEY_WORDS = ("passphrase", "password", "private_key", "secret", "token")


@dataclass(frozen=True)
class AuditEntry:
    """One action in the audit log, with the hashes that chain it to the previous entry."""

    id: int
    ts: str
    """UTC time of the action, ISO 8601 with microseconds."""
    user: str
    """Local user who ran edgetui."""
    ssh_key_fingerprint: str | None
    action: str
    devices: list[str]
    artifact_id: str | None
    result: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str

    def hashed_fields(self) -> dict[str, Any]:
        """Return every field that the hash covers: all of them but ``hash``."""
        return {
            "id": self.id,
            "ts": self.ts,
            "user": self.user,
            "ssh_key_fingerprint": self.ssh_key_fingerprint,
            "action": self.action,
            "devices": self.devices,
            "artifact_id": self.artifact_id,
            "result": self.result,
            "detail": self.detail,
            "prev_hash": self.prev_hash,
        }

    def as_json(self) -> dict[str, Any]:
        """Return the entry as plain data for `audit list --json`."""
        return {**self.hashed_fields(), "hash": self.hash}


@dataclass(frozen=True)
class AuditHead:
    """The number of entries and the newest entry's hash, kept apart so that removing the newest shows."""

    count: int
    hash: str


@dataclass(frozen=True)
class AuditReport:
    """Result of `AuditLog.verify`: ``first_bad_id`` and ``problem`` are None when the log is intact."""

    ok: bool
    entries: int
    first_bad_id: int | None = None
    problem: str | None = None

    def as_json(self) -> dict[str, Any]:
        """Return the report as plain data for `audit verify --json`."""
        return {"ok": self.ok, "entries": self.entries, "first_bad_id": self.first_bad_id, "problem": self.problem}


def canonical_json(data: dict[str, Any]) -> str:
    """Return ``data`` as JSON with sorted keys, no spaces and ASCII only."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def entry_hash(fields: dict[str, Any]) -> str:
    """Return the hex sha256 of the canonical JSON of an entry's hashed fields."""
    return hashlib.sha256(canonical_json(fields).encode("ascii")).hexdigest()


def check_no_secrets(detail: Any, where: str = "detail") -> None:
    """Raise ValueError when a key of ``detail``, at any depth, names a secret."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            lowered = str(key).lower()
            if any(word in lowered for word in SECRET_KEY_WORDS):
                raise ValueError(f"audit {where} key {key!r} looks like a secret; secrets never go in the audit log")
            check_no_secrets(value, f"{where}.{key}")
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            check_no_secrets(value, f"{where}[{index}]")
