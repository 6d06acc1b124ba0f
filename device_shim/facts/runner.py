"""Run programs on the device with a timeout, never through a shell."""

import os
import signal
import subprocess

DEFAULT_TIMEOUT = 5.0

# The maximum output kept from one program, so a runaway tool cannot exhaust memory.
MAX_OUTPUT_CHARS = 1024 * 1024


class CommandResult(object):
    """The exit status and decoded output of one finished program."""

    __slots__ = ("argv", "returncode", "stdout", "stderr")

    def __init__(self, argv, returncode, stdout, stderr):
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    @property
    def ok(self):
        """Return True when the program exited with status 0."""
        return self.returncode == 0


class CommandTimeout(Exception):
    """A program ran longer than its timeout and was killed."""


def command_env(search_path=None):
    """Build the environment for child programs: the C locale, so output is not translated."""
    env = dict(os.environ)
    env["LC_ALL"] = "C"
    env["LANG"] = "C"
    if search_path is not None:
        env["PATH"] = search_path
    return env


def run_program(argv, timeout=DEFAULT_TIMEOUT, search_path=None):
    """Run argv (looked up on PATH) and return a CommandResult.

    Returns None when the program is not installed or cannot be executed.
    Raises CommandTimeout after killing the program's whole process group,
    so a wrapper script's children do not keep the output pipes open.
    """
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=command_env(search_path),
            universal_newlines=True,
            errors="replace",
            start_new_session=True,
        )
    except OSError:
        # FileNotFoundError when the program is missing, PermissionError when
        # a file of that name is not executable.
        return None

    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        proc.communicate()
        raise CommandTimeout("{} timed out after {:g} s".format(" ".join(argv), timeout))
    return CommandResult(argv, proc.returncode, stdout[:MAX_OUTPUT_CHARS], stderr[:MAX_OUTPUT_CHARS])


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()
