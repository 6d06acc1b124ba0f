"""The fleet table's rows as plain data, and the filter that selects them.

A row keeps the device and its latest facts, so the table can redraw one cell
(status, last seen) without another query to the store.
"""

from dataclasses import dataclass
from datetime import datetime

from edgetui.domain import Device, DeviceStatus, HardwareFacts
from edgetui.tui.formatting import (
    NO_VALUE,
    accelerators_text,
    memory_text,
    relative_time,
    shorten,
    value_text,
)

STATUS_REASON_WIDTH = 24
"""Maximum length of "status: reason" in the table. The device screen shows the whole reason."""

FILTER_KEYS = {"arch", "board", "os", "name", "status"}
"""Fields that a `key=value` filter term can name."""


@dataclass
class DeviceRow:
    """One device of the fleet table: the device as stored and its latest facts."""

    device: Device
    facts: HardwareFacts | None

    @property
    def name(self) -> str:
        """Device name, which is also the table's row key."""
        return self.device.name

    def status_text(self) -> str:
        """Return the status, with a shortened reason when the device is not online."""
        status = self.device.status
        if status is DeviceStatus.DISCOVERING:
            return "discovering…"
        reason = self.device.status_reason
        if status is DeviceStatus.ONLINE or not reason:
            return str(status)
        return shorten(f"{status}: {reason}", STATUS_REASON_WIDTH)

    def cells(self, now: datetime) -> dict[str, str]:
        """Return the text of every column, keyed by column key."""
        facts = self.facts or HardwareFacts()
        return {
            "name": self.name,
            "status": self.status_text(),
            "last_seen": relative_time(self.device.last_seen, now),
            "board": value_text(facts.board),
            "arch": value_text(facts.arch),
            "cores": value_text(facts.cpu_cores),
            "memory": memory_text(facts.mem_total_mb),
            "accelerators": accelerators_text(facts.accelerators),
            "release": self.device.current_release or NO_VALUE,
        }

    def field_text(self, key: str) -> str:
        """Return the text that a `key=value` filter term compares against."""
        facts = self.facts or HardwareFacts()
        fields = {
            "arch": facts.arch,
            "board": facts.board,
            "os": " ".join(part for part in (facts.os_id, facts.os_name, facts.os_version) if part),
            "name": self.name,
            "status": str(self.device.status),
        }
        return (fields.get(key) or "").lower()


def row_matches(row: DeviceRow, query: str, now: datetime) -> bool:
    """Return whether every term of ``query`` matches the row.

    A plain term matches text in any column; `key=value` matches `value` inside
    one field (arch, board, os, name or status). Both ignore case.
    """
    haystack = " ".join(row.cells(now).values()).lower()
    for term in query.lower().split():
        key, sep, value = term.partition("=")
        if sep and key in FILTER_KEYS:
            if value not in row.field_text(key):
                return False
        elif term not in haystack:
            return False
    return True
