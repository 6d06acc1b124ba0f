"""The armed watchdog: .edgetui/watchdog.json and the detached process that enforces it.

watchdog.json contains {"release", "fallback", "deadline" (epoch seconds),
"armed_at", "boot_id", "phase" ("activating" or "armed"), "token", "pid"}.
While it exists, `release` is on trial: unless commit removes the file before
the deadline, the device rolls back to `fallback` (null means no release).
"""

import binascii
import json
import os
import subprocess
import sys
import time

from device_shim.release.files import remove_file, write_atomic
from device_shim.release.processes import runs_with_argument, stop

BOOT_ID_FILE = "/proc/sys/kernel/random/boot_id"

# Popen objects of watchdog processes this process started, by PID, so that
# stopping one also reaps it.
_STARTED = {}


def read_state(layout):
    """Return the parsed watchdog.json, None when nothing is armed, or {"corrupt": True} when unreadable."""
    try:
        with open(layout.watchdog_file, "rb") as handle:
            data = handle.read()
    except (IOError, OSError):
        return None
    try:
        state = json.loads(data.decode("utf-8"))
    except ValueError:
        return {"corrupt": True}
    if not isinstance(state, dict) or not isinstance(state.get("deadline"), (int, float)):
        return {"corrupt": True}
    return state


def write_state(layout, state):
    """Write watchdog.json atomically."""
    write_atomic(layout.watchdog_file, (json.dumps(state, sort_keys=True) + "\n").encode("utf-8"))


def boot_id():
    """Return this boot's id from the kernel, or None where the kernel has none."""
    try:
        with open(BOOT_ID_FILE, "r") as handle:
            return handle.read().strip()
    except (IOError, OSError):
        return None


def new_state(release, fallback, deadline, phase):
    """Build the watchdog state for a release on trial, with a fresh random token."""
    return {
        "release": release,
        "fallback": fallback,
        "deadline": deadline,
        "armed_at": time.time(),
        "boot_id": boot_id(),
        "phase": phase,
        "token": binascii.hexlify(os.urandom(16)).decode("ascii"),
        "pid": None,
    }


def is_overdue(state, now=None):
    """Return True when an armed watchdog must roll back now.

    Past the deadline, or after a reboot whose clock reads earlier than the
    arming time: boards without a battery-backed clock boot with an old time,
    and waiting for that clock to reach the deadline could take days.
    """
    if state is None:
        return False
    if state.get("corrupt"):
        return True
    now = time.time() if now is None else now
    if now >= state["deadline"]:
        return True
    rebooted = state.get("boot_id") is not None and state.get("boot_id") != boot_id()
    return rebooted and now < state.get("armed_at", 0)


def package_parent():
    """Return the folder (or zip file) that contains the device_shim package, for PYTHONPATH."""
    import device_shim

    return os.path.dirname(os.path.dirname(os.path.abspath(device_shim.__file__)))


def shim_environment():
    """Return os.environ with PYTHONPATH set so that `python -m device_shim` finds this shim."""
    environment = dict(os.environ)
    parts = [package_parent()]
    if environment.get("PYTHONPATH"):
        parts.append(environment["PYTHONPATH"])
    environment["PYTHONPATH"] = os.pathsep.join(parts)
    return environment


def start_process(layout, token):
    """Start the detached `watchdog` process for token; return its PID.

    The process gets its own session (setsid), so the end of the SSH session
    that ran activate does not send it SIGHUP, and /dev/null for stdin, stdout
    and stderr, so it keeps no SSH channel open.
    """
    command = [sys.executable, "-m", "device_shim", "watchdog", "--home", layout.home, "--token", token]
    with open(os.devnull, "r+b") as devnull:
        child = subprocess.Popen(
            command,
            stdin=devnull,
            stdout=devnull,
            stderr=devnull,
            cwd=layout.home,
            env=shim_environment(),
            close_fds=True,
            start_new_session=True,
        )
    _STARTED[child.pid] = child
    return child.pid


def process_is_ours(state):
    """Return True when state's PID is alive and still runs the watchdog for state's token."""
    pid = state.get("pid")
    token = state.get("token")
    return bool(token) and runs_with_argument(pid, token)


def disarm(layout, state=None):
    """Remove watchdog.json, then stop its process when it is alive and ours; return what was done."""
    state = read_state(layout) if state is None else state
    if state is None:
        return {"disarmed": False}
    remove_file(layout.watchdog_file)
    result = {"disarmed": True, "release": state.get("release")}
    pid = state.get("pid")
    # The watchdog process disarms itself when it rolls back; it must not stop itself.
    if pid and pid != os.getpid() and process_is_ours(state):
        result["stopped_pid"] = pid
        result["stopped"] = stop(pid, _STARTED.pop(pid, None))
    return result
