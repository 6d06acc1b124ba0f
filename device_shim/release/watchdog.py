"""Watchdog enforcement: the detached `watchdog` process, the overdue check, `watchdog-check` and `boot-hook`.

Three things roll back a release that was not committed in time:
- the detached process that activate starts, which sleeps until the deadline;
- the overdue check at the start of every shim command (next contact);
- `watchdog-check`, which a boot hook runs after a reboot, when no process survived.
"""

import os
import shlex
import sys
import time

from device_shim.release import journal
from device_shim.release.errors import ReleaseError
from device_shim.release.files import read_link
from device_shim.release.lock import StateLock
from device_shim.release.rollback import roll_back
from device_shim.release.watchdog_state import (
    disarm,
    is_overdue,
    package_parent,
    process_is_ours,
    read_state,
    start_process,
    write_state,
)

# The process wakes at least this often to notice a commit or a moved deadline.
MAX_SLEEP_S = 10.0
# Enough wakeups for the longest watchdog_s (one day) at MAX_SLEEP_S each.
MAX_WAKEUPS = 20000
LOCK_WAIT_S = 30.0


def overdue_target(layout, state):
    """Return (target release or None, usable) for an overdue state.

    The fallback recorded at activation wins. A corrupt watchdog.json has
    none, so known_good is used, and with no known_good the watchdog is only
    disarmed (usable False) because removing current could stop a working release.
    """
    if state.get("corrupt"):
        target = read_link(layout, "known_good")
        return target, target is not None
    target = state.get("fallback")
    if target is not None and not layout.is_staged(target):
        target = read_link(layout, "known_good")
    return target, True


def roll_back_if_overdue_locked(layout, now=None):
    """Roll back when the armed watchdog is past its deadline; the caller holds the lock.

    Returns the rollback's reply fields, or None when nothing was overdue.
    """
    state = read_state(layout)
    if not is_overdue(state, now):
        return None
    target, usable = overdue_target(layout, state)
    reason = "release {} was not committed before its watchdog deadline {}".format(
        state.get("release"), journal.utc_timestamp(state.get("deadline", 0))
    )
    if not usable:
        disarm(layout, state)
        journal.append(layout, "watchdog", None, "disarmed", {"reason": "watchdog.json was unreadable"}, "watchdog")
        return {"rolled_back": False, "trigger": "watchdog", "disarmed_corrupt": True}
    return roll_back(layout, target, "watchdog", reason, command="watchdog")


def roll_back_if_overdue(layout, wait_for_lock):
    """Take the lock (or give up at once when wait_for_lock is False and it is busy) and roll back when overdue."""
    lock = StateLock(layout, wait_s=LOCK_WAIT_S)
    if wait_for_lock:
        lock.acquire()
    elif not lock.try_acquire():
        # The holder changes state itself and checks the watchdog under the lock.
        return None
    try:
        return roll_back_if_overdue_locked(layout)
    finally:
        lock.release()


def run_watchdog(layout, options):
    """Sleep until the deadline of the watchdog with this token, then roll back unless it was disarmed."""
    token = options.get("token")
    for _ in range(MAX_WAKEUPS):
        state = read_state(layout)
        if state is None or state.get("corrupt") or state.get("token") != token:
            return {"exited": "disarmed"}
        remaining = state["deadline"] - time.time()
        if remaining > 0:
            time.sleep(min(remaining, MAX_SLEEP_S))
            continue
        try:
            with StateLock(layout, wait_s=LOCK_WAIT_S):
                state = read_state(layout)
                if state is None or state.get("token") != token:
                    return {"exited": "disarmed"}
                result = roll_back_if_overdue_locked(layout)
        except ReleaseError:
            # An activation holds the lock through its health check; try again.
            continue
        if result is not None:
            return result
    return {"exited": "too_many_wakeups"}


def run_watchdog_check(layout, request):
    """Roll back an overdue watchdog, or start its process again when it is armed but no process runs."""
    with StateLock(layout):
        result = roll_back_if_overdue_locked(layout)
        if result is not None:
            return {"armed": False, "watchdog_rollback": result}
        state = read_state(layout)
        if state is None:
            return {"armed": False}
        reply = {"armed": True, "release": state.get("release"), "deadline": state.get("deadline")}
        if process_is_ours(state):
            reply["pid"] = state["pid"]
            return reply
        # A reboot or a kill ended the process; a new one keeps the deadline.
        state["pid"] = start_process(layout, state["token"])
        write_state(layout, state)
        journal.append(layout, "watchdog-check", state.get("release"), "watchdog_restarted", {"pid": state["pid"]})
        reply["pid"] = state["pid"]
        reply["restarted"] = True
        return reply


def shim_command():
    """Return the argument list that runs this shim again: the zipapp when there is one."""
    parent = package_parent()
    zipapp = os.path.join(os.path.dirname(parent), "shim.pyz")
    if os.path.basename(parent) == "src" and os.path.isfile(zipapp):
        return [sys.executable, zipapp]
    if parent.endswith(".pyz"):
        return [sys.executable, parent]
    return ["env", "PYTHONPATH=" + parent, sys.executable, "-m", "device_shim"]


def run_boot_hook(layout, request):
    """Return the crontab @reboot line that runs watchdog-check at boot; nothing is installed."""
    command = shim_command() + ["watchdog-check", "--home", layout.home]
    line = "@reboot cd {} && {} </dev/null >/dev/null 2>&1".format(
        shlex.quote(layout.home), " ".join(shlex.quote(part) for part in command)
    )
    return {"crontab": line, "command": command}
