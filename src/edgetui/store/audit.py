"""The audit and audit_head tables: the hash-chained log of every action, and its head.

An append reads the head, inserts the entry and updates the head in one
transaction, which starts with BEGIN IMMEDIATE, so two processes never chain
two entries to the same predecessor.
"""

import json
import logging
from typing import Any

from edgetui.audit.records import GENESIS_HASH, AuditEntry, AuditHead, check_no_secrets, entry_hash
from edgetui.store.db import StoreConnection
from edgetui.store.timestamps import to_iso, utc_now

log = logging.getLogger("edgetui.audit")


class AuditTable:
    """Appends to and reads the audit log."""

    def __init__(self, connection: StoreConnection) -> None:
        self._connection = connection

    def append(self, *, user: str, action: str, result: str, devices: list[str] | None = None,
               artifact_id: str | None = None, ssh_key_fingerprint: str | None = None,
               detail: dict[str, Any] | None = None) -> AuditEntry:
        """Append an entry stamped with the current UTC time, chained to the head, and return it.

        Raises ValueError, writing nothing, when a detail key names a secret or
        ``detail`` contains NaN or infinity, and TypeError when it is not JSON data.
        """
        detail = detail or {}
        check_no_secrets(detail)
        with self._connection.transaction() as db:
            head = _read_head(db)
            # max(id) rather than the head's count: after a removed newest entry
            # the new one takes its id, and its prev_hash still shows the gap.
            last_id = db.execute("SELECT max(id) FROM audit").fetchone()[0] or 0
            fields = {
                "id": last_id + 1,
                "ts": to_iso(utc_now()),
                "user": user,
                "ssh_key_fingerprint": ssh_key_fingerprint,
                "action": action,
                "devices": list(devices or []),
                "artifact_id": artifact_id,
                "result": result,
                "detail": detail,
                "prev_hash": head.hash if head else GENESIS_HASH,
            }
            entry = AuditEntry(**fields, hash=entry_hash(fields))
            db.table("audit").insert(_row(entry))
            db.execute(
                "INSERT INTO audit_head (id, count, hash) VALUES (1, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET count = excluded.count, hash = excluded.hash",
                [(head.count if head else 0) + 1, entry.hash],
            )
        log.info("audit entry %d: %s %s", entry.id, action, result)
        return entry

    def entries(self, limit: int | None = None, newest_first: bool = True) -> list[AuditEntry]:
        """Return up to ``limit`` entries (all when None), newest or oldest first."""
        order = "id DESC" if newest_first else "id"
        with self._connection.reading() as db:
            rows = list(db.table("audit").rows_where(order_by=order, limit=limit))
        return [_from_row(row) for row in rows]

    def head(self) -> AuditHead | None:
        """Return the recorded entry count and newest hash, or None before the first entry."""
        with self._connection.reading() as db:
            return _read_head(db)


def _read_head(db) -> AuditHead | None:
    row = db.execute("SELECT count, hash FROM audit_head WHERE id = 1").fetchone()
    return AuditHead(count=row[0], hash=row[1]) if row else None


def _row(entry: AuditEntry) -> dict[str, Any]:
    """Convert an entry to an audit row; JSON columns use the canonical form."""
    return {
        "id": entry.id,
        "ts": entry.ts,
        "user": entry.user,
        "ssh_key_fingerprint": entry.ssh_key_fingerprint,
        "action": entry.action,
        "devices": json.dumps(entry.devices, sort_keys=True),
        "artifact_id": entry.artifact_id,
        "result": entry.result,
        "detail": json.dumps(entry.detail, sort_keys=True, allow_nan=False),
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def _from_row(row: dict[str, Any]) -> AuditEntry:
    """Convert an audit row to an entry, keeping the stored hash as it is."""
    return AuditEntry(
        id=row["id"],
        ts=row["ts"],
        user=row["user"],
        ssh_key_fingerprint=row["ssh_key_fingerprint"],
        action=row["action"],
        devices=_loads(row["devices"]),
        artifact_id=row["artifact_id"],
        result=row["result"],
        detail=_loads(row["detail"]),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def _loads(text: str) -> Any:
    """Parse a JSON column; text edited outside edgetui into invalid JSON stays text.

    The entry's hash then no longer matches, so `AuditLog.verify` reports it
    instead of failing on the parse.
    """
    try:
        return json.loads(text)
    except (TypeError, json.JSONDecodeError):
        return text
