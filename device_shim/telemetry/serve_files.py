"""The files of a running serve: telemetry/serve.json, telemetry/serve.lock, telemetry/serve.log and serve.pid.

serve.json is {"pid", "host", "port", "started", "release"}, written
atomically once the HTTP server listens and removed on a clean exit.
serve.lock carries an flock that only the one running serve holds; the
kernel drops it when that process dies, however it dies.
"""

import fcntl
import json
import os

from device_shim.release.files import ensure_dir, remove_file, write_atomic
from device_shim.release.processes import runs_with_argument

TELEMETRY_DIR = "telemetry"
SERVE_ARGUMENT = "serve"


class ServeFiles(object):
    """The paths of serve's files under a Layout, and the lock that makes serve run once per home."""

    def __init__(self, layout):
        self.layout = layout
        self.folder = os.path.join(layout.root, TELEMETRY_DIR)
        self.state_file = os.path.join(self.folder, "serve.json")
        self.lock_file = os.path.join(self.folder, "serve.lock")
        self.log_file = os.path.join(self.folder, "serve.log")
        self.pid_file = layout.serve_pid_file
        self.lock_descriptor = None

    def try_lock(self):
        """Take the serve lock without waiting; return True when this process now holds it."""
        ensure_dir(self.folder)
        descriptor = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (IOError, OSError):
            os.close(descriptor)
            return False
        self.lock_descriptor = descriptor
        return True

    def unlock(self):
        if self.lock_descriptor is not None:
            fcntl.flock(self.lock_descriptor, fcntl.LOCK_UN)
            os.close(self.lock_descriptor)
            self.lock_descriptor = None

    def lock_is_held(self):
        """Return True when some process holds the serve lock now."""
        if self.lock_descriptor is not None:
            return True
        if not self.try_lock():
            return True
        self.unlock()
        return False

    def read_state(self):
        """Return the parsed serve.json, or None when it is missing or unreadable."""
        try:
            with open(self.state_file, "rb") as handle:
                state = json.loads(handle.read().decode("utf-8"))
        except (IOError, OSError, ValueError):
            return None
        return state if isinstance(state, dict) else None

    def running_state(self):
        """Return serve.json when its pid is alive and runs serve, else None."""
        state = self.read_state()
        if state is None or not runs_with_argument(state.get("pid"), SERVE_ARGUMENT):
            return None
        return state

    def write_state(self, state):
        write_atomic(self.state_file, (json.dumps(state, sort_keys=True) + "\n").encode("utf-8"))

    def write_pid(self, pid):
        write_atomic(self.pid_file, "{}\n".format(pid).encode("ascii"))

    def remove_own(self, pid):
        """Remove serve.json and serve.pid when they still name pid, so a newer serve's files stay."""
        state = self.read_state()
        if state is not None and state.get("pid") == pid:
            remove_file(self.state_file)
        try:
            with open(self.pid_file, "r") as handle:
                named = int(handle.read().strip())
        except (IOError, OSError, ValueError):
            return
        if named == pid:
            remove_file(self.pid_file)

    def log_tail(self, max_lines=20):
        """Return the last lines of serve.log, or a note that there is none."""
        try:
            with open(self.log_file, "rb") as handle:
                handle.seek(0, os.SEEK_END)
                size = handle.tell()
                handle.seek(max(0, size - 8192))
                text = handle.read().decode("utf-8", "replace")
        except (IOError, OSError):
            return "(no serve.log at {})".format(self.log_file)
        return "\n".join(text.splitlines()[-max_lines:])
