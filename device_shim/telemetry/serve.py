"""The `serve` command: the model server of the current release, on 127.0.0.1, with its telemetry sampler.

`serve --home DIR [--port N] [--interval S] [--spool-max-samples N]
[--intra-op-threads N] [--detach yes]`

In the foreground it runs until SIGTERM or SIGINT, then replies
{"ok": true, "stopped": true}. It reloads the current release on SIGHUP and
when the `current` link changes, which it checks every second. With
`--detach yes` it starts the foreground form as a detached process and
replies once that process listens (see detach.py). Only one serve runs per
home: a second one replies {"ok": true, "pid", "port", "already_running": true}.
"""

# Every shim command imports the command table, and so this module: it
# imports only what option parsing needs, and the server's modules load when
# serve runs.
from device_shim.release.paths import Layout

OPTIONS = ("home", "port", "interval", "spool-max-samples", "intra-op-threads", "detach")
EXIT_INVALID_OPTION = 2


class InvalidOption(Exception):
    """A serve option has an invalid value; the message names it and the valid range."""


class Settings(object):
    """The checked options of serve; given contains the options that were on the command line."""

    def __init__(self, options):
        self.given = dict((name, options[name]) for name in OPTIONS if name in options and name != "home")
        self.home = options.get("home")
        self.port = bounded(options, "port", int, 0, 0, 65535)
        self.interval = bounded(options, "interval", float, 1.0, 0.1, 3600.0)
        self.spool_max_samples = bounded(options, "spool-max-samples", int, 86400, 1, 100000000)
        self.intra_op_threads = bounded(options, "intra-op-threads", int, 1, 1, 1024)
        detach_value = options.get("detach", "no")
        if detach_value not in ("yes", "no"):
            raise InvalidOption("--detach must be yes or no, not {!r}".format(detach_value))
        self.detach = detach_value == "yes"


def bounded(options, name, kind, default, low, high):
    """Return option name converted by kind and checked to be in [low, high], or default when absent."""
    if name not in options:
        return default
    try:
        value = kind(options[name])
    except ValueError:
        value = None
    if value is None or value != value or not low <= value <= high:
        raise InvalidOption("--{} must be a number from {} to {}, not {!r}".format(name, low, high, options[name]))
    return value


def configure_logging():
    """Send the shim's log records to stderr (serve.log when detached), with time and PID; return serve's logger."""
    import logging
    import sys

    logger = logging.getLogger("device_shim")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s serve[%(process)d] %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    return logging.getLogger("device_shim.telemetry.serve")


def run_serve(options):
    """Shim handler of `serve`: run in the foreground, or start detached with --detach yes."""
    log = configure_logging()
    try:
        settings = Settings(options)
    except InvalidOption as exc:
        return {"ok": False, "code": "invalid_option", "error": str(exc)}, EXIT_INVALID_OPTION
    from device_shim.telemetry.serve_loop import serve

    try:
        return serve(Layout(settings.home), settings)
    except Exception as exc:  # noqa: BLE001 - the caller must always get one JSON reply
        log.exception("serve failed")
        return {"ok": False, "code": "internal_error", "error": "{}: {}".format(type(exc).__name__, exc)}, 1
