"""FleetStore: the fleet database, composed of one class per table."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from edgetui.artifacts.artifact import Artifact
from edgetui.artifacts.records import ModelRecord, VariantRecord
from edgetui.audit.records import AuditEntry, AuditHead
from edgetui.deploy.records import Deployment, Rollout
from edgetui.domain import Device, DeviceStatus, Event, FactChange, FactsSnapshot, HardwareFacts
from edgetui.store.artifacts import ArtifactTable
from edgetui.store.audit import AuditTable
from edgetui.store.db import StoreConnection
from edgetui.store.deployments import DeploymentTable
from edgetui.store.devices import DeviceTable
from edgetui.store.events import EventLog
from edgetui.store.facts import FactsTable
from edgetui.store.hostkeys import HostKeyTable
from edgetui.store.models import ModelTable

DEFAULT_BUSY_TIMEOUT = 10.0


class FleetStore:
    """The fleet database: devices, hardware facts history, event log, host keys, and models.

    Opening checks the file first and leaves it untouched if it is damaged
    (StoreCorruptError), another program's (StoreForeignError) or from a newer
    edgetui (StoreTooNewError). Then it enables WAL mode and applies pending
    migrations. Several FleetStore objects, in one process or several, may use
    the same file; a writer waits up to ``busy_timeout`` seconds for another.
    """

    def __init__(self, path: Path, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        self.path = Path(path)
        self._connection = StoreConnection(self.path, busy_timeout=busy_timeout)
        self._devices = DeviceTable(self._connection)
        self._facts = FactsTable(self._connection, self._devices)
        self._events = EventLog(self._connection)
        self._host_keys = HostKeyTable(self._connection)
        self._models = ModelTable(self._connection)
        self._artifacts = ArtifactTable(self._connection)
        self._audit = AuditTable(self._connection)
        self._deployments = DeploymentTable(self._connection)

    @property
    def connection(self) -> StoreConnection:
        """The shared SQLite connection, for stores of other concepts such as telemetry."""
        return self._connection

    def __enter__(self) -> "FleetStore":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group the writes of the block into one transaction. A nested block becomes a savepoint."""
        with self._connection.transaction():
            yield

    def close(self) -> None:
        """Close the database connection."""
        self._connection.close()

    # Devices

    def upsert_device(self, device: Device) -> bool:
        """Add a device, or update the connection fields and tags of an existing one.

        Return True when the device is new. An update keeps the device's status,
        status_reason, last_seen and current_release.
        """
        return self._devices.upsert(device)

    def remove_device(self, name: str) -> None:
        """Remove a device and its facts history. Raise DeviceNotFound for an unknown name."""
        self._devices.remove(name)

    def devices(self) -> list[Device]:
        """Return every device, sorted by name."""
        return self._devices.all()

    def device(self, name: str) -> Device:
        """Return one device. Raise DeviceNotFound, which lists close names, for an unknown name."""
        return self._devices.get(name)

    def set_status(self, name: str, status: DeviceStatus, reason: str | None = None,
                   last_seen: datetime | None = None) -> None:
        """Set a device's status and reason, and last_seen when it is given."""
        self._devices.set_status(name, status, reason, last_seen)

    # Hardware facts

    def record_facts(self, name: str, facts: HardwareFacts, at: datetime) -> list[FactChange]:
        """Store one discovery's facts and return the hardware changes since the last one.

        The first snapshot of a device returns no changes. Readings such as
        temperatures are stored but not reported, as the edgetui.store.facts docstring lists.
        """
        return self._facts.record(name, facts, at)

    def latest_facts(self, name: str) -> HardwareFacts | None:
        """Return the device's newest facts, or None if it was never discovered."""
        return self._facts.latest(name)

    def facts_history(self, name: str, limit: int = 20) -> list[FactsSnapshot]:
        """Return up to ``limit`` snapshots of the device's facts, newest first."""
        return self._facts.history(name, limit)

    # Events

    def record_event(self, action: str, device: str | None, ok: bool, message: str = "",
                     detail: dict[str, Any] | None = None) -> Event:
        """Append an event to the log and return it with its id and UTC timestamp."""
        return self._events.record(action, device, ok, message, detail)

    def events(self, device: str | None = None, limit: int = 200) -> list[Event]:
        """Return up to ``limit`` events, newest first, of one device or of the fleet."""
        return self._events.list(device, limit)

    # SSH host keys

    def known_host_keys(self, host: str, port: int) -> list[str]:
        """Return the stored public keys of host:port as "TYPE BASE64" lines."""
        return self._host_keys.known(host, port)

    def remember_host_key(self, host: str, port: int, key: str) -> None:
        """Store a public key for host:port. Storing the same key again changes nothing."""
        self._host_keys.remember(host, port, key)

    def forget_host_keys(self, host: str, port: int) -> None:
        """Delete every stored key of host:port."""
        self._host_keys.forget(host, port)

    def replace_host_key(self, host: str, port: int, key: str) -> None:
        """Make ``key`` the only stored key of host:port, as an inventory import does."""
        self._host_keys.replace(host, port, key)

    # Models and their optimized variants

    def record_model(self, model: ModelRecord) -> None:
        """Add a source model, or update the name, path and facts of a known one."""
        self._models.record_model(model)

    def record_variants(self, model_sha256: str, variants: list[VariantRecord]) -> None:
        """Replace the variants of a recorded model with those of the latest optimize run."""
        self._models.record_variants(model_sha256, variants)

    def models(self) -> list[ModelRecord]:
        """Return every recorded model, most recently optimized first."""
        return self._models.models()

    def variants(self, model_sha256: str) -> list[VariantRecord]:
        """Return the variants of one model in the order they were recorded."""
        return self._models.variants(model_sha256)

    # Signed release artifacts

    def record_artifact(self, artifact: Artifact) -> bool:
        """Record a packaged artifact and its files; return False when its id is already recorded.

        Raises ArtifactConflictError when NAME:VERSION exists with another id.
        """
        return self._artifacts.record(artifact)

    def artifacts(self) -> list[Artifact]:
        """Return every recorded artifact, most recently added first."""
        return self._artifacts.all()

    def artifact(self, artifact_id: str) -> Artifact | None:
        """Return the artifact with this full id, or None."""
        return self._artifacts.get(artifact_id)

    def find_artifact(self, name: str, version: str) -> Artifact | None:
        """Return the artifact NAME:VERSION, or None."""
        return self._artifacts.find(name, version)

    # Audit log

    def append_audit(self, *, user: str, action: str, result: str, devices: list[str] | None = None,
                     artifact_id: str | None = None, ssh_key_fingerprint: str | None = None,
                     detail: dict[str, Any] | None = None) -> AuditEntry:
        """Append a hash-chained entry to the audit log and return it.

        Raises ValueError, writing nothing, when a key of ``detail`` names a secret.
        """
        return self._audit.append(
            user=user, action=action, result=result, devices=devices, artifact_id=artifact_id,
            ssh_key_fingerprint=ssh_key_fingerprint, detail=detail,
        )

    def audit_entries(self, limit: int | None = None, newest_first: bool = True) -> list[AuditEntry]:
        """Return up to ``limit`` audit entries (all when None), newest or oldest first."""
        return self._audit.entries(limit, newest_first)

    def audit_head(self) -> AuditHead | None:
        """Return the audit log's recorded entry count and newest hash, or None when it is empty."""
        return self._audit.head()

    # Deploys: rollouts, per-device deployments, trusted keys and desired releases

    def create_rollout(self, rollout: Rollout, deployments: list[Deployment]) -> None:
        """Record a new rollout and its planned deployments in one transaction."""
        self._deployments.create_rollout(rollout, deployments)

    def update_rollout(self, rollout: Rollout) -> None:
        """Write a rollout's state, halt reason and owner process."""
        self._deployments.update_rollout(rollout)

    def rollout(self, rollout_id: str) -> Rollout | None:
        """Return the rollout with this id, or None."""
        return self._deployments.rollout(rollout_id)

    def rollouts(self, limit: int = 100) -> list[Rollout]:
        """Return up to ``limit`` rollouts, newest first."""
        return self._deployments.rollouts(limit)

    def save_deployment(self, deployment: Deployment) -> None:
        """Insert a deployment (setting its id) or update the recorded one."""
        self._deployments.save_deployment(deployment)

    def deployments(self, rollout_id: str) -> list[Deployment]:
        """Return the deployments of a rollout, by wave and device name."""
        return self._deployments.deployments(rollout_id)

    def device_deployments(self, device: str, limit: int = 20) -> list[Deployment]:
        """Return up to ``limit`` deployments of one device, newest first."""
        return self._deployments.device_deployments(device, limit)

    def trusted_key(self, device: str, key_name: str) -> str | None:
        """Return the signing key recorded as trusted by the device under ``key_name``, or None."""
        return self._deployments.trusted_key(device, key_name)

    def record_trust(self, device: str, key_name: str, public_key: str) -> None:
        """Record that the device trusts ``public_key`` under ``key_name``."""
        self._deployments.record_trust(device, key_name, public_key)

    def boot_hook_shim(self, device: str) -> str | None:
        """Return the sha256 of the shim whose @reboot line the console put in the device's crontab, or None."""
        return self._deployments.boot_hook_shim(device)

    def record_boot_hook(self, device: str, shim_sha256: str, crontab_line: str) -> None:
        """Record that the device's crontab contains ``crontab_line``, the boot hook of that shim."""
        self._deployments.record_boot_hook(device, shim_sha256, crontab_line)

    def set_desired_release(self, device: str, artifact_id: str, rollout_id: str | None) -> None:
        """Record the artifact the device should run, for reconcile."""
        self._deployments.set_desired(device, artifact_id, rollout_id)

    def clear_desired_release(self, device: str) -> None:
        """Forget the desired release of a device."""
        self._deployments.clear_desired(device)

    def desired_releases(self) -> dict[str, tuple[str, str | None]]:
        """Return device name -> (artifact id, rollout id) of every desired release."""
        return self._deployments.desired()

    def set_current_release(self, device: str, release: str | None) -> None:
        """Record the release the device reported as current."""
        self._deployments.set_current_release(device, release)
