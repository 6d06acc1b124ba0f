"""The state shared by fact collectors: the root prefix, caches and warnings."""

import os

from device_shim.facts import runner

# The largest file read under the root. Files in /proc and /sys are small; a
# larger file is a misplaced capture or a device node, and only its head matters.
MAX_FILE_BYTES = 1024 * 1024

TIMEOUT_ENV = "EDGETUI_SHIM_COMMAND_TIMEOUT"


def timeout_from_env(default=runner.DEFAULT_TIMEOUT):
    """Return the per-program timeout in seconds from EDGETUI_SHIM_COMMAND_TIMEOUT, else default."""
    value = os.environ.get(TIMEOUT_ENV, "")
    try:
        seconds = float(value)
    except ValueError:
        return default
    return seconds if seconds > 0 else default


class Context(object):
    """Access to the device's files under a root prefix and to its programs.

    File reads and program runs are cached, because several facts parse the
    same /proc/cpuinfo or `uname -a` output. Timeouts are recorded as warnings.
    """

    def __init__(self, root="/", timeout=None, search_path=None, python_executable=None):
        self.root = root or "/"
        self.timeout = timeout if timeout is not None else timeout_from_env()
        self.search_path = search_path
        self.python_executable = python_executable
        self.warnings = []
        self._files = {}
        self._commands = {}
        self._values = {}

    def path(self, relative):
        """Return the absolute path of a device path such as /proc/cpuinfo under the root."""
        return os.path.join(self.root, relative.lstrip("/"))

    def exists(self, relative):
        """Return True when the device path exists under the root."""
        return os.path.exists(self.path(relative))

    def read_bytes(self, relative):
        """Return the first MAX_FILE_BYTES of a device file, or None when it cannot be read."""
        if relative not in self._files:
            self._files[relative] = self._read(self.path(relative))
        return self._files[relative]

    def read_text(self, relative):
        """Return a device file decoded as UTF-8 (invalid bytes replaced), or None."""
        data = self.read_bytes(relative)
        if data is None:
            return None
        return data.decode("utf-8", "replace")

    def read_value(self, relative):
        """Return a one-value sysfs or device-tree file, stripped of NULs and whitespace, or None."""
        text = self.read_text(relative)
        if text is None:
            return None
        # Device-tree strings end with a NUL byte.
        value = text.replace("\x00", " ").strip()
        return value or None

    def list_dir(self, relative):
        """Return the sorted names in a device directory, or [] when it does not exist."""
        try:
            return sorted(os.listdir(self.path(relative)))
        except OSError:
            return []

    def run(self, argv, timeout=None):
        """Run a program and return its CommandResult, or None when it is missing or timed out."""
        key = tuple(argv)
        if key not in self._commands:
            self._commands[key] = self._run(list(argv), timeout)
        return self._commands[key]

    def output(self, argv, timeout=None):
        """Return a program's stdout when it exited with status 0 and printed something, else None."""
        result = self.run(argv, timeout)
        if result is None or not result.ok or not result.stdout.strip():
            return None
        return result.stdout

    def memo(self, key, compute):
        """Return compute() once per key, so parsed files are shared between collectors."""
        if key not in self._values:
            self._values[key] = compute()
        return self._values[key]

    def warn(self, message):
        """Record a warning for the reply."""
        if message not in self.warnings:
            self.warnings.append(message)

    def _run(self, argv, timeout):
        try:
            return runner.run_program(
                argv,
                timeout=timeout if timeout is not None else self.timeout,
                search_path=self.search_path,
            )
        except runner.CommandTimeout as exc:
            self.warn(str(exc))
            return None

    @staticmethod
    def _read(path):
        try:
            with open(path, "rb") as handle:
                return handle.read(MAX_FILE_BYTES)
        except (OSError, ValueError):
            return None
