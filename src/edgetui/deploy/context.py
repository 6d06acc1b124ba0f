"""What a device update needs from the console: store, SSH pool, shim, artifact catalog, settings and progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from edgetui.deploy.shim_calls import ReleaseShim

if TYPE_CHECKING:
    from edgetui.artifacts.catalog import ArtifactCatalog
    from edgetui.shim_client import ShimClient
    from edgetui.ssh import SSHPool
    from edgetui.store import FleetStore

DEFAULT_WATCHDOG_S = 120.0
DEFAULT_HEALTH_TIMEOUT_S = 120.0
# A cut link is retried this many times in all, resuming each time.
DEFAULT_TRANSFER_ATTEMPTS = 4
DEFAULT_RETRY_DELAY_S = 0.5
# Commit and the rollback after a failed activation reconnect this many times.
DEFAULT_RECOVERY_ATTEMPTS = 3


@dataclass(frozen=True)
class Progress:
    """One progress report of a device update: its step and the bytes transferred so far."""

    device: str
    state: str
    bytes_done: int = 0
    bytes_total: int = 0
    message: str = ""


ProgressCallback = Callable[[Progress], None]


@dataclass
class DeployContext:
    """The services and settings shared by the device updates of one command."""

    store: FleetStore
    pool: SSHPool
    shim: ShimClient
    catalog: ArtifactCatalog
    on_progress: ProgressCallback | None = None
    watchdog_s: float = DEFAULT_WATCHDOG_S
    health_timeout_s: float = DEFAULT_HEALTH_TIMEOUT_S
    transfer_attempts: int = DEFAULT_TRANSFER_ATTEMPTS
    retry_delay_s: float = DEFAULT_RETRY_DELAY_S
    recovery_attempts: int = DEFAULT_RECOVERY_ATTEMPTS

    def __post_init__(self) -> None:
        self.release_shim = ReleaseShim(self.shim, self.pool)

    def report(self, progress: Progress) -> None:
        """Pass a progress report to the callback, if there is one."""
        if self.on_progress is not None:
            self.on_progress(progress)
