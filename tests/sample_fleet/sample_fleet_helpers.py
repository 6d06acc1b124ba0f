"""Client-side helpers for the sample fleet tests: connect as a user of the inventory.

The module name is unique because pytest imports test folders without
__init__.py by base name, and `sample_fleet` is the package under test.
"""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path

import asyncssh

from sample_fleet import SampleFleet
from sample_fleet.profiles import BUNDLED_PROFILES_DIR


def profile_path(name: str) -> Path:
    """Return the folder of a bundled profile."""
    return BUNDLED_PROFILES_DIR / name


def read_inventory(fleet: SampleFleet) -> dict[str, dict]:
    """Parse the fleet's inventory.toml and return its entries by device name."""
    data = tomllib.loads(fleet.inventory_path.read_text(encoding="utf-8"))
    return {entry["name"]: entry for entry in data["device"]}


async def connect(
    entry: dict,
    *,
    username: str | None = None,
    client_key: asyncssh.SSHKey | Path | str | None = None,
) -> asyncssh.SSHClientConnection:
    """Connect to one inventory entry with its key and its host key as the only known host key.

    `username` and `client_key` replace the inventory's values. No SSH config,
    agent or default key of the user running the tests takes part.
    """
    host_key = asyncssh.import_public_key(entry["host_key"])
    return await asyncssh.connect(
        entry["host"],
        entry["port"],
        username=username or entry["user"],
        client_keys=[client_key or entry["key_file"]],
        known_hosts=([host_key], [], []),
        config=[],
        agent_path=None,
        preferred_auth="publickey",
    )


def process_running(pid: int) -> bool:
    """Return whether `pid` exists and is not a zombie.

    A killed grandchild of the fleet is re-parented to PID 1, which may not reap
    it in a container, so a zombie counts as ended.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state != "Z"


async def wait_until_ended(pid: int, attempts: int = 400) -> bool:
    """Poll until `pid` has ended, at most `attempts` times 25 ms; return whether it did."""
    for _ in range(attempts):
        if not process_running(pid):
            return True
        await asyncio.sleep(0.025)
    return not process_running(pid)
