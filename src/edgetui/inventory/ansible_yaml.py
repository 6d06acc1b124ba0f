"""Ansible inventories in YAML form: all: {hosts, vars, children}, nested to any depth."""

from pathlib import Path
from typing import Any

import yaml

from edgetui.inventory.ansible_groups import GroupTree
from edgetui.inventory.ansible_vars import expand_host_pattern
from edgetui.inventory.errors import InventoryError
from edgetui.inventory.model import Inventory

_GROUP_KEYS = ("hosts", "vars", "children")


def read_ansible_yaml(path: Path, text: str) -> Inventory:
    """Parse an Ansible YAML inventory into devices tagged with their groups."""
    tree = _YamlReader(path, text).read()
    inventory = Inventory(path=path, source_format="ansible-yaml")
    inventory.devices = tree.devices(inventory.warnings)
    return inventory


class _YamlReader:
    """Walks the YAML node tree instead of plain data, so errors can name the line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.loader = yaml.SafeLoader(text)
        # PyYAML names the source "<unicode string>" in its messages otherwise.
        self.loader.name = str(path)
        self.tree = GroupTree(path)
        # Nodes of the groups being read: a YAML alias can point back at one.
        self._open_nodes: set[int] = set()

    def read(self) -> GroupTree:
        """Read every top-level group; each is a child of 'all' unless it is 'all'."""
        try:
            root = self.loader.get_single_node()
        except yaml.YAMLError as error:
            raise InventoryError(self.path, f"invalid YAML: {error}", _mark_line(error)) from error
        if root is None:
            return self.tree
        for name, (key_node, value_node) in self._mapping(root, "the file").items():
            if name != "all":
                self.tree.add_child("all", name)
            self._read_group(name, value_node)
        return self.tree

    def _read_group(self, name: str, node: yaml.Node) -> None:
        """Read a group's hosts, vars and children into the tree."""
        self.tree.group(name)
        if _is_null(node):
            return
        if id(node) in self._open_nodes:
            raise InventoryError(self.path, f"group {name!r} contains itself", _line(node))
        self._open_nodes.add(id(node))
        mapping = self._mapping(node, f"group {name!r}")
        unknown = [key for key in mapping if key not in _GROUP_KEYS]
        if unknown:
            raise InventoryError(
                self.path, f"group {name!r}: unknown key {unknown[0]!r}; a group has "
                + ", ".join(_GROUP_KEYS), _line(mapping[unknown[0]][0]),
            )
        if "vars" in mapping:
            self.tree.group(name).variables.update(self._variables(mapping["vars"][1], name))
        if "hosts" in mapping and not _is_null(mapping["hosts"][1]):
            self._read_hosts(name, mapping["hosts"][1])
        if "children" in mapping and not _is_null(mapping["children"][1]):
            children = self._mapping(mapping["children"][1], f"children of {name!r}")
            for child, (_key_node, child_node) in children.items():
                self.tree.add_child(name, child)
                self._read_group(child, child_node)
        self._open_nodes.discard(id(node))

    def _read_hosts(self, group: str, node: yaml.Node) -> None:
        """Add the hosts of a group, expanding ranges such as web[01:03]."""
        for pattern, (key_node, value_node) in self._mapping(node, f"hosts of {group!r}").items():
            variables = self._variables(value_node, pattern)
            for host in expand_host_pattern(pattern, self.path, _line(key_node)):
                self.tree.add_host(group, host, variables, _line(key_node))

    def _mapping(self, node: yaml.Node, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """Return a mapping node's entries by key text, or raise InventoryError."""
        if not isinstance(node, yaml.MappingNode):
            raise InventoryError(self.path, f"{what} must be a mapping", _line(node))
        entries = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise InventoryError(self.path, f"{what}: expected a name as key", _line(key_node))
            entries[str(key_node.value)] = (key_node, value_node)
        return entries

    def _variables(self, node: yaml.Node, owner: str) -> dict[str, Any]:
        """Construct a vars mapping into Python values."""
        if _is_null(node):
            return {}
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as error:
            raise InventoryError(self.path, f"invalid YAML: {error}", _line(node)) from error
        if not isinstance(value, dict):
            raise InventoryError(self.path, f"variables of {owner!r} must be a mapping", _line(node))
        return {str(key): item for key, item in value.items()}


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _mark_line(error: yaml.YAMLError) -> int | None:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    return mark.line + 1 if mark is not None else None
