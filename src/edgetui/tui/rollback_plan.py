"""Decide which release each device returns to on a rollback, from what its shim reports. No I/O."""

from dataclasses import dataclass


@dataclass(frozen=True)
class RollbackTarget:
    """One device to roll back: the shim's rollback target and the release version it returns to."""

    name: str
    to: str | None
    """`known_good` or `previous` as `Fleet.rollback` takes them, or None when the device has nothing to return to."""
    version: str | None
    """Version of the release the device returns to, or None when it is unknown."""
    note: str
    """What the confirmation shows after the device's name."""


def plan_rollback(name: str, releases: dict | None, error: str | None = None) -> RollbackTarget:
    """Return the target of ``name`` from its `Fleet.releases` dict, or an unknown one when reading failed.

    A device that serves its known-good release returns to the previous
    release, because a rollback to known_good would change nothing; any other
    device returns to its known-good release.
    """
    if releases is None:
        return RollbackTarget(name, "known_good", None,
                              f"returns to its known-good release, version unknown: {error or 'not read'}")
    current_id, known_good_id = releases.get("current_id"), releases.get("known_good_id")
    if known_good_id and known_good_id != current_id:
        version = releases.get("known_good")
        return RollbackTarget(name, "known_good", version, f"returns to {version} (known good), from {releases.get('current')}")
    previous_id = releases.get("previous_id")
    if previous_id and previous_id != current_id:
        version = _version_of(releases, previous_id)
        return RollbackTarget(name, "previous", version, f"returns to {version or 'an unknown version'} (previous), "
                                                         f"from {releases.get('current')}")
    return RollbackTarget(name, None, None, f"serves {releases.get('current') or 'no release'} and has no earlier "
                                            "release: skipped")


def _version_of(releases: dict, release_id: str) -> str | None:
    """Return the version of the listed release ``release_id``, or None when it is not listed."""
    for entry in releases.get("releases", []):
        if entry.get("id") == release_id:
            return entry.get("version")
    return None
