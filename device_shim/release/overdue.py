"""The watchdog check that runs before every shim command, inventory included.

It costs one stat when nothing is armed, and imports the rollback code only
when .edgetui/watchdog.json exists.
"""

import os
import sys

from device_shim.release.paths import STATE_DIR

WATCHDOG_FILE = "watchdog.json"
# Commands that check under the lock themselves, or that are the watchdog.
SKIPPED_COMMANDS = ("watchdog",)


def home_from_argv(argv):
    """Return the value of --home in argv, or the working directory."""
    for index, arg in enumerate(argv):
        if arg == "--home" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--home="):
            return arg[len("--home="):]
    return os.getcwd()


def check_overdue_watchdog(argv):
    """Roll back first when an armed watchdog is past its deadline; never fail the command itself.

    When another command holds the lock this check is skipped: that command
    runs the same check under the lock.
    """
    if argv and argv[0] in SKIPPED_COMMANDS:
        return None
    try:
        home = home_from_argv(argv[1:])
        if not os.path.exists(os.path.join(home, STATE_DIR, WATCHDOG_FILE)):
            return None
        from device_shim.release.paths import Layout
        from device_shim.release.watchdog import roll_back_if_overdue

        return roll_back_if_overdue(Layout(home), wait_for_lock=False)
    except Exception as exc:  # noqa: BLE001 - the requested command must still run
        sys.stderr.write("edgetui shim: watchdog check failed: {}: {}\n".format(type(exc).__name__, exc))
        return None
