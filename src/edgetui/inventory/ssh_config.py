"""OpenSSH client configuration files: each concrete Host alias becomes a device.

The device's host is the alias itself, so the SSH layer resolves HostName,
Port, User, IdentityFile and ProxyJump through ssh_config when it connects.
The values this file sets are kept as tags (ssh_hostname, ssh_port, ssh_user,
ssh_identity_file, ssh_proxy_jump), and the tag ssh_config names the file.
"""

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from edgetui.domain import Device
from edgetui.inventory.errors import InventoryError
from edgetui.inventory.model import Inventory
from edgetui.inventory.values import check_name, parse_port

log = logging.getLogger("edgetui.inventory")

# Keywords recorded as tags, in lower case as ssh_config matches them.
_RECORDED = {
    "hostname": "ssh_hostname",
    "port": "ssh_port",
    "user": "ssh_user",
    "identityfile": "ssh_identity_file",
    "proxyjump": "ssh_proxy_jump",
}
# "Keyword value", "Keyword=value" and "Keyword = value" are all valid ssh_config.
_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9]*)\s*(?:=\s*|\s+)(.*?)\s*$")


@dataclass
class _Entry:
    """One concrete alias and the recorded keywords of the Host blocks that name it."""

    alias: str
    line: int
    values: dict[str, str] = field(default_factory=dict)


def read_ssh_config(path: Path, text: str) -> Inventory:
    """Turn each concrete Host alias of an ssh_config file into a device."""
    inventory = Inventory(path=path, source_format="ssh_config")
    entries: dict[str, _Entry] = {}
    current: list[_Entry] = []

    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        match = _LINE.match(raw)
        if not match:
            raise InventoryError(path, f"cannot parse {raw.strip()!r}: expected 'Keyword value'", number)
        keyword, value = match.group(1).lower(), _unquote(match.group(2))

        if keyword == "host":
            current = _start_host_block(path, value, number, entries)
        elif keyword == "match":
            # Match criteria depend on the connection, so its settings are skipped.
            current = []
        elif keyword == "include":
            warning = f"line {number}: Include {value} was not followed; import that file separately"
            log.warning("%s: %s", path, warning)
            inventory.warnings.append(warning)
        elif keyword in _RECORDED:
            _record(path, current, keyword, value, number)

    for entry in entries.values():
        inventory.devices.append(_to_device(path, entry))
    return inventory


def _start_host_block(path: Path, patterns: str, line: int,
                      entries: dict[str, _Entry]) -> list[_Entry]:
    """Return the entries of the concrete aliases that a Host line names, creating new ones."""
    current = []
    for pattern in patterns.split():
        # Wildcards and negations match many hosts, so they name no single device.
        if any(char in pattern for char in "*?!"):
            continue
        check_name(pattern, path, line)
        entry = entries.setdefault(pattern, _Entry(alias=pattern, line=line))
        current.append(entry)
    return current


def _record(path: Path, current: list[_Entry], keyword: str, value: str, line: int) -> None:
    """Store a keyword's value for each alias of the current Host block."""
    if keyword == "port":
        for entry in current:
            parse_port(value, entry.alias, path, line)
    for entry in current:
        # ssh uses the first value it obtains for each keyword, so later ones lose.
        entry.values.setdefault(keyword, value)


def _to_device(path: Path, entry: _Entry) -> Device:
    """Build the device for one alias, keeping its recorded keywords as tags."""
    tags = {_RECORDED[keyword]: value for keyword, value in entry.values.items()}
    tags["ssh_config"] = str(path.resolve())
    return Device(name=entry.alias, host=entry.alias, tags=tags)


def _unquote(value: str) -> str:
    """Remove the double quotes that ssh_config allows around a value."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value
