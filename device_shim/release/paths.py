"""Paths of the release state under the home folder, and the form of release ids."""

import os
import re

STATE_DIR = ".edgetui"
LINK_NAMES = ("current", "known_good", "previous")

# "<name>-<version>-<12 hex>": no slash and no leading dot, so a release id is
# always one plain folder name under releases/.
RELEASE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,160}-[0-9a-f]{12}$")
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")


class Layout(object):
    """The paths of one device's release state, under home/.edgetui."""

    def __init__(self, home=None):
        self.home = os.path.abspath(home or os.getcwd())
        self.root = os.path.join(self.home, STATE_DIR)
        self.artifacts = os.path.join(self.root, "artifacts")
        self.releases = os.path.join(self.root, "releases")
        self.trusted_keys = os.path.join(self.root, "trusted_keys")
        self.journal = os.path.join(self.root, "journal.jsonl")
        self.watchdog_file = os.path.join(self.root, "watchdog.json")
        self.lock_file = os.path.join(self.root, "lock")
        self.serve_pid_file = os.path.join(self.root, "serve.pid")

    def link(self, name):
        """Return the path of the current, known_good or previous symlink."""
        if name not in LINK_NAMES:
            raise ValueError("unknown link name: {}".format(name))
        return os.path.join(self.root, name)

    def release_dir(self, release_id):
        """Return the folder of a release; release_id must match RELEASE_ID_PATTERN."""
        if not is_release_id(release_id):
            raise ValueError("invalid release id: {!r}".format(release_id))
        return os.path.join(self.releases, release_id)

    def artifact(self, sha256):
        """Return the path of the verified artifact with this sha256."""
        if not SHA256_PATTERN.match(sha256):
            raise ValueError("invalid sha256: {!r}".format(sha256))
        return os.path.join(self.artifacts, sha256)

    def is_staged(self, release_id):
        """Return True when releases/<release_id>/manifest.json exists."""
        if not is_release_id(release_id):
            return False
        return os.path.isfile(os.path.join(self.release_dir(release_id), "manifest.json"))


def is_release_id(value):
    """Return True when value has the form of a release id."""
    return isinstance(value, str) and RELEASE_ID_PATTERN.match(value) is not None
