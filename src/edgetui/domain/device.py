"""A device in the fleet: where it is and how to reach it over SSH."""

import re
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field, field_validator

DEVICE_NAME_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
"""Allowed device names. Names appear in file paths, logs and command lines,
so shell metacharacters and a leading '-' (read as an option) are excluded."""

DEVICE_NAME_RULE = "use only letters, digits, '.', '_' and '-', and start with a letter, digit or '_'"


class DeviceStatus(StrEnum):
    """Reachability of a device as of its last contact."""

    UNKNOWN = "unknown"
    DISCOVERING = "discovering"
    ONLINE = "online"
    OFFLINE = "offline"
    ERROR = "error"


class Device(BaseModel):
    """One device of the fleet, as imported from an inventory.

    ``host`` may be an alias from ~/.ssh/config; the SSH layer resolves it.
    ``port``, ``user``, ``key_file`` and ``proxy_jump`` override ssh_config when set.
    """

    name: str
    host: str
    port: int | None = None
    user: str | None = None
    key_file: str | None = None
    proxy_jump: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    status: DeviceStatus = DeviceStatus.UNKNOWN
    status_reason: str | None = None
    last_seen: datetime | None = None
    current_release: str | None = None

    @field_validator("name")
    @classmethod
    def _check_name(cls, name: str) -> str:
        """Reject names that could be read as shell syntax or as an option."""
        if not DEVICE_NAME_PATTERN.fullmatch(name):
            raise ValueError(f"invalid device name {name!r}: {DEVICE_NAME_RULE}")
        return name

    @property
    def address(self) -> str:
        """Return ``host:port`` for messages, or the host alone without a port."""
        if self.port is None:
            return self.host
        return f"{self.host}:{self.port}"
