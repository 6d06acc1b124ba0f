"""Ansible inventories in INI form: [group], [group:vars] and [group:children] sections."""

import re
import shlex
from pathlib import Path

from edgetui.inventory.ansible_groups import GroupTree
from edgetui.inventory.ansible_vars import expand_host_pattern
from edgetui.inventory.errors import InventoryError
from edgetui.inventory.model import Inventory

_SECTION = re.compile(r"^\[([^\]:]+)(?::([^\]]+))?\]$")
# Ansible allows "host:port" on a host line, as in badwolf.example.com:5309.
_HOST_PORT = re.compile(r"^([^:]+):([0-9]+)$")


def read_ansible_ini(path: Path, text: str) -> Inventory:
    """Parse an Ansible INI inventory into devices tagged with their groups."""
    tree = _parse(path, text)
    inventory = Inventory(path=path, source_format="ansible-ini")
    inventory.devices = tree.devices(inventory.warnings)
    return inventory


def _parse(path: Path, text: str) -> GroupTree:
    """Read sections and lines; hosts before the first section belong to 'ungrouped'."""
    tree = GroupTree(path)
    group, kind = "ungrouped", "hosts"
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        section = _SECTION.match(line)
        if section:
            group, kind = section.group(1).strip(), (section.group(2) or "hosts").strip()
            if kind not in ("hosts", "vars", "children"):
                raise InventoryError(
                    path, f"unknown section type {kind!r} in {line}: use [group], "
                    "[group:vars] or [group:children]", number,
                )
            tree.group(group)
        elif kind == "hosts":
            _parse_host_line(path, tree, group, line, number)
        elif kind == "vars":
            key, value = _parse_assignment(path, line, number)
            tree.group(group).variables[key] = value
        else:
            tree.add_child(group, line.split()[0])
    return tree


def _parse_host_line(path: Path, tree: GroupTree, group: str, line: str, number: int) -> None:
    """Add the hosts of one line, such as "web[01:03] ansible_user=edge", to a group."""
    try:
        words = shlex.split(line, comments=True)
    except ValueError as error:
        raise InventoryError(path, f"cannot parse host line {line!r}: {error}", number) from error
    pattern, assignments = words[0], words[1:]
    variables = dict(_parse_assignment(path, word, number) for word in assignments)
    host_port = _HOST_PORT.match(pattern)
    if host_port:
        pattern = host_port.group(1)
        variables.setdefault("ansible_port", host_port.group(2))

    for host in expand_host_pattern(pattern, path, number):
        tree.add_host(group, host, variables, number)


def _parse_assignment(path: Path, text: str, number: int) -> tuple[str, str]:
    """Split "key=value", removing quotes around the value."""
    key, equals, value = text.partition("=")
    if not equals or not key.strip():
        raise InventoryError(path, f"expected key=value, not {text!r}", number)
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return key.strip(), value
