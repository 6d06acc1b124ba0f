"""Printing results: JSON for scripts, short tables for people."""

import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from edgetui.domain import Device, DiscoveryResult, HardwareFacts


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout."""
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def error_console() -> Console:
    """Return a console that writes to stderr, for progress and errors."""
    return Console(stderr=True, highlight=False)


def device_row(device: Device, facts: HardwareFacts | None) -> dict[str, Any]:
    """Return one device and its latest facts as plain data for `fleet list --json`."""
    return {
        "name": device.name,
        "host": device.host,
        "port": device.port,
        "user": device.user,
        "tags": device.tags,
        "status": device.status.value,
        "status_reason": device.status_reason,
        "last_seen": device.last_seen.isoformat() if device.last_seen else None,
        "board": facts.board if facts else None,
        "arch": facts.arch if facts else None,
        "cpu_cores": facts.cpu_cores if facts else None,
        "mem_total_mb": facts.mem_total_mb if facts else None,
        "accelerators": [a.model_dump() for a in facts.accelerators] if facts else [],
    }


def discovery_row(result: DiscoveryResult) -> dict[str, Any]:
    """Return one discovery result as plain data for `discover --json`."""
    return {
        "name": result.name,
        "ok": result.ok,
        "error": result.error,
        "facts": result.facts.model_dump(mode="json") if result.facts else None,
        "changes": [change.model_dump(mode="json") for change in result.changes],
    }


def fleet_table(rows: list[tuple[Device, HardwareFacts | None]]) -> Table:
    """Build the table that `fleet list` prints for people."""
    table = Table(box=None, header_style="bold")
    for column in ("name", "address", "status", "board", "arch", "cores", "memory"):
        table.add_column(column)

    for device, facts in rows:
        status = device.status.value
        if device.status_reason:
            status = f"{status}: {device.status_reason[:60]}"
        table.add_row(
            device.name,
            device.address,
            status,
            (facts.board if facts else None) or "-",
            (facts.arch if facts else None) or "-",
            str(facts.cpu_cores) if facts and facts.cpu_cores else "-",
            f"{facts.mem_total_mb} MiB" if facts and facts.mem_total_mb else "-",
        )
    return table
