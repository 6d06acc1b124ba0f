"""The model server (`serve`) of a simulated device: find it by its files, pause it, stop it.

A PID read from a file is used only while /proc/<pid>/cmdline still shows the
shim's `serve` for this device's home folder, because a stale file could name
an unrelated process that reused the PID.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
from pathlib import Path

from sample_fleet.device import SimulatedDevice

logger = logging.getLogger("sample_fleet")

SERVE_PID_FILE = Path(".edgetui") / "serve.pid"
SERVE_JSON_FILE = Path(".edgetui") / "telemetry" / "serve.json"
SERVE_ARGUMENT = "serve"
# How long stop waits for servers to exit after SIGTERM before it sends SIGKILL.
STOP_WAIT_S = 5.0
_POLL_S = 0.05


def serve_pid(device: SimulatedDevice) -> int | None:
    """Return the PID of the device's running model server, or None when none runs."""
    try:
        pid = int((device.home / SERVE_PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if is_device_serve(pid, device.home) else None


def serve_port(device: SimulatedDevice) -> int | None:
    """Return the port in the device's telemetry/serve.json, or None when the file is missing or invalid."""
    try:
        data = json.loads((device.home / SERVE_JSON_FILE).read_text())
        port = int(data["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return port if 0 < port < 65536 else None


def is_device_serve(pid: int, home: Path) -> bool:
    """Return whether `pid` runs the shim's serve for `home` (in its arguments or as its working directory)."""
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    if state == "Z" or SERVE_ARGUMENT.encode() not in arguments:
        return False
    if os.fsencode(home) in arguments:
        return True
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd")) == home
    except OSError:
        return False


def send_signal(pid: int, signum: int) -> bool:
    """Send `signum` to `pid`; return False when the process is gone."""
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        return False
    return True


async def stop_serve_processes(devices: list[SimulatedDevice], known_pids: dict[str, int] | None = None) -> list[int]:
    """Stop the model servers of `devices` with SIGTERM, then SIGKILL after STOP_WAIT_S; return their PIDs.

    `known_pids` adds servers this fleet started, by device name, in case
    serve.pid was removed or replaced meanwhile. SIGCONT goes first, because
    a server paused by a latency spike would not handle SIGTERM.
    """
    targets: dict[int, SimulatedDevice] = {}
    for device in devices:
        pid = serve_pid(device)
        if pid is not None:
            targets[pid] = device
        known = (known_pids or {}).get(device.name)
        if known is not None and is_device_serve(known, device.home):
            targets[known] = device
    for pid, device in targets.items():
        logger.info("%s: stopping model server pid %d", device.name, pid)
        send_signal(pid, signal.SIGCONT)
        send_signal(pid, signal.SIGTERM)

    remaining = dict(targets)
    for _ in range(int(STOP_WAIT_S / _POLL_S)):
        remaining = {pid: device for pid, device in remaining.items() if is_device_serve(pid, device.home)}
        if not remaining:
            break
        await asyncio.sleep(_POLL_S)
    for pid, device in remaining.items():
        logger.warning("%s: model server pid %d ignored SIGTERM for %.0f s; sending SIGKILL", device.name, pid, STOP_WAIT_S)
        send_signal(pid, signal.SIGKILL)
    return list(targets)
