"""The group tree of an Ansible inventory, and how variables merge over it.

The INI and YAML readers both fill a GroupTree. `GroupTree.devices` then
merges variables in Ansible's order of precedence. 'all' applies first, then
the groups from the outermost in, so a child group overrides its parents.
Groups at the same depth apply in name order, and the host's own variables last.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgetui.domain import Device
from edgetui.inventory.ansible_vars import build_device
from edgetui.inventory.errors import InventoryError


@dataclass
class Group:
    """A group as written: its own hosts, variables and child groups."""

    hosts: list[str] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    children: list[str] = field(default_factory=list)


@dataclass
class GroupTree:
    """Everything an Ansible inventory states, before variables are merged."""

    path: Path
    groups: dict[str, Group] = field(default_factory=dict)
    host_variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    host_lines: dict[str, int | None] = field(default_factory=dict)

    def group(self, name: str) -> Group:
        """Return the named group, creating it when first mentioned."""
        return self.groups.setdefault(name, Group())

    def add_host(self, group: str, host: str, variables: dict[str, Any], line: int | None) -> None:
        """Add a host to a group; a host named again keeps its first line and merges variables."""
        if host not in self.group(group).hosts:
            self.group(group).hosts.append(host)
        self.host_lines.setdefault(host, line)
        self.host_variables.setdefault(host, {}).update(variables)

    def add_child(self, parent: str, child: str) -> None:
        """Make ``child`` a child group of ``parent``."""
        if child not in self.group(parent).children:
            self.group(parent).children.append(child)
        self.group(child)

    def devices(self, warnings: list[str]) -> list[Device]:
        """Build one device per host, in the order the hosts first appear."""
        ancestors = {name: self._ancestors(name, ()) for name in list(self.groups)}
        devices = []
        for host, line in self.host_lines.items():
            direct = {name for name, group in self.groups.items() if host in group.hosts}
            groups = set(direct).union(*(ancestors[name] for name in direct)) | {"all"}
            variables = self._merge(groups, ancestors)
            variables.update(self.host_variables[host])
            devices.append(build_device(self.path, host, variables, groups, line, warnings))
        return devices

    def _ancestors(self, name: str, seen: tuple[str, ...]) -> set[str]:
        """Return every group that contains ``name`` through children, at any depth."""
        if name in seen:
            cycle = " -> ".join((name, *reversed(seen)))
            raise InventoryError(self.path, f"group {name!r} contains itself through children: {cycle}")
        parents = {parent for parent, group in self.groups.items() if name in group.children}
        result = set(parents)
        for parent in parents:
            result |= self._ancestors(parent, (*seen, name))
        return result

    def _merge(self, groups: set[str], ancestors: dict[str, set[str]]) -> dict[str, Any]:
        """Merge the variables of ``groups``, outermost first, so inner groups win."""
        ordered = sorted(groups, key=lambda name: (name != "all", len(ancestors.get(name, ())), name))
        merged: dict[str, Any] = {}
        for name in ordered:
            merged.update(self.groups.get(name, Group()).variables)
        return merged
