"""`serve --detach yes`: start serve as a detached process and wait until it listens.

The process is started the way activate starts the watchdog: `python -m
device_shim` with PYTHONPATH set to the folder (or zipapp) this shim runs
from. It runs in its own session, so it outlives the SSH session that
started it, and it keeps no SSH channel open. Its command line contains the word `serve`, which
activate checks before it sends SIGHUP to the PID in serve.pid.
"""

import os
import subprocess
import sys
import time

from device_shim.release.processes import is_alive
from device_shim.release.watchdog_state import shim_environment

START_WAIT_S = 60.0
POLL_S = 0.05
# serve.log is truncated when a detached serve starts and the file is larger.
MAX_LOG_BYTES = 1024 * 1024


def serve_command(layout, settings):
    """Return the argument list of the foreground serve that the detached process runs."""
    command = [sys.executable, "-m", "device_shim", "serve", "--home", layout.home]
    for name in ("port", "interval", "spool-max-samples", "intra-op-threads"):
        if name in settings.given:
            command += ["--" + name, str(settings.given[name])]
    return command


def open_log(files):
    """Open serve.log for appending, truncating it first when it is over MAX_LOG_BYTES."""
    try:
        size = os.path.getsize(files.log_file)
    except OSError:
        size = 0
    return open(files.log_file, "wb" if size > MAX_LOG_BYTES else "ab")


def start_detached(layout, files, settings):
    """Start the detached serve; return its subprocess.Popen."""
    with open(os.devnull, "r+b") as devnull, open_log(files) as log_handle:
        return subprocess.Popen(
            serve_command(layout, settings),
            stdin=devnull,
            stdout=devnull,
            stderr=log_handle,
            cwd=layout.home,
            env=shim_environment(),
            close_fds=True,
            start_new_session=True,
        )


def running_reply(state):
    return {"ok": True, "pid": state["pid"], "port": state.get("port"), "already_running": True}


def wait_for_running(files, deadline):
    """Wait until the holder of the serve lock has written serve.json; return the already_running reply."""
    while True:
        state = files.running_state()
        if state is not None:
            return running_reply(state), 0
        if not files.lock_is_held() or time.monotonic() >= deadline:
            break
        time.sleep(POLL_S)
    return {
        "ok": False,
        "code": "serve_start_failed",
        "error": "another serve holds {} but has not written {}; last lines of {}:\n{}".format(
            files.lock_file, files.state_file, files.log_file, files.log_tail()
        ),
    }, 1


def detach(layout, files, settings, log):
    """Make sure a serve runs for this home; return (reply, exit status)."""
    deadline = time.monotonic() + START_WAIT_S
    if files.lock_is_held():
        return wait_for_running(files, deadline)

    child = start_detached(layout, files, settings)
    log.info("started detached serve, pid %d, log %s", child.pid, files.log_file)
    while time.monotonic() < deadline:
        state = files.read_state()
        if state is not None and state.get("pid") == child.pid:
            return {"ok": True, "pid": child.pid, "port": state.get("port"), "started": True}, 0
        if child.poll() is not None:
            # It exits at once when another serve, started at the same moment, took the lock first.
            if files.lock_is_held():
                return wait_for_running(files, deadline)
            break
        time.sleep(POLL_S)

    if is_alive(child.pid):
        message = "serve (pid {}) did not write {} within {:.0f} s and may still be loading".format(
            child.pid, files.state_file, START_WAIT_S
        )
    else:
        message = "serve exited with status {} before it listened".format(child.returncode)
    log.error("%s", message)
    return {
        "ok": False,
        "code": "serve_start_failed",
        "error": "{}; last lines of {}:\n{}".format(message, files.log_file, files.log_tail()),
    }, 1
