"""The `status` command: releases and their roles, the watchdog, the journal tail, free disk."""

import json
import os
import time

from device_shim.release import journal
from device_shim.release.checks import BYTES_PER_MB, free_bytes
from device_shim.release.files import read_link
from device_shim.release.paths import LINK_NAMES, is_release_id
from device_shim.release.processes import is_alive
from device_shim.release.watchdog_state import process_is_ours, read_state

JOURNAL_TAIL = 20


def list_releases(layout, links):
    """Return [{id, name, version, state, roles}] for every staged release, sorted by id."""
    try:
        names = sorted(os.listdir(layout.releases))
    except OSError:
        names = []
    releases = []
    for name in names:
        if not is_release_id(name) or not layout.is_staged(name):
            continue
        try:
            with open(os.path.join(layout.release_dir(name), "manifest.json"), "rb") as handle:
                manifest = json.loads(handle.read().decode("ascii"))
        except (IOError, OSError, ValueError):
            manifest = {}
        roles = [link for link in LINK_NAMES if links[link] == name]
        releases.append(
            {
                "id": name,
                "name": manifest.get("name"),
                "version": manifest.get("version"),
                "state": roles[0] if roles else "staged",
                "roles": roles,
            }
        )
    return releases


def watchdog_status(layout):
    """Return the armed watchdog's release, fallback, deadline, seconds left and process state."""
    state = read_state(layout)
    if state is None:
        return {"armed": False}
    if state.get("corrupt"):
        return {"armed": True, "corrupt": True}
    return {
        "armed": True,
        "release": state.get("release"),
        "fallback": state.get("fallback"),
        "phase": state.get("phase"),
        "deadline": state.get("deadline"),
        "seconds_left": round(max(0.0, state["deadline"] - time.time()), 1),
        "pid": state.get("pid"),
        "process_alive": is_alive(state.get("pid")) and process_is_ours(state),
    }


def run_status(layout, request):
    """Return the device's release state; reading it takes no lock."""
    links = dict((name, read_link(layout, name)) for name in LINK_NAMES)
    reply = {
        "releases": list_releases(layout, links),
        "current": links["current"],
        "known_good": links["known_good"],
        "previous": links["previous"],
        "watchdog": watchdog_status(layout),
        "journal": journal.tail(layout, JOURNAL_TAIL),
    }
    try:
        reply["disk_free_mb"] = round(free_bytes(layout) / float(BYTES_PER_MB), 1)
    except OSError:
        reply["disk_free_mb"] = None
    return reply
