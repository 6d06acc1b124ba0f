"""Ansible variables and host patterns, shared by the INI and YAML readers."""

import logging
import re
import shlex
import string
from pathlib import Path

from edgetui.domain import Device
from edgetui.inventory.errors import InventoryError
from edgetui.inventory.values import check_host, check_name, parse_port, resolve_key_file, tag_value

log = logging.getLogger("edgetui.inventory")

# Ansible's connection variables, with the older ansible_ssh_* spellings.
_HOST_VARS = ("ansible_host", "ansible_ssh_host")
_PORT_VARS = ("ansible_port", "ansible_ssh_port")
_USER_VARS = ("ansible_user", "ansible_ssh_user")
_KEY_VARS = ("ansible_ssh_private_key_file", "ansible_private_key_file")
_CONNECTION_VARS = set(_HOST_VARS + _PORT_VARS + _USER_VARS + _KEY_VARS) | {"ansible_ssh_common_args"}
# Passwords are never stored, so these variables are dropped with a warning.
SECRET_VARS = frozenset({
    "ansible_password", "ansible_ssh_pass", "ansible_ssh_password",
    "ansible_become_pass", "ansible_become_password", "ansible_sudo_pass",
})
_RANGE = re.compile(r"\[([0-9a-zA-Z]+):([0-9a-zA-Z]+)(?::([0-9]+))?\]")
# Groups every host belongs to; a tag naming them would add nothing.
IMPLICIT_GROUPS = frozenset({"all", "ungrouped"})


def expand_host_pattern(pattern: str, path: Path, line: int | None) -> list[str]:
    """Expand Ansible ranges such as web[01:03] or db-[a:c] into host names.

    Numeric ranges keep the start's zero padding; an optional third number is
    the step, as in web[00:10:5].
    """
    match = _RANGE.search(pattern)
    if not match:
        return [pattern]
    start, end, step_text = match.groups()
    step = int(step_text) if step_text else 1
    if start.isdigit() and end.isdigit():
        width = len(start) if start.startswith("0") else 0
        values = [str(number).zfill(width) for number in range(int(start), int(end) + 1, step)]
    elif len(start) == 1 and len(end) == 1 and start.isalpha() and end.isalpha():
        letters = string.ascii_letters
        values = list(letters[letters.index(start):letters.index(end) + 1:step])
    else:
        raise InventoryError(path, f"invalid host range {match.group(0)!r} in {pattern!r}", line)
    if not values:
        raise InventoryError(path, f"host range {match.group(0)!r} in {pattern!r} is empty", line)

    prefix, suffix = pattern[:match.start()], pattern[match.end():]
    names = []
    for value in values:
        names.extend(expand_host_pattern(prefix + value + suffix, path, line))
    return names


def build_device(path: Path, name: str, variables: dict[str, object], groups: set[str],
                 line: int | None, warnings: list[str]) -> Device:
    """Build a Device from an Ansible host's merged variables and its groups.

    ansible_ssh_common_args is read for ProxyJump (``-J host`` or
    ``-o ProxyJump=host``); its other options are ignored.
    """
    check_name(name, path, line)
    host_value = _first(variables, _HOST_VARS)
    host = check_host(name if host_value is None else str(host_value), name, path, line)
    port = parse_port(_first(variables, _PORT_VARS), name, path, line)
    user = _first(variables, _USER_VARS)
    key_file = _first(variables, _KEY_VARS)

    tags = {}
    for key, value in sorted(variables.items()):
        if key in SECRET_VARS:
            _warn_secret(path, name, key, line, warnings)
        elif key not in _CONNECTION_VARS:
            tags[key] = tag_value(value)
    named_groups = sorted(groups - IMPLICIT_GROUPS)
    if named_groups:
        tags["group"] = ",".join(named_groups)

    return Device(
        name=name,
        host=host,
        port=port,
        user=str(user) if user is not None else None,
        key_file=resolve_key_file(str(key_file), path) if key_file else None,
        proxy_jump=proxy_jump_from_args(variables.get("ansible_ssh_common_args")),
        tags=tags,
    )


def proxy_jump_from_args(args: object) -> str | None:
    """Return the ProxyJump of ssh arguments (-J or -o ProxyJump=...), or None."""
    if not isinstance(args, str):
        return None
    try:
        words = shlex.split(args)
    except ValueError:
        return None
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else ""
        if word == "-J" and following:
            return following
        if word.startswith("-J") and len(word) > 2:
            return word[2:]
        if word == "-o":
            option = following
        elif word.startswith("-o"):
            option = word[2:]
        else:
            continue
        key, _, value = option.partition("=")
        if key.strip().lower() == "proxyjump" and value.strip():
            return value.strip()
    return None


def _first(variables: dict[str, object], names: tuple[str, ...]) -> object:
    for name in names:
        if variables.get(name) is not None:
            return variables[name]
    return None


def _warn_secret(path: Path, name: str, key: str, line: int | None, warnings: list[str]) -> None:
    where = f"line {line}: " if line is not None else ""
    warning = f"{where}host {name}: {key} is not imported, because edgetui stores no passwords"
    if warning not in warnings:
        log.warning("%s: %s", path, warning)
        warnings.append(warning)
