"""The `commit` command: the current release passed its trial and becomes known_good.

Request: {"release": "<id>"}. The watchdog is disarmed before known_good moves,
so a kill between the two steps leaves current running without a watchdog,
and sending commit again finishes the job.
"""

from device_shim.release import journal
from device_shim.release.errors import ReleaseError
from device_shim.release.files import read_link, switch_link
from device_shim.release.lock import StateLock
from device_shim.release.paths import is_release_id
from device_shim.release.watchdog import roll_back_if_overdue_locked
from device_shim.release.watchdog_state import disarm, read_state


def run_commit(layout, request):
    """Make the current release known_good and disarm its watchdog; a repeated commit succeeds unchanged."""
    release_id = request.get("release")
    if not is_release_id(release_id):
        raise ReleaseError("invalid_request", "'release' must be a release id, not {!r}".format(release_id))
    with StateLock(layout):
        overdue = roll_back_if_overdue_locked(layout)
        current = read_link(layout, "current")
        if current != release_id:
            detail = {"release": release_id, "current": current}
            if overdue:
                detail["watchdog_rollback"] = overdue
            raise ReleaseError(
                "not_current",
                "release {} is not current (current is {}); only the current release can be committed".format(
                    release_id, current
                ),
                **detail
            )
        state = read_state(layout)
        watchdog = {"disarmed": False}
        if state is not None and state.get("release") == release_id:
            watchdog = disarm(layout, state)
        changed = read_link(layout, "known_good") != release_id
        if changed:
            switch_link(layout, "known_good", release_id)
        if changed or watchdog["disarmed"]:
            journal.append(layout, "commit", release_id, "committed", {"watchdog": watchdog})
    return {"release": release_id, "known_good": release_id, "changed": changed, "watchdog": watchdog}
