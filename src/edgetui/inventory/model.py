"""The result of reading an inventory file."""

from dataclasses import dataclass, field
from pathlib import Path

from edgetui.domain import Device

FORMATS = ("toml", "ssh_config", "ansible-ini", "ansible-yaml")


@dataclass(frozen=True)
class HostKeyEntry:
    """An SSH host public key that the inventory states for host:port."""

    host: str
    port: int
    key: str


@dataclass
class Inventory:
    """Devices and host keys read from one inventory file.

    ``warnings`` lists what the reader skipped, such as an ssh_config Include.
    """

    path: Path
    source_format: str
    devices: list[Device] = field(default_factory=list)
    host_keys: list[HostKeyEntry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
