"""File operations that survive a crash or a power cut: fsync, atomic writes, symlink switches."""

import errno
import hashlib
import os
import shutil

from device_shim.release.paths import is_release_id

CHUNK_BYTES = 1024 * 1024


def ensure_dir(path):
    """Create path and its parents when missing."""
    try:
        os.makedirs(path)
    except OSError as exc:
        if exc.errno != errno.EEXIST or not os.path.isdir(path):
            raise


def fsync_dir(path):
    """Flush a folder's entries (new names, renames, removals) to disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def fsync_file(path):
    """Flush a file's content to disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_atomic(path, data):
    """Replace path with data: write a temporary file, fsync it, rename it over path, fsync the folder."""
    folder = os.path.dirname(path)
    ensure_dir(folder)
    temporary = "{}.tmp.{}".format(path, os.getpid())
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.rename(temporary, path)
    fsync_dir(folder)


def remove_file(path):
    """Remove path when it exists and fsync its folder; return True when something was removed."""
    try:
        os.unlink(path)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return False
        raise
    fsync_dir(os.path.dirname(path))
    return True


def read_link(layout, name):
    """Return the release id that the current, known_good or previous link points to, or None."""
    try:
        target = os.readlink(layout.link(name))
    except OSError:
        return None
    release_id = os.path.basename(target.rstrip("/"))
    return release_id if is_release_id(release_id) else None


def switch_link(layout, name, release_id):
    """Point a link at releases/<release_id> with rename(2), or remove it when release_id is None.

    rename(2) replaces the old link in one step, so readers find the old
    target or the new one, never a missing link, even after a power cut.
    """
    path = layout.link(name)
    if release_id is None:
        remove_file(path)
        return
    ensure_dir(layout.root)
    temporary = "{}.tmp.{}".format(path, os.getpid())
    if os.path.lexists(temporary):
        os.unlink(temporary)
    # A relative target keeps the links valid when the home folder moves.
    os.symlink(os.path.join("releases", release_id), temporary)
    os.rename(temporary, path)
    fsync_dir(layout.root)


def sha256_of_file(path):
    """Return (hex sha256, size in bytes) of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(CHUNK_BYTES)
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def link_or_copy(source, destination):
    """Hard-link source to destination, or copy it when they are on different file systems.

    Artifacts are immutable, so a hard link shares their content safely and
    costs no disk space. Returns "link" or "copy".
    """
    try:
        os.link(source, destination)
        return "link"
    except OSError as exc:
        # EXDEV: another file system; EPERM/ENOTSUP/EMLINK: links not allowed there.
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EMLINK, errno.EACCES):
            raise
    shutil.copyfile(source, destination)
    fsync_file(destination)
    return "copy"


def remove_tree(path):
    """Remove a folder tree when it exists, then fsync its parent."""
    if os.path.lexists(path):
        shutil.rmtree(path)
        fsync_dir(os.path.dirname(path))
