"""AuditLog: append actions to the hash-chained audit log and verify the chain.

The chain detects an entry edited, removed or moved by someone who did not
recompute the hashes after it.
NOTE: nothing secret keys the hashes, so someone with write access to the
database who recomputes every hash after an edit, and the head, is not detected.
"""

import getpass
import logging
import os
from typing import TYPE_CHECKING, Any

from edgetui.audit.records import GENESIS_HASH, AuditEntry, AuditHead, AuditReport, entry_hash

if TYPE_CHECKING:
    # Only for annotations: the store imports edgetui.audit.records at import time.
    from edgetui.store import FleetStore

log = logging.getLogger("edgetui.audit")


def local_user() -> str:
    """Return the local user name, or "uid <n>" when the system has no name for the user."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        # getpass raises when neither the environment nor the password database names the user.
        return f"uid {os.getuid()}"


class AuditLog:
    """The audit log in a fleet database."""

    def __init__(self, store: "FleetStore") -> None:
        self._store = store

    def append(self, action: str, *, result: str, devices: list[str] | None = None,
               artifact_id: str | None = None, ssh_key_fingerprint: str | None = None,
               detail: dict[str, Any] | None = None) -> AuditEntry:
        """Record an action by the local user and return the new entry.

        ``action`` is a dotted name such as "artifact.add"; ``result`` is a word
        such as "added" or "failed". Raises ValueError, writing nothing, when a
        key of ``detail`` names a secret (passphrase, password, private_key,
        secret, token).
        """
        return self._store.append_audit(
            user=local_user(), action=action, result=result, devices=devices,
            artifact_id=artifact_id, ssh_key_fingerprint=ssh_key_fingerprint, detail=detail,
        )

    def entries(self, limit: int | None = None) -> list[AuditEntry]:
        """Return up to ``limit`` entries, newest first; every entry when ``limit`` is None."""
        return self._store.audit_entries(limit, newest_first=True)

    def verify(self) -> AuditReport:
        """Recompute the chain from the first entry and compare it with the head.

        Returns a report naming the first entry that was edited, removed or
        moved; for a removed newest entry that is the id it had.
        """
        entries = self._store.audit_entries(None, newest_first=False)
        report = _check_chain(entries) or _check_head(entries, self._store.audit_head())
        if report is None:
            report = AuditReport(ok=True, entries=len(entries))
            log.info("audit log verified: %d entries intact", len(entries))
        else:
            log.warning("audit log verification failed at entry %s: %s", report.first_bad_id, report.problem)
        return report


def _check_chain(entries: list[AuditEntry]) -> AuditReport | None:
    """Return the report of the first broken entry, or None when every link holds."""
    previous_hash = GENESIS_HASH
    expected_id = 1
    for entry in entries:
        problem = None
        bad_id = entry.id
        if entry.id != expected_id:
            bad_id = expected_id if entry.id > expected_id else entry.id
            problem = (f"entry {expected_id} is missing: the entry after entry {expected_id - 1} has id {entry.id}"
                       if entry.id > expected_id else f"entry {entry.id} is out of order")
        elif not _hash_matches(entry):
            problem = f"entry {entry.id} was changed: its hash does not match its contents"
        elif entry.prev_hash != previous_hash:
            problem = (f"entry {entry.id} does not follow entry {entry.id - 1}: its prev_hash does not match, "
                       "so an entry before it was removed, replaced or moved")
        if problem:
            return AuditReport(ok=False, entries=len(entries), first_bad_id=bad_id, problem=problem)
        previous_hash = entry.hash
        expected_id += 1
    return None


def _hash_matches(entry: AuditEntry) -> bool:
    """Tell whether the entry's stored hash is the hash of its fields."""
    try:
        return entry_hash(entry.hashed_fields()) == entry.hash
    except (TypeError, ValueError):
        # Values edited outside edgetui may not serialize (NaN); the entry is then changed.
        return False


def _check_head(entries: list[AuditEntry], head: AuditHead | None) -> AuditReport | None:
    """Compare the intact chain with the recorded count and newest hash."""
    count = len(entries)
    if head is None:
        if not entries:
            return None
        return AuditReport(False, count, entries[-1].id,
                           "the audit head is missing, so removed newest entries cannot be ruled out")
    if head.count > count:
        return AuditReport(False, count, count + 1,
                           f"the head records {head.count} entries but {count} remain: "
                           f"entries {count + 1} to {head.count} were removed")
    if head.count < count or (entries and head.hash != entries[-1].hash):
        return AuditReport(False, count, entries[-1].id if entries else None,
                           f"the newest entry does not match the head ({head.count} entries recorded)")
    return None
