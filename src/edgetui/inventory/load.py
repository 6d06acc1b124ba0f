"""load_inventory: read an inventory file in any supported format."""

import logging
from collections.abc import Callable
from pathlib import Path

from edgetui.inventory.ansible_ini import read_ansible_ini
from edgetui.inventory.ansible_yaml import read_ansible_yaml
from edgetui.inventory.detect import detect_format
from edgetui.inventory.errors import InventoryError
from edgetui.inventory.model import Inventory
from edgetui.inventory.ssh_config import read_ssh_config
from edgetui.inventory.toml import read_toml

log = logging.getLogger("edgetui.inventory")

_READERS: dict[str, Callable[[Path, str], Inventory]] = {
    "toml": read_toml,
    "ssh_config": read_ssh_config,
    "ansible-ini": read_ansible_ini,
    "ansible-yaml": read_ansible_yaml,
}


def load_inventory(path: Path) -> Inventory:
    """Read the devices and host keys of an inventory file, detecting its format.

    Raises InventoryError, naming the file and the line where the format has
    lines, for a missing or unreadable file, invalid contents, or no devices.
    """
    path = Path(path)
    text = _read_text(path)
    if not text.strip():
        raise InventoryError(path, "no devices found: the file is empty")

    source_format = detect_format(path, text)
    inventory = _READERS[source_format](path, text)
    if not inventory.devices:
        raise InventoryError(path, f"no devices found in this {source_format} inventory")
    log.info("read %d devices and %d host keys from %s (%s)", len(inventory.devices),
             len(inventory.host_keys), path, source_format)
    return inventory


def _read_text(path: Path) -> str:
    """Return the file's text, or raise InventoryError saying why it cannot be read."""
    if not path.exists():
        raise InventoryError(path, "file not found. Check the path and try again")
    if not path.is_file():
        raise InventoryError(path, "not a file. Give the path of an inventory file")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise InventoryError(path, f"not a text file in UTF-8 ({error.reason} at byte "
                             f"{error.start})") from error
    except OSError as error:
        raise InventoryError(path, f"cannot read the file: {error.strerror}") from error
