"""Shim command handlers for the release commands: request parsing and the reply format.

Every release command reads a JSON object on stdin (when it takes one) and
replies {"ok": true, ...} with exit status 0, or {"ok": false, "error": "...",
"code": "..."} with exit status 1. `--home DIR` sets the folder that contains
.edgetui (default: the working directory).
"""

import importlib
import json
import sys
import traceback

from device_shim.release.errors import ReleaseError
from device_shim.release.paths import Layout

MAX_REQUEST_BYTES = 4 * 1024 * 1024
OPTIONS = ("home",)


def read_request(stream):
    """Parse the JSON object on stream; raise ReleaseError "invalid_request"."""
    text = stream.read(MAX_REQUEST_BYTES + 1)
    if len(text) > MAX_REQUEST_BYTES:
        raise ReleaseError("invalid_request", "the request is larger than {} bytes".format(MAX_REQUEST_BYTES))
    try:
        request = json.loads(text or "{}")
    except ValueError as exc:
        raise ReleaseError("invalid_request", "the request is not valid JSON: {}".format(exc))
    if not isinstance(request, dict):
        raise ReleaseError("invalid_request", "the request must be a JSON object")
    return request


def handler(module, function, reads_request=True):
    """Wrap device_shim.release.<module>.<function>(layout, request) -> reply fields into a shim handler.

    The module is imported when the command runs, so that other commands
    such as inventory do not pay for importing every release module.
    """

    def handle(options, stdin=None):
        layout = Layout(options.get("home"))
        try:
            request = read_request(stdin or sys.stdin) if reads_request else {}
            implementation = getattr(importlib.import_module("device_shim.release." + module), function)
            fields = implementation(layout, request)
        except ReleaseError as exc:
            return exc.reply(), 1
        except Exception as exc:  # noqa: BLE001 - the console must always get one JSON reply
            sys.stderr.write(traceback.format_exc())
            return {"ok": False, "code": "internal_error", "error": "{}: {}".format(type(exc).__name__, exc)}, 1
        reply = {"ok": True}
        reply.update(fields)
        return reply, 0

    return handle


def watchdog_process(options):
    """Run the detached watchdog process for --token; its reply goes to /dev/null."""
    from device_shim.release.watchdog import run_watchdog

    layout = Layout(options.get("home"))
    return dict({"ok": True}, **run_watchdog(layout, options)), 0


trust = handler("trust", "run_trust")
stage = handler("stage", "run_stage")
activate = handler("activate", "run_activate")
commit = handler("commit", "run_commit")
rollback = handler("rollback", "run_rollback")
status = handler("status", "run_status", reads_request=False)
gc = handler("gc", "run_gc")
watchdog_check = handler("watchdog", "run_watchdog_check", reads_request=False)
boot_hook = handler("watchdog", "run_boot_hook", reads_request=False)
