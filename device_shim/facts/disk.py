"""Free disk space where the shim itself is stored."""

import os


def shim_directory():
    """Return the nearest existing directory that contains this module.

    Inside a zipapp the module path is `.../shim.pyz/device_shim/facts/disk.py`,
    so the walk stops at the folder that contains shim.pyz.
    """
    path = os.path.abspath(__file__)
    while path and not os.path.isdir(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path or os.getcwd()


def collect_disk(ctx):
    """Return disk_free_mb: the MiB available to unprivileged users on the shim's file system."""
    stats = os.statvfs(shim_directory())
    return {"disk_free_mb": int(stats.f_bavail * stats.f_frsize // (1024 * 1024))}
