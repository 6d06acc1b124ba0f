"""The devices table: the fleet's devices and their last known status."""

import difflib
import json
import logging
from datetime import datetime

from edgetui.domain import Device, DeviceStatus
from edgetui.store.db import StoreConnection
from edgetui.store.errors import DeviceNotFound
from edgetui.store.timestamps import from_iso, to_iso, utc_now

log = logging.getLogger("edgetui.store")

# Fields that an inventory import sets. Status, last_seen and current_release
# come from contact with the device, so a re-import keeps them.
CONNECTION_FIELDS = ("host", "port", "user", "key_file", "proxy_jump")


class DeviceTable:
    """Queries and writes on the devices table."""

    def __init__(self, connection: StoreConnection) -> None:
        self._connection = connection

    def upsert(self, device: Device) -> bool:
        """Insert the device, or update its connection fields and tags. Return True if it is new."""
        now = to_iso(utc_now())
        with self._connection.transaction() as db:
            table = db.table("devices")
            if self._exists(device.name):
                updates = {field: getattr(device, field) for field in CONNECTION_FIELDS}
                updates["tags"] = json.dumps(device.tags, sort_keys=True)
                updates["updated_at"] = now
                table.update(device.name, updates)
                return False
            table.insert(_to_row(device, now))
        log.info("added device %s (%s)", device.name, device.address)
        return True

    def remove(self, name: str) -> None:
        """Delete the device and its facts history. Its events stay in the log."""
        with self._connection.transaction() as db:
            self.require(name)
            db.table("devices").delete(name)
        log.info("removed device %s", name)

    def all(self) -> list[Device]:
        """Return every device, sorted by name."""
        with self._connection.reading() as db:
            rows = list(db.table("devices").rows_where(order_by="name"))
        return [_from_row(row) for row in rows]

    def get(self, name: str) -> Device:
        """Return the named device, or raise DeviceNotFound with close names."""
        with self._connection.reading() as db:
            rows = list(db.table("devices").rows_where("name = ?", [name]))
        if not rows:
            raise self._not_found(name)
        return _from_row(rows[0])

    def require(self, name: str) -> None:
        """Raise DeviceNotFound unless a device has this name."""
        if not self._exists(name):
            raise self._not_found(name)

    def set_status(self, name: str, status: DeviceStatus, reason: str | None = None,
                   last_seen: datetime | None = None) -> None:
        """Set the status and its reason. last_seen changes only when it is given."""
        updates: dict[str, object] = {
            "status": DeviceStatus(status).value,
            "status_reason": reason,
            "updated_at": to_iso(utc_now()),
        }
        if last_seen is not None:
            updates["last_seen"] = to_iso(last_seen)
        with self._connection.transaction() as db:
            self.require(name)
            db.table("devices").update(name, updates)

    def _exists(self, name: str) -> bool:
        with self._connection.reading() as db:
            return db.execute("SELECT 1 FROM devices WHERE name = ?", [name]).fetchone() is not None

    def _not_found(self, name: str) -> DeviceNotFound:
        with self._connection.reading() as db:
            names = [row[0] for row in db.execute("SELECT name FROM devices")]
        return DeviceNotFound(name, suggest_names(name, names))


def suggest_names(name: str, names: list[str], limit: int = 3) -> list[str]:
    """Return up to ``limit`` names close to ``name``: typos first, then longer names it starts."""
    suggestions = difflib.get_close_matches(name, names, n=limit, cutoff=0.6)
    for candidate in sorted(names):
        if len(suggestions) >= limit:
            break
        if candidate.startswith(name) and candidate not in suggestions:
            suggestions.append(candidate)
    return suggestions


def _to_row(device: Device, now: str) -> dict[str, object]:
    """Convert a Device to a devices row; tags become JSON text."""
    return {
        "name": device.name,
        **{field: getattr(device, field) for field in CONNECTION_FIELDS},
        "tags": json.dumps(device.tags, sort_keys=True),
        "status": device.status.value,
        "status_reason": device.status_reason,
        "last_seen": to_iso(device.last_seen) if device.last_seen else None,
        "current_release": device.current_release,
        "created_at": now,
        "updated_at": now,
    }


def _from_row(row: dict) -> Device:
    """Convert a devices row back to a Device."""
    return Device(
        name=row["name"],
        host=row["host"],
        port=row["port"],
        user=row["user"],
        key_file=row["key_file"],
        proxy_jump=row["proxy_jump"],
        tags=json.loads(row["tags"]),
        status=DeviceStatus(row["status"]),
        status_reason=row["status_reason"],
        last_seen=from_iso(row["last_seen"]),
        current_release=row["current_release"],
    )
