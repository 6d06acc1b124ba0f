"""The `rollback` command, and the rollback step that activate and the watchdog share.

Request: {"to": "known_good" | "previous" | "<release id>", "reason": "...",
"trigger": "user"}. Rollback switches current, disarms the watchdog and
restarts the model server. It changes neither known_good nor previous, so a
commit afterwards is what makes the restored release the known-good one.
"""

from device_shim.release import journal
from device_shim.release.errors import ReleaseError
from device_shim.release.files import read_link
from device_shim.release.lock import StateLock
from device_shim.release.paths import is_release_id
from device_shim.release.switch import restart_server, switch_current
from device_shim.release.watchdog_state import disarm, read_state

MAX_REASON_CHARS = 500
TRIGGERS = ("user", "console", "health_check", "watchdog", "wave_halted")


def roll_back(layout, target, trigger, reason, command="rollback"):
    """Switch current to target (None: no release), disarm the watchdog, restart the server, journal it.

    The caller holds the lock. Returns the reply fields.
    """
    watchdog = disarm(layout)
    before = switch_current(layout, target)
    server = restart_server(layout) if before != target else {"server": "unchanged"}
    detail = {"from": before, "to": target, "reason": reason, "server": server}
    journal.append(layout, command, target, "rolled_back", detail, trigger=trigger)
    return {
        "rolled_back": before != target,
        "from": before,
        "current": target,
        "trigger": trigger,
        "watchdog_disarmed": watchdog.get("disarmed", False),
    }


def resolve_target(layout, name):
    """Return the release id for "known_good", "previous" or an id; raise ReleaseError when there is none."""
    if name in ("known_good", "previous"):
        release_id = read_link(layout, name)
        if release_id is None:
            raise ReleaseError(
                "no_rollback_target", "this device has no {} release to roll back to".format(name), to=name
            )
    elif is_release_id(name):
        release_id = name
    else:
        raise ReleaseError("invalid_request", "'to' must be known_good, previous or a release id, not {!r}".format(name))
    if not layout.is_staged(release_id):
        raise ReleaseError(
            "not_staged", "rollback target {} is no longer on this device".format(release_id), release=release_id
        )
    return release_id


def run_rollback(layout, request):
    """Roll current back to the requested release; a no-op success when it already is current."""
    reason = request.get("reason") or ""
    trigger = request.get("trigger") or "user"
    if not isinstance(reason, str) or len(reason) > MAX_REASON_CHARS:
        raise ReleaseError("invalid_request", "'reason' must be a string of at most {} characters".format(MAX_REASON_CHARS))
    if trigger not in TRIGGERS:
        raise ReleaseError("invalid_request", "'trigger' must be one of {}".format(", ".join(TRIGGERS)))
    with StateLock(layout):
        # Imported here because watchdog imports this module.
        from device_shim.release.watchdog import roll_back_if_overdue_locked

        overdue = roll_back_if_overdue_locked(layout)
        target = resolve_target(layout, request.get("to", "known_good"))
        if read_link(layout, "current") == target and read_state(layout) is None:
            reply = {"rolled_back": False, "from": target, "current": target, "trigger": trigger}
        else:
            reply = roll_back(layout, target, trigger, reason)
    if overdue:
        reply["watchdog_rollback"] = overdue
    return reply
