"""Process checks by PID: alive or not, and whether a PID still runs the program we started."""

import errno
import os
import signal
import time

STOP_WAIT_S = 2.0
POLL_S = 0.02


def is_alive(pid):
    """Return True when a process with this PID exists and is not a zombie."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except OSError as exc:
        # EPERM: the process exists but belongs to another user.
        if exc.errno != errno.EPERM:
            return False
    return _state(pid) != "Z"


def _state(pid):
    """Return the one-letter state from /proc/<pid>/stat, or None when unreadable."""
    try:
        with open("/proc/{}/stat".format(pid), "r") as handle:
            text = handle.read()
    except (IOError, OSError):
        return None
    # The command name in brackets may contain spaces, so split after its last ')'.
    fields = text.rpartition(")")[2].split()
    return fields[0] if fields else None


def command_line(pid):
    """Return the arguments of a process from /proc/<pid>/cmdline, or None when unreadable."""
    try:
        with open("/proc/{}/cmdline".format(pid), "rb") as handle:
            data = handle.read()
    except (IOError, OSError):
        return None
    return [part.decode("utf-8", "replace") for part in data.split(b"\x00") if part]


def runs_with_argument(pid, argument):
    """Return True when the live process pid has argument among its command-line arguments.

    A PID can be reused by an unrelated process after ours exits, so a PID
    from a file is only signalled when its command line still matches.
    """
    if not is_alive(pid):
        return False
    arguments = command_line(pid)
    return arguments is not None and argument in arguments


def stop(pid, child=None):
    """Send SIGTERM to pid and wait up to STOP_WAIT_S for it to exit; return True when it is gone.

    child is the subprocess.Popen of the process when this process started it,
    so that it can be reaped instead of staying a zombie.
    """
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return not is_alive(pid)
    deadline = time.monotonic() + STOP_WAIT_S
    while time.monotonic() < deadline:
        if child is not None and child.poll() is not None:
            return True
        if child is None and not is_alive(pid):
            return True
        time.sleep(POLL_S)
    return not is_alive(pid)
