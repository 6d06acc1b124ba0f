"""Switching `current` and telling the model server about it."""

import os
import signal

from device_shim.release.files import read_link, switch_link
from device_shim.release.processes import runs_with_argument

SERVE_ARGUMENT = "serve"


def switch_current(layout, release_id):
    """Point current at release_id (None removes it); return the release it pointed to before."""
    before = read_link(layout, "current")
    if before != release_id:
        switch_link(layout, "current", release_id)
    return before


def restart_server(layout):
    """Send SIGHUP to the model server named in .edgetui/serve.pid so it loads the current release.

    Return {"server": "none" | "signalled" | "stale_pid", "pid": ...}. The PID is
    signalled only when that process runs the shim's `serve` command, because a
    stale file could name an unrelated process that SIGHUP would end.
    """
    try:
        with open(layout.serve_pid_file, "r") as handle:
            pid = int(handle.read().strip())
    except (IOError, OSError, ValueError):
        return {"server": "none"}
    if not runs_with_argument(pid, SERVE_ARGUMENT):
        return {"server": "stale_pid", "pid": pid}
    try:
        os.kill(pid, signal.SIGHUP)
    except OSError as exc:
        return {"server": "signal_failed", "pid": pid, "error": str(exc)}
    return {"server": "signalled", "pid": pid}
