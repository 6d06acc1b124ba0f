"""The shim's command table and its command-line parsing."""

from device_shim.benchmark import run_benchmark
from device_shim.inventory import run_inventory
from device_shim.release import handlers as release
from device_shim.release.overdue import check_overdue_watchdog
from device_shim.telemetry import stream
from device_shim.telemetry import serve as telemetry_serve

EXIT_USAGE = 2


class UsageError(Exception):
    """The command line is invalid."""


# Each command takes the options it accepts and a handler that returns
# (reply dict, exit status). stage, activate, commit, rollback, status, serve
# and stream are added here as they are written.
COMMANDS = {
    "inventory": {"options": ("root",), "handler": run_inventory},
    "benchmark": {"options": (), "handler": run_benchmark},
    "trust": {"options": release.OPTIONS, "handler": release.trust},
    "stage": {"options": release.OPTIONS, "handler": release.stage},
    "activate": {"options": release.OPTIONS, "handler": release.activate},
    "commit": {"options": release.OPTIONS, "handler": release.commit},
    "rollback": {"options": release.OPTIONS, "handler": release.rollback},
    "status": {"options": release.OPTIONS, "handler": release.status},
    "gc": {"options": release.OPTIONS, "handler": release.gc},
    "watchdog": {"options": ("home", "token"), "handler": release.watchdog_process},
    "watchdog-check": {"options": release.OPTIONS, "handler": release.watchdog_check},
    "boot-hook": {"options": release.OPTIONS, "handler": release.boot_hook},
    "stream": {"options": stream.OPTIONS, "handler": stream.run_stream},
    "serve": {"options": telemetry_serve.OPTIONS, "handler": telemetry_serve.run_serve},
}


def parse_options(args, allowed):
    """Parse `--name value` and `--name=value` options; raise UsageError on anything else."""
    options = {}
    index = 0
    while index < len(args):
        arg = args[index]
        if not arg.startswith("--"):
            raise UsageError("unexpected argument: {}".format(arg))
        name, has_value, value = arg[2:].partition("=")
        if name not in allowed:
            raise UsageError("unknown option: --{}".format(name))
        if not has_value:
            index += 1
            if index >= len(args):
                raise UsageError("option --{} requires a value".format(name))
            value = args[index]
        options[name] = value
        index += 1
    return options


def dispatch(argv):
    """Run the command named in argv (without the program name); return (reply, exit status)."""
    if not argv:
        return usage_error("missing command")
    # An armed watchdog past its deadline rolls back before any command runs.
    check_overdue_watchdog(argv)
    name = argv[0]
    command = COMMANDS.get(name)
    if command is None:
        return usage_error("unknown command: {}".format(name))
    try:
        options = parse_options(argv[1:], command["options"])
    except UsageError as exc:
        return usage_error(str(exc))
    return command["handler"](options)


def usage_error(message):
    """Return the JSON error reply for an invalid command line, with exit status 2."""
    return {"error": message, "commands": sorted(COMMANDS)}, EXIT_USAGE
