"""Checks and conversions shared by the inventory readers: names, hosts, ports, key paths."""

import re
from pathlib import Path

from edgetui.domain.device import DEVICE_NAME_PATTERN as _NAME_PATTERN
from edgetui.domain.device import DEVICE_NAME_RULE as _NAME_RULE
from edgetui.inventory.errors import InventoryError


def check_name(value: object, path: Path, line: int | None) -> str:
    """Return ``value`` if it is a valid device name, else raise InventoryError."""
    if value is None or value == "":
        raise InventoryError(path, "missing device name", line)
    if not isinstance(value, str) or not _NAME_PATTERN.fullmatch(value):
        raise InventoryError(path, f"invalid device name {value!r}: {_NAME_RULE}", line)
    return value


def check_host(value: object, name: str, path: Path, line: int | None) -> str:
    """Return ``value`` if it is a non-empty host without whitespace, else raise InventoryError."""
    if value is None or value == "":
        raise InventoryError(path, f"device {name!r}: missing host", line)
    if not isinstance(value, str) or any(char.isspace() for char in value):
        raise InventoryError(path, f"device {name!r}: invalid host {value!r}", line)
    return value


def parse_port(value: object, name: str, path: Path, line: int | None,
               *, allow_text: bool = True) -> int | None:
    """Return the port as an int from 1 to 65535, None when absent, or raise InventoryError.

    ``allow_text`` accepts digits in a string, as INI, YAML and ssh_config files
    write them. TOML has an integer type, so it passes False.
    """
    if value is None:
        return None
    port = None
    if isinstance(value, int) and not isinstance(value, bool):
        port = value
    elif allow_text and isinstance(value, str) and value.strip().isdigit():
        port = int(value.strip())
    if port is None or not 1 <= port <= 65535:
        raise InventoryError(
            path, f"device {name!r}: port must be an integer from 1 to 65535, not {value!r}", line
        )
    return port


def resolve_key_file(value: str, inventory_path: Path) -> str:
    """Expand ``~`` and resolve a relative key path against the inventory file's folder."""
    key_path = Path(value).expanduser()
    if not key_path.is_absolute():
        key_path = inventory_path.resolve().parent / key_path
    return str(key_path)


def tag_value(value: object) -> str:
    """Convert a variable's value to the text stored in a tag."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
