"""The `gc` command: remove releases and artifacts that nothing refers to.

Request: {"dry_run": false}. Kept: the current, known_good and previous
releases, the watchdog's release and fallback, and every artifact that a kept
release lists. Partial uploads (*.part) are kept so that uploads can resume.
An artifact uploaded for a release that is not staged yet is removed too, so
the console runs gc only when no upload is waiting to be staged.
"""

import json
import os

from device_shim.release import journal
from device_shim.release.files import read_link, remove_file, remove_tree
from device_shim.release.lock import StateLock
from device_shim.release.paths import LINK_NAMES, SHA256_PATTERN, is_release_id
from device_shim.release.watchdog import roll_back_if_overdue_locked
from device_shim.release.watchdog_state import read_state


def releases_in_use(layout):
    """Return the set of release ids that gc must keep."""
    in_use = set(read_link(layout, name) for name in LINK_NAMES)
    state = read_state(layout) or {}
    in_use.add(state.get("release"))
    in_use.add(state.get("fallback"))
    in_use.discard(None)
    return in_use


def artifacts_of(layout, release_id):
    """Return the sha256 of every file of a staged release."""
    try:
        with open(os.path.join(layout.release_dir(release_id), "manifest.json"), "rb") as handle:
            manifest = json.loads(handle.read().decode("ascii"))
        return set(entry["sha256"] for entry in manifest["files"])
    except (IOError, OSError, ValueError, KeyError, TypeError):
        return set()


def run_gc(layout, request):
    """Remove unused releases and artifacts (or only list them with dry_run); return what was removed."""
    dry_run = request.get("dry_run", False) is True
    with StateLock(layout):
        roll_back_if_overdue_locked(layout)
        in_use = releases_in_use(layout)
        names = os.listdir(layout.releases) if os.path.isdir(layout.releases) else []
        unused = sorted(name for name in names if is_release_id(name) and name not in in_use)
        used = set()
        for release_id in in_use:
            used |= artifacts_of(layout, release_id)
        files = os.listdir(layout.artifacts) if os.path.isdir(layout.artifacts) else []
        orphans = sorted(name for name in files if SHA256_PATTERN.match(name) and name not in used)
        if not dry_run:
            for release_id in unused:
                remove_tree(layout.release_dir(release_id))
            for sha256 in orphans:
                remove_file(layout.artifact(sha256))
            if unused or orphans:
                journal.append(layout, "gc", None, "collected", {"releases": unused, "artifacts": len(orphans)})
    return {"dry_run": dry_run, "removed_releases": unused, "removed_artifacts": orphans}
