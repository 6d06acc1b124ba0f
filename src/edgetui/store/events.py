"""The events table: the log of every action edgetui took, with its result."""

import json
import logging
from typing import Any

from edgetui.domain import Event
from edgetui.store.db import StoreConnection
from edgetui.store.timestamps import from_iso, to_iso, utc_now

log = logging.getLogger("edgetui.store")


class EventLog:
    """Appends to and queries the events table."""

    def __init__(self, connection: StoreConnection) -> None:
        self._connection = connection

    def record(self, action: str, device: str | None, ok: bool, message: str = "",
               detail: dict[str, Any] | None = None) -> Event:
        """Append an event stamped with the current UTC time and return it with its id.

        A ``detail`` that is not JSON-serializable raises TypeError and writes nothing.
        """
        event = Event(ts=utc_now(), action=action, device=device, ok=ok,
                      message=message, detail=detail or {})
        with self._connection.transaction() as db:
            table = db.table("events")
            table.insert({
                "ts": to_iso(event.ts),
                "action": event.action,
                "device": event.device,
                "ok": int(event.ok),
                "message": event.message,
                "detail": json.dumps(event.detail, sort_keys=True),
            })
            event.id = table.last_rowid
        return event

    def list(self, device: str | None = None, limit: int = 200) -> list[Event]:
        """Return up to ``limit`` events, newest first, of one device or of all."""
        where, params = (None, None) if device is None else ("device = ?", [device])
        with self._connection.reading() as db:
            rows = list(db.table("events").rows_where(
                where, params, order_by="ts DESC, id DESC", limit=limit,
            ))
        return [_from_row(row) for row in rows]


def _from_row(row: dict) -> Event:
    """Convert an events row to an Event."""
    return Event(
        id=row["id"],
        ts=from_iso(row["ts"]),
        action=row["action"],
        device=row["device"],
        ok=bool(row["ok"]),
        message=row["message"],
        detail=json.loads(row["detail"]),
    )
