"""Checks that stage runs before it changes anything: architecture, memory, artifacts, disk space."""

import os
import platform

from device_shim.facts.system import normalize_arch
from device_shim.release.errors import ReleaseError
from device_shim.release.files import sha256_of_file

FAKE_FREE_MB_ENV = "EDGETUI_SHIM_FAKE_FREE_MB"
MEMINFO = "/proc/meminfo"
BYTES_PER_MB = 1024 * 1024
# Free space kept beyond the unpacked copy, so a release never fills the disk
# that the model server, logs and the journal also write to.
MARGIN_BYTES = 32 * BYTES_PER_MB
MARGIN_FRACTION = 0.05


def device_arch():
    """Return the device's architecture as `uname -m` names it (arm64 becomes aarch64).

    It is read the way `inventory` reads it (uname through PATH, then cpuinfo
    under the root prefix), so the console's facts and this check agree; the
    running interpreter's platform.machine() is the last resort.
    """
    from device_shim.facts.context import Context
    from device_shim.facts.system import collect_arch
    from device_shim.inventory import resolve_root

    try:
        arch = collect_arch(Context(root=resolve_root(None)))["arch"]
    except Exception:  # noqa: BLE001 - fall back to the interpreter's view
        arch = None
    return arch or normalize_arch(platform.machine())


def check_arch(manifest):
    """Raise ReleaseError "wrong_arch" when the manifest targets other architectures."""
    targets = manifest["target"].get("arch")
    if not targets:
        return
    arch = device_arch()
    if arch not in [normalize_arch(name) for name in targets]:
        raise ReleaseError(
            "wrong_arch",
            "release targets {} but this device is {}".format(", ".join(targets), arch),
            device_arch=arch,
            target_arch=targets,
        )


def total_memory_mb():
    """Return MemTotal from /proc/meminfo in MiB, or None when it cannot be read."""
    try:
        with open(MEMINFO, "r") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    except (IOError, OSError, ValueError, IndexError):
        return None
    return None


def check_memory(manifest):
    """Raise ReleaseError "insufficient_memory" when MemTotal is below target.min_memory_mb."""
    needed = manifest["target"].get("min_memory_mb")
    if needed is None:
        return
    total = total_memory_mb()
    if total is not None and total < needed:
        raise ReleaseError(
            "insufficient_memory",
            "release needs {} MiB of memory but this device has {} MiB".format(needed, total),
            mem_total_mb=total,
            min_memory_mb=needed,
        )


def check_artifacts(layout, manifest):
    """Hash every artifact the manifest lists; raise "corrupt_artifact" or "missing_artifact" naming them.

    Each file is read again and hashed here, because a name under artifacts/
    only claims its sha256: a bit flip or a cut upload would keep the name.
    """
    missing = []
    corrupt = []
    checked = set()
    for entry in manifest["files"]:
        if entry["sha256"] in checked:
            continue
        checked.add(entry["sha256"])
        path = layout.artifact(entry["sha256"])
        if not os.path.isfile(path):
            missing.append({"path": entry["path"], "sha256": entry["sha256"]})
            continue
        actual_sha256, actual_size = sha256_of_file(path)
        if actual_sha256 != entry["sha256"] or actual_size != entry["size"]:
            corrupt.append(
                {
                    "path": entry["path"],
                    "sha256": entry["sha256"],
                    "actual_sha256": actual_sha256,
                    "size": entry["size"],
                    "actual_size": actual_size,
                }
            )
    if corrupt:
        names = ", ".join(item["path"] for item in corrupt)
        raise ReleaseError(
            "corrupt_artifact",
            "artifacts do not match their sha256 or size: {}; upload them again".format(names),
            corrupt=corrupt,
            missing=missing,
        )
    if missing:
        names = ", ".join(item["path"] for item in missing)
        raise ReleaseError(
            "missing_artifact",
            "artifacts not found in {}: {}; upload them first".format(layout.artifacts, names),
            missing=missing,
        )


def free_bytes(layout):
    """Return the free space for unprivileged users on the file system of .edgetui.

    The environment variable EDGETUI_SHIM_FAKE_FREE_MB replaces the measured
    value; the sample fleet's disk-full fault sets it.
    """
    fake = os.environ.get(FAKE_FREE_MB_ENV)
    if fake:
        try:
            return int(float(fake) * BYTES_PER_MB)
        except ValueError:
            pass
    folder = layout.root if os.path.isdir(layout.root) else layout.home
    stats = os.statvfs(folder)
    return stats.f_bavail * stats.f_frsize


def required_bytes(size):
    """Return the space an unpacked copy of size bytes needs, margin included."""
    return size + max(MARGIN_BYTES, int(size * MARGIN_FRACTION))


def check_disk(layout, size):
    """Raise ReleaseError "insufficient_disk" when the unpacked copy and its margin do not fit."""
    needed = required_bytes(size)
    available = free_bytes(layout)
    if available < needed:
        raise ReleaseError(
            "insufficient_disk",
            "unpacking needs {:.1f} MiB (with margin) but only {:.1f} MiB is free; free space or run gc".format(
                needed / float(BYTES_PER_MB), available / float(BYTES_PER_MB)
            ),
            needed_mb=round(needed / float(BYTES_PER_MB), 1),
            free_mb=round(available / float(BYTES_PER_MB), 1),
        )
