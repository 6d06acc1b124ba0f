"""Detection of an inventory file's format from its name and contents."""

import re
from pathlib import Path

from edgetui.inventory.errors import InventoryError

_TOML_DEVICE = re.compile(r"^\s*\[\[\s*device\s*\]\]", re.MULTILINE)
_SSH_HOST = re.compile(r"^\s*(host|match)(\s+|\s*=\s*)\S", re.IGNORECASE | re.MULTILINE)
_INI_SECTION = re.compile(r"^\s*\[[^\[\]]+\]\s*$", re.MULTILINE)
_ANSIBLE_VAR = re.compile(r"\bansible_(ssh_)?(host|port|user|private_key_file)\s*=")
_YAML_GROUP = re.compile(r"^[A-Za-z0-9_.-]+:\s*(#.*)?$", re.MULTILINE)

_BY_SUFFIX = {".toml": "toml", ".yml": "ansible-yaml", ".yaml": "ansible-yaml", ".ini": "ansible-ini"}


def detect_format(path: Path, text: str) -> str:
    """Return "toml", "ssh_config", "ansible-ini" or "ansible-yaml" for a file.

    The extension decides when it is .toml, .yml, .yaml or .ini. Otherwise the
    contents decide, because ssh_config and Ansible's "hosts" files usually have
    no extension.
    """
    by_suffix = _BY_SUFFIX.get(path.suffix.lower())
    if by_suffix:
        return by_suffix
    if _TOML_DEVICE.search(text):
        return "toml"
    if _SSH_HOST.search(text):
        return "ssh_config"
    if _INI_SECTION.search(text) or _ANSIBLE_VAR.search(text):
        return "ansible-ini"
    if _YAML_GROUP.search(text):
        return "ansible-yaml"
    raise InventoryError(
        path, "unknown inventory format: expected edgetui TOML ([[device]] tables), "
        "ssh_config (Host lines), an Ansible INI inventory ([group] sections) or an "
        "Ansible YAML inventory (all: with hosts and children). Name the file .toml, "
        ".ini or .yaml to choose the format.",
    )
