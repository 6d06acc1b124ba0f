"""The device's release state as the shim's `status` reports it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edgetui.deploy.context import DeployContext
from edgetui.domain import Device


@dataclass(frozen=True)
class ReleaseStatus:
    """The shim's `status` reply: current, known_good and previous release ids, the watchdog and the journal tail."""

    current: str | None
    known_good: str | None
    previous: str | None
    watchdog: dict[str, Any]
    releases: list[dict[str, Any]] = field(default_factory=list)
    journal: list[dict[str, Any]] = field(default_factory=list)
    disk_free_mb: float | None = None

    @classmethod
    def from_reply(cls, reply: dict[str, Any]) -> ReleaseStatus:
        """Build the status from a `status` reply."""
        return cls(
            current=reply.get("current"),
            known_good=reply.get("known_good"),
            previous=reply.get("previous"),
            watchdog=reply.get("watchdog") or {"armed": False},
            releases=reply.get("releases") or [],
            journal=reply.get("journal") or [],
            disk_free_mb=reply.get("disk_free_mb"),
        )

    @property
    def watchdog_armed(self) -> bool:
        """Tell whether a release is on trial with an armed watchdog."""
        return bool(self.watchdog.get("armed"))

    def is_staged(self, release: str) -> bool:
        """Tell whether the release is unpacked on the device."""
        return any(entry.get("id") == release for entry in self.releases)

    def version_of(self, release: str | None) -> str | None:
        """Return the version of a staged release, or None."""
        for entry in self.releases:
            if entry.get("id") == release:
                return entry.get("version")
        return None

    def last_rollback(self, release: str) -> dict[str, Any] | None:
        """Return the newest journal entry that rolled back from ``release``, or None."""
        for entry in reversed(self.journal):
            if entry.get("state") == "rolled_back" and (entry.get("detail") or {}).get("from") == release:
                return entry
        return None


async def read_status(ctx: DeployContext, device: Device) -> ReleaseStatus:
    """Run `status` on the device, record its current release in the store, and return it."""
    reply = await ctx.release_shim.call(device, "status")
    status = ReleaseStatus.from_reply(reply)
    ctx.store.set_current_release(device.name, status.current)
    return status
