"""The state lock: fcntl.flock on .edgetui/lock, held by every command that changes state."""

import fcntl
import os
import time

from device_shim.release.errors import ReleaseError
from device_shim.release.files import ensure_dir

# An activation holds the lock through its health check (up to its
# health_timeout_s), so waiters allow for that before they give up.
DEFAULT_WAIT_S = 300.0
POLL_S = 0.05


class StateLock(object):
    """An exclusive flock on the layout's lock file, as a context manager.

    flock locks belong to the open file description, and Python opens files
    non-inheritable, so a child process started while the lock is held does
    not keep it after this process releases it.
    """

    def __init__(self, layout, wait_s=DEFAULT_WAIT_S):
        self.layout = layout
        self.wait_s = wait_s
        self.descriptor = None

    def try_acquire(self):
        """Take the lock without waiting; return True when this process now holds it."""
        ensure_dir(self.layout.root)
        descriptor = os.open(self.layout.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (IOError, OSError):
            os.close(descriptor)
            return False
        self.descriptor = descriptor
        return True

    def acquire(self):
        """Take the lock, polling for at most wait_s seconds; raise ReleaseError "busy" on timeout."""
        deadline = time.monotonic() + self.wait_s
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                raise ReleaseError(
                    "busy",
                    "another edgetui command held {} for more than {:.0f} s; retry when it has finished".format(
                        self.layout.lock_file, self.wait_s
                    ),
                )
            time.sleep(POLL_S)

    def release(self):
        """Release the lock when held."""
        if self.descriptor is not None:
            fcntl.flock(self.descriptor, fcntl.LOCK_UN)
            os.close(self.descriptor)
            self.descriptor = None

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self.release()
        return False
