"""The facts table: one snapshot of HardwareFacts per discovery, with its changes.

Each fact of HardwareFacts is either a hardware fact or a reading:

- Hardware facts describe what the device is and runs: arch, kernel, os_id,
  os_version, os_name, board, cpu_model, cpu_cores, cpu_clusters, cpu_flags,
  mem_total_mb, python, onnxruntime, accelerators, container_runtime (its name
  and version) and limited. A difference from the previous snapshot is a
  FactChange, because it means an upgrade, a reflash or a swapped part.
- Readings vary from one discovery to the next on unchanged hardware:
  mem_available_mb, disk_free_mb, temperatures and container_runtime's
  daemon_running. They are stored in every snapshot but never reported as changes.
- ``warnings`` describe the discovery itself, not the device, and are ignored.

A discovery that fell back to the shell script (``limited``) reports the facts it
could not read as null. On the limited side of a comparison such a null or empty
value means "unknown", so it is not reported as a change, except for ``python``
and ``limited`` themselves.
"""

import json
import logging
from datetime import datetime
from typing import Any

from edgetui.domain import FactChange, FactsSnapshot, HardwareFacts
from edgetui.store.db import StoreConnection
from edgetui.store.devices import DeviceTable
from edgetui.store.timestamps import from_iso, to_iso

log = logging.getLogger("edgetui.store")

READINGS = frozenset({"mem_available_mb", "disk_free_mb", "temperatures"})
IGNORED = frozenset({"warnings"})
HARDWARE_FACTS = tuple(
    field for field in HardwareFacts.model_fields if field not in READINGS | IGNORED
)
# Facts that a limited discovery reads like a full one, so a null there is real.
_KNOWN_WHEN_LIMITED = frozenset({"python", "limited"})


class FactsTable:
    """Queries and writes on the facts table."""

    def __init__(self, connection: StoreConnection, devices: DeviceTable) -> None:
        self._connection = connection
        self._devices = devices

    def record(self, name: str, facts: HardwareFacts, at: datetime) -> list[FactChange]:
        """Store a snapshot and return its changes against the device's previous one."""
        with self._connection.transaction() as db:
            self._devices.require(name)
            previous = self.latest(name)
            changes = compare_facts(previous, facts) if previous is not None else []
            db.table("facts").insert({
                "device": name,
                "at": to_iso(at),
                "facts": facts.model_dump_json(),
                "changes": json.dumps([change.model_dump(mode="json") for change in changes]),
            })
        if changes:
            log.info("device %s: facts changed: %s",
                     name, ", ".join(change.fact for change in changes))
        return changes

    def latest(self, name: str) -> HardwareFacts | None:
        """Return the newest snapshot's facts, or None before the first discovery."""
        snapshots = self.history(name, limit=1)
        return snapshots[0].facts if snapshots else None

    def history(self, name: str, limit: int = 20) -> list[FactsSnapshot]:
        """Return up to ``limit`` snapshots, newest first."""
        self._devices.require(name)
        with self._connection.reading() as db:
            rows = list(db.table("facts").rows_where(
                "device = ?", [name], order_by="at DESC, id DESC", limit=limit,
            ))
        return [_snapshot_from_row(row) for row in rows]


def compare_facts(before: HardwareFacts, after: HardwareFacts) -> list[FactChange]:
    """List the hardware facts that differ, in HardwareFacts field order.

    Lists and nested models compare as whole values.
    """
    old = _comparable(before)
    new = _comparable(after)
    changes = []
    for fact in HARDWARE_FACTS:
        if old[fact] == new[fact]:
            continue
        if _unknown(before, old[fact], fact) or _unknown(after, new[fact], fact):
            continue
        changes.append(FactChange(fact=fact, before=old[fact], after=new[fact]))
    return changes


def _comparable(facts: HardwareFacts) -> dict[str, Any]:
    """Dump facts as JSON values, without the readings nested in container_runtime."""
    values = facts.model_dump(mode="json")
    runtime = values.get("container_runtime")
    if runtime is not None:
        runtime.pop("daemon_running", None)
    return values


def _unknown(facts: HardwareFacts, value: Any, fact: str) -> bool:
    """Tell whether a limited discovery left this fact unread."""
    return facts.limited and fact not in _KNOWN_WHEN_LIMITED and value in (None, [])


def _snapshot_from_row(row: dict) -> FactsSnapshot:
    """Convert a facts row to a FactsSnapshot."""
    return FactsSnapshot(
        at=from_iso(row["at"]),
        facts=HardwareFacts.model_validate_json(row["facts"]),
        changes=[FactChange.model_validate(change) for change in json.loads(row["changes"])],
    )
