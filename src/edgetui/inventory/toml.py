"""The edgetui inventory TOML format: one [[device]] table per device."""

import base64
import binascii
import re
import tomllib
from pathlib import Path

from edgetui.domain import Device
from edgetui.inventory.errors import InventoryError
from edgetui.inventory.model import HostKeyEntry, Inventory
from edgetui.inventory.values import check_host, check_name, parse_port, resolve_key_file

KNOWN_KEYS = ("name", "host", "port", "user", "key_file", "host_key", "proxy_jump", "tags")
_TEXT_KEYS = ("user", "key_file", "host_key", "proxy_jump")
_DEVICE_HEADER = re.compile(r"^\s*\[\[\s*device\s*\]\]")
DEFAULT_SSH_PORT = 22


def read_toml(path: Path, text: str) -> Inventory:
    """Parse an edgetui inventory TOML file into devices and host keys."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # tomllib's message ends with "(at line L, column C)".
        raise InventoryError(path, f"invalid TOML: {error}") from error

    unknown = sorted(set(data) - {"device"})
    if unknown:
        raise InventoryError(
            path, f"unknown top-level key {unknown[0]!r}: the file must contain [[device]] tables"
        )
    tables = data.get("device", [])
    if not isinstance(tables, list) or not all(isinstance(table, dict) for table in tables):
        raise InventoryError(path, "'device' must be an array of tables, written [[device]]")

    lines = text.splitlines()
    starts = [number for number, line in enumerate(lines, 1) if _DEVICE_HEADER.match(line)]
    inventory = Inventory(path=path, source_format="toml")
    first_line_of: dict[str, int | None] = {}
    for index, table in enumerate(tables):
        block = _Block(lines, starts, index)
        device, host_key = _read_device(path, table, block)
        if device.name in first_line_of:
            raise InventoryError(
                path, f"duplicate device name {device.name!r}, first defined "
                f"{_at(first_line_of[device.name])}", block.start,
            )
        first_line_of[device.name] = block.start
        inventory.devices.append(device)
        if host_key:
            inventory.host_keys.append(
                HostKeyEntry(device.host, device.port or DEFAULT_SSH_PORT, host_key)
            )
    return inventory


class _Block:
    """Line numbers of one [[device]] table, found by scanning the text.

    tomllib reports no positions for valid values, so errors about a value
    point at its ``key =`` line inside the table. A device written as an inline
    table has no header, and then the error names no line.
    """

    def __init__(self, lines: list[str], starts: list[int], index: int) -> None:
        self._lines = lines
        if len(starts) == 0 or index >= len(starts):
            self.start = None
            self._end = None
            return
        self.start = starts[index]
        self._end = starts[index + 1] if index + 1 < len(starts) else len(lines) + 1

    def line_of(self, key: str) -> int | None:
        """Return the line of ``key = ...`` inside this table, or the table's header line."""
        if self.start is None:
            return None
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*[=.]")
        for number in range(self.start + 1, self._end):
            if pattern.match(self._lines[number - 1]):
                return number
        return self.start


def _read_device(path: Path, table: dict, block: _Block) -> tuple[Device, str | None]:
    """Check one [[device]] table and convert it to a Device and its optional host key."""
    unknown = sorted(set(table) - set(KNOWN_KEYS))
    label = repr(table.get("name")) if isinstance(table.get("name"), str) else "without a name"
    if unknown:
        raise InventoryError(
            path, f"device {label}: unknown key {unknown[0]!r}; known keys are "
            + ", ".join(KNOWN_KEYS), block.line_of(unknown[0]),
        )
    if "name" not in table:
        raise InventoryError(path, "missing device name: every [[device]] needs name = \"...\"",
                             block.start)
    name = check_name(table["name"], path, block.line_of("name"))
    if "host" not in table:
        raise InventoryError(path, f"device {name!r}: missing host", block.start)
    host = check_host(table["host"], name, path, block.line_of("host"))
    port = parse_port(table.get("port"), name, path, block.line_of("port"), allow_text=False)

    for key in _TEXT_KEYS:
        if key in table and not isinstance(table[key], str):
            raise InventoryError(path, f"device {name!r}: {key} must be a string", block.line_of(key))
    host_key = table.get("host_key")
    if host_key is not None:
        _check_host_key(path, name, host_key, block.line_of("host_key"))
    key_file = table.get("key_file")

    device = Device(
        name=name,
        host=host,
        port=port,
        user=table.get("user"),
        key_file=resolve_key_file(key_file, path) if key_file else None,
        proxy_jump=table.get("proxy_jump"),
        tags=_read_tags(path, name, table.get("tags", {}), block),
    )
    return device, host_key


def _read_tags(path: Path, name: str, tags: object, block: _Block) -> dict[str, str]:
    """Check that [device.tags] maps names to strings, numbers or booleans."""
    if not isinstance(tags, dict):
        raise InventoryError(path, f"device {name!r}: tags must be a table", block.line_of("tags"))
    result = {}
    for key, value in tags.items():
        if isinstance(value, (dict, list)):
            raise InventoryError(
                path, f"device {name!r}: tag {key!r} must be a string, number or boolean",
                block.line_of(key),
            )
        result[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return result


def _check_host_key(path: Path, name: str, key: str, line: int | None) -> None:
    """Reject a host_key that is not "TYPE BASE64", such as a fingerprint."""
    parts = key.split()
    valid = len(parts) >= 2
    if valid:
        try:
            base64.b64decode(parts[1], validate=True)
        except (binascii.Error, ValueError):
            valid = False
    if not valid:
        raise InventoryError(
            path, f"device {name!r}: host_key must be an OpenSSH public key line such as "
            f"'ssh-ed25519 AAAAC3Nz...', not {key[:40]!r}", line,
        )


def _at(line: int | None) -> str:
    return f"at line {line}" if line is not None else "earlier in the file"
