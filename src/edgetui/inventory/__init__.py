"""Inventory files: edgetui TOML, ssh_config, and Ansible INI and YAML inventories."""

from edgetui.inventory.errors import InventoryError
from edgetui.inventory.load import load_inventory
from edgetui.inventory.model import FORMATS, HostKeyEntry, Inventory

__all__ = ["FORMATS", "HostKeyEntry", "Inventory", "InventoryError", "load_inventory"]
