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

FILTER_KEYS = ("name", "status", "board", "arch", "os", "accelerators")
"""Fields that a `key=value` filter term can name, in the order the hint lists them."""


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
            "accelerators": _accelerator_words(facts),
        }
        return (fields.get(key) or "").lower()


def row_matches(row: DeviceRow, query: str, now: datetime) -> bool:
    """Return whether every term of ``query`` matches the row.

    A plain term matches text in any column; `key=value` matches `value` inside
    one field of FILTER_KEYS. Both ignore case.
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


def unknown_filter_keys(query: str) -> list[str]:
    """Return the keys of `key=value` terms in ``query`` that are not FILTER_KEYS.

    `row_matches` reads such a term as plain text, so it rarely matches anything.
    """
    keys = []
    for term in query.lower().split():
        key, sep, _value = term.partition("=")
        if sep and key and key not in FILTER_KEYS and key not in keys:
            keys.append(key)
    return keys


def no_match_message(query: str) -> str:
    """Return the line shown when no device matches ``query``, naming the valid keys when a key is unknown."""
    message = f"No device matches '{query.strip()}'."
    unknown = unknown_filter_keys(query)
    if unknown:
        names = ", ".join(f"'{key}'" for key in unknown)
        noun = "is not a filter key" if len(unknown) == 1 else "are not filter keys"
        keys = f"{', '.join(FILTER_KEYS[:-1])} and {FILTER_KEYS[-1]}"
        message += f" {names} {noun}. The keys are {keys}, and plain text matches any column."
    return message


def _accelerator_words(facts: HardwareFacts) -> str:
    """Return every accelerator's vendor, kind and product name, for `accelerators=` terms."""
    return " ".join(f"{item.vendor} {item.kind} {item.name}" for item in facts.accelerators)
