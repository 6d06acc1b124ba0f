"""The `activate` command: switch current to a staged release, check its health, arm the watchdog.

Request: {"release": "<id>", "watchdog_s": 120, "health": true, "health_timeout_s": 120}.

Order of steps, chosen so that a kill at any point leaves a consistent state:
1. write watchdog.json (phase "activating", fallback = known_good, else the
   current release) and start the watchdog process;
2. point previous at the current release, then switch current;
3. signal the model server, run the health check;
4. passed: move the deadline to now + watchdog_s (phase "armed");
   failed: roll back at once and disarm.
A kill after step 1 leaves an armed watchdog whose deadline covers the health
check, so the device returns to the fallback by itself.
"""

import time

from device_shim.release import health, journal
from device_shim.release.errors import ReleaseError
from device_shim.release.files import read_link, switch_link
from device_shim.release.lock import StateLock
from device_shim.release.manifest import load_staged
from device_shim.release.paths import is_release_id
from device_shim.release.rollback import roll_back
from device_shim.release.switch import restart_server, switch_current
from device_shim.release.watchdog import roll_back_if_overdue_locked
from device_shim.release.watchdog_state import disarm, new_state, read_state, start_process, write_state

DEFAULT_WATCHDOG_S = 120
MAX_WATCHDOG_S = 86400
DEFAULT_HEALTH_TIMEOUT_S = 120
MAX_HEALTH_TIMEOUT_S = 3600
# Extra seconds on the first deadline for the switch and the rollback after a
# failed check, so the watchdog does not race the activation it guards.
DEADLINE_SLACK_S = 2


def bounded_number(request, name, default, low, high):
    """Return request[name] as a number in [low, high], or default when absent."""
    value = request.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ReleaseError("invalid_request", "'{}' must be a number from {} to {}, not {!r}".format(name, low, high, value))
    return value


def parse_request(request):
    """Check the activate request; return (release id, watchdog_s, run health, health timeout)."""
    release_id = request.get("release")
    if not is_release_id(release_id):
        raise ReleaseError("invalid_request", "'release' must be a release id, not {!r}".format(release_id))
    watchdog_s = bounded_number(request, "watchdog_s", DEFAULT_WATCHDOG_S, 1, MAX_WATCHDOG_S)
    timeout_s = bounded_number(request, "health_timeout_s", DEFAULT_HEALTH_TIMEOUT_S, 1, MAX_HEALTH_TIMEOUT_S)
    run_health = request.get("health", True)
    if not isinstance(run_health, bool):
        raise ReleaseError("invalid_request", "'health' must be true or false")
    return release_id, watchdog_s, run_health, timeout_s


def run_activate(layout, request):
    """Activate the requested release; on a failed health check, roll back and raise "health_check_failed"."""
    release_id, watchdog_s, run_health, timeout_s = parse_request(request)
    with StateLock(layout):
        overdue = roll_back_if_overdue_locked(layout)
        manifest = load_staged(layout, release_id)
        reply = already_active(layout, release_id)
        if reply is None:
            reply = activate(layout, release_id, manifest, watchdog_s, run_health, timeout_s)
    if overdue:
        reply["watchdog_rollback"] = overdue
    return reply


def already_active(layout, release_id):
    """Return the reply when release_id is already current, or raise when another release is on trial."""
    state = read_state(layout)
    current = read_link(layout, "current")
    if state is not None and state.get("release") != release_id:
        raise ReleaseError(
            "activation_pending",
            "release {} is active and not committed; commit or roll it back first".format(state.get("release")),
            pending=state.get("release"),
        )
    if current != release_id:
        return None
    if state is not None and state.get("phase") == "activating":
        # An activation of this release was killed before its health check
        # finished, so it runs again instead of reporting success.
        return None
    if state is not None:
        return {"release": release_id, "already_active": True, "watchdog": watchdog_reply(state)}
    return {"release": release_id, "already_active": True, "watchdog": None}


def watchdog_reply(state):
    """Return the reply fields that describe an armed watchdog."""
    return {
        "release": state.get("release"),
        "fallback": state.get("fallback"),
        "deadline": state.get("deadline"),
        "pid": state.get("pid"),
    }


def activate(layout, release_id, manifest, watchdog_s, run_health, timeout_s):
    """Run the activation steps in the order the module docstring gives; the caller holds the lock."""
    before = read_link(layout, "current")
    fallback = read_link(layout, "known_good") or before
    interrupted = read_state(layout)
    if interrupted is not None:
        # Resuming a killed activation of this release: keep its fallback and
        # previous link, and replace its watchdog process with a new one.
        fallback = interrupted.get("fallback")
        disarm(layout, interrupted)

    first_deadline = time.time() + timeout_s + watchdog_s + DEADLINE_SLACK_S
    state = new_state(release_id, fallback, first_deadline, "activating")
    write_state(layout, state)
    state["pid"] = start_process(layout, state["token"])
    write_state(layout, state)
    journal.append(layout, "activate", release_id, "activating", {"from": before, "fallback": fallback})

    if interrupted is None and before is not None and before != release_id:
        switch_link(layout, "previous", before)
    switch_current(layout, release_id)
    server = restart_server(layout)

    result = health.skipped("the request set health to false")
    if run_health:
        result = health.check_release(layout.release_dir(release_id), manifest, timeout_s)
    journal.append(layout, "activate", release_id, "health_check", result)

    if not result["passed"]:
        rollback = roll_back(layout, fallback, "health_check", result.get("error", ""), command="activate")
        raise ReleaseError(
            "health_check_failed",
            "release {} failed its health check ({}) and the device rolled back to {}".format(
                release_id, result.get("code"), fallback or "no release"
            ),
            release=release_id,
            health=result,
            rolled_back=True,
            current=rollback["current"],
        )

    state["deadline"] = time.time() + watchdog_s
    state["phase"] = "armed"
    write_state(layout, state)
    journal.append(layout, "activate", release_id, "activated", {"deadline": state["deadline"], "pid": state["pid"]})
    return {
        "release": release_id,
        "previous": before,
        "server": server,
        "health": result,
        "watchdog": watchdog_reply(state),
    }
