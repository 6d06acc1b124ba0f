"""The deploy records that the store keeps: device update states, deployments and rollouts. No I/O."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class UpdateState(StrEnum):
    """The step of one device's update; the console records it before it acts."""

    PLANNED = "planned"
    TRANSFERRING = "transferring"
    STAGED = "staged"
    ACTIVATING = "activating"
    HEALTH_CHECK = "health_check"
    COMMITTED = "committed"
    ROLLED_BACK = "rolled_back"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        """Tell whether the update has ended (committed, rolled back or failed)."""
        return self in FINAL_STATES


FINAL_STATES = frozenset({UpdateState.COMMITTED, UpdateState.ROLLED_BACK, UpdateState.FAILED})


class RolloutState(StrEnum):
    """The state of a rollout as a whole."""

    RUNNING = "running"
    HALTED = "halted"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Trigger(StrEnum):
    """Who or what started an update or a rollback, as the timeline and the audit log show it."""

    USER = "user"
    HEALTH_CHECK = "health_check"
    WATCHDOG = "watchdog"
    WAVE_HALTED = "wave_halted"
    RECONCILE = "reconcile"
    CONSOLE = "console"


@dataclass
class Deployment:
    """One device's update to one artifact, as recorded in the deployments table."""

    device: str
    artifact_id: str
    release: str
    state: UpdateState = UpdateState.PLANNED
    rollout_id: str | None = None
    wave: int = 0
    bytes_sent: int = 0
    bytes_total: int = 0
    error: str | None = None
    error_code: str | None = None
    trigger: Trigger = Trigger.USER
    detail: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        """Return the device's entry of the deploy JSON."""
        return {
            "name": self.device,
            "state": str(self.state),
            "error": self.error,
            "error_code": self.error_code,
            "bytes_sent": self.bytes_sent,
            "bytes_total": self.bytes_total,
            "release": self.release,
            "trigger": str(self.trigger),
            "transfers": self.detail.get("transfers", []),
        }


@dataclass
class Rollout:
    """A deploy of one artifact to selected devices, in waves; ``waves`` lists device names per wave."""

    id: str
    artifact_id: str
    artifact_ref: str
    selector: str
    waves: list[list[str]]
    max_failures: int = 0
    watchdog_s: float = 120.0
    state: RolloutState = RolloutState.RUNNING
    halt_reason: str | None = None
    trigger: Trigger = Trigger.USER
    owner_pid: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def summary_json(self) -> dict[str, Any]:
        """Return the rollout's fields without its devices, for `rollout list --json`."""
        return {
            "rollout": self.id,
            "artifact": self.artifact_ref,
            "artifact_id": self.artifact_id,
            "selector": self.selector,
            "state": str(self.state),
            "halt_reason": self.halt_reason,
            "waves": [len(names) for names in self.waves],
            "created": self.created_at.isoformat() if self.created_at else None,
            "updated": self.updated_at.isoformat() if self.updated_at else None,
        }


def rollout_json(rollout: Rollout, deployments: list[Deployment]) -> dict[str, Any]:
    """Return the deploy JSON: the rollout, its state and halt reason, and each wave's devices."""
    by_device = {deployment.device: deployment for deployment in deployments}
    waves = []
    for index, names in enumerate(rollout.waves, start=1):
        devices = []
        for name in names:
            deployment = by_device.get(name)
            if deployment is None:
                devices.append({"name": name, "state": str(UpdateState.PLANNED), "error": None,
                                "bytes_sent": 0, "release": None})
            else:
                devices.append(deployment.as_json())
        waves.append({"index": index, "devices": devices})
    return {
        "rollout": rollout.id,
        "artifact": rollout.artifact_ref,
        "artifact_id": rollout.artifact_id,
        "state": str(rollout.state),
        "halt_reason": rollout.halt_reason,
        "waves": waves,
    }
