"""Checks before a device update changes anything: architecture, memory and free disk.

They read the device's facts from the last discovery (refreshed with
`inventory` when stale) and the free disk from the shim's `status`, which
counts the space the shim itself will find.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edgetui.domain import HardwareFacts

BYTES_PER_MB = 1024 * 1024
# The same margin as the shim's stage check: the unpacked copy plus 32 MiB or 5 %.
MARGIN_BYTES = 32 * BYTES_PER_MB
MARGIN_FRACTION = 0.05
ARCH_ALIASES = {"arm64": "aarch64", "amd64": "x86_64"}


@dataclass(frozen=True)
class Refusal:
    """Why a device cannot take a release: a stable code and a sentence."""

    code: str
    reason: str


def required_bytes(release_size: int, bytes_to_send: int) -> int:
    """Return the free space an update needs: the files still to send, the unpacked copy, and the margin."""
    return bytes_to_send + release_size + max(MARGIN_BYTES, int(release_size * MARGIN_FRACTION))


def check_target(
    manifest: dict[str, Any], facts: HardwareFacts | None, disk_free_mb: float | None, bytes_to_send: int
) -> Refusal | None:
    """Return the first reason the device cannot take the release, or None when every check passes."""
    target = manifest.get("target") or {}
    return (
        _check_arch(target.get("arch"), facts)
        or _check_memory(target.get("min_memory_mb"), facts)
        or _check_disk(sum(entry["size"] for entry in manifest["files"]), bytes_to_send, disk_free_mb, facts)
    )


def _normalize(arch: str) -> str:
    return ARCH_ALIASES.get(arch, arch)


def _check_arch(targets: list[str] | None, facts: HardwareFacts | None) -> Refusal | None:
    if not targets or facts is None or not facts.arch:
        return None
    if _normalize(facts.arch) in {_normalize(name) for name in targets}:
        return None
    return Refusal("wrong_arch", f"the release targets {', '.join(targets)} but the device is {facts.arch}")


def _check_memory(needed_mb: float | None, facts: HardwareFacts | None) -> Refusal | None:
    if needed_mb is None or facts is None or facts.mem_total_mb is None or facts.mem_total_mb >= needed_mb:
        return None
    return Refusal(
        "insufficient_memory", f"the release needs {needed_mb} MiB of memory but the device has {facts.mem_total_mb} MiB"
    )


def _check_disk(
    release_size: int, bytes_to_send: int, disk_free_mb: float | None, facts: HardwareFacts | None
) -> Refusal | None:
    # The shim's status is fresher than the stored facts, so it is preferred.
    free_mb = disk_free_mb
    if free_mb is None and facts is not None:
        free_mb = facts.disk_free_mb
    if free_mb is None:
        return None
    needed = required_bytes(release_size, bytes_to_send)
    if free_mb * BYTES_PER_MB >= needed:
        return None
    return Refusal(
        "insufficient_disk",
        f"the update needs {needed / BYTES_PER_MB:.1f} MiB free (files to send, unpacked copy and margin) "
        f"but the device has {free_mb:.1f} MiB",
    )
