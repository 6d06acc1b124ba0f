"""Fleet: the one facade that the CLI and the TUI call.

It owns the store, the SSH pool and the shim client, so both user interfaces
run the same code for every action and neither touches SQL or SSH directly.
"""

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from edgetui.artifacts.records import ModelRecord, VariantRecord
from edgetui.discovery import discover_devices
from edgetui.domain import (
    Device,
    DiscoveryResult,
    DiscoveryUpdate,
    Event,
    FactsSnapshot,
    HardwareFacts,
    HostKeyRequest,
)
from edgetui.errors import InputError
from edgetui.inventory import Inventory, load_inventory
from edgetui.shim_client import ShimClient
from edgetui.ssh import SSHPool
from edgetui.store import FleetStore

log = logging.getLogger(__name__)

HostKeyPrompt = Callable[[HostKeyRequest], Awaitable[bool]]
OptimizeProgress = Callable[[str, float], None]


class ImportSummary:
    """Changes made by `import_inventory`: devices added, updated and host keys recorded."""

    def __init__(self, path: Path, source_format: str) -> None:
        self.path = path
        self.source_format = source_format
        self.added: list[str] = []
        self.updated: list[str] = []
        self.host_keys = 0

    def as_dict(self) -> dict:
        """Return the summary as plain data for `--json`."""
        return {
            "file": str(self.path),
            "format": self.source_format,
            "added": self.added,
            "updated": self.updated,
            "host_keys_recorded": self.host_keys,
        }


class Fleet:
    """The fleet's state and the actions on it."""

    def __init__(
        self,
        store: FleetStore,
        *,
        accept_new_host_keys: bool | HostKeyPrompt = False,
        max_connections: int = 32,
        connect_timeout: float = 10.0,
    ) -> None:
        self.store = store
        self.pool = SSHPool(
            store,
            accept_new_host_keys=accept_new_host_keys,
            max_connections=max_connections,
            connect_timeout=connect_timeout,
        )
        self.shim = ShimClient(self.pool)

    @classmethod
    def open(cls, db_path: Path, **options) -> "Fleet":
        """Open the fleet database at ``db_path`` (created when missing)."""
        return cls(FleetStore(db_path), **options)

    async def aclose(self) -> None:
        """Close every SSH connection, then the database."""
        await self.pool.close()
        self.store.close()

    # Host keys: the CLI decides with a flag, the TUI by asking the user.

    def set_host_key_policy(self, policy: bool | HostKeyPrompt) -> None:
        """Accept new host keys always (True), never (False), or by asking ``policy``."""
        self.pool.accept_new_host_keys = policy

    # Reading state.

    def devices(self) -> list[Device]:
        """Return every device, sorted by name."""
        return self.store.devices()

    def device(self, name: str) -> Device:
        """Return one device; an unknown name raises an error that suggests close names."""
        return self.store.device(name)

    def latest_facts(self, name: str) -> HardwareFacts | None:
        """Return the facts of the device's last successful discovery."""
        return self.store.latest_facts(name)

    def facts_history(self, name: str, limit: int = 20) -> list[FactsSnapshot]:
        """Return past discoveries of a device, newest first."""
        return self.store.facts_history(name, limit=limit)

    def events(self, device: str | None = None, limit: int = 200) -> list[Event]:
        """Return the event log, newest first, for one device or the whole fleet."""
        return self.store.events(device, limit=limit)

    # Actions.

    def import_inventory(self, path: Path) -> ImportSummary:
        """Add or update the devices of an inventory file and record its host keys."""
        inventory: Inventory = load_inventory(path)
        summary = ImportSummary(path, inventory.source_format)

        with self.store.transaction():
            for device in inventory.devices:
                created = self.store.upsert_device(device)
                (summary.added if created else summary.updated).append(device.name)
            for entry in inventory.host_keys:
                # The inventory is the user's explicit statement of trust, so it
                # replaces a key recorded earlier for the same address.
                self.store.replace_host_key(entry.host, entry.port, entry.key)
                summary.host_keys += 1
            self.store.record_event(
                "fleet-import",
                None,
                ok=True,
                message=f"{len(summary.added)} added, {len(summary.updated)} updated from {path}",
                detail=summary.as_dict(),
            )

        log.info("imported %s: %s", path, summary.as_dict())
        return summary

    def select(self, names: list[str] | None) -> list[Device]:
        """Return the named devices, or all of them when ``names`` is empty."""
        if not names:
            devices = self.store.devices()
            if not devices:
                raise InputError(
                    "The fleet has no devices. Import an inventory first: "
                    "edgetui fleet import FILE"
                )
            return devices
        return [self.store.device(name) for name in names]

    async def discover(
        self,
        names: list[str] | None = None,
        on_update: Callable[[DiscoveryUpdate], None] | None = None,
    ) -> list[DiscoveryResult]:
        """Discover the named devices (all when ``names`` is empty) in parallel."""
        devices = self.select(names)
        return await discover_devices(self.store, self.shim, devices, on_update)

    # Models: what `edgetui optimize` built and measured.

    def models(self) -> list[ModelRecord]:
        """Return every optimized model, most recently optimized first."""
        return self.store.models()

    def variants(self, model_sha256: str) -> list[VariantRecord]:
        """Return the variants of one model as its latest optimize run recorded them."""
        return self.store.variants(model_sha256)

    def optimize(
        self,
        model_path: Path,
        *,
        calibration: Path | None = None,
        kinds: list[str] | None = None,
        runs: int = 20,
        warmup: int = 3,
        repeats: int = 3,
        progress: OptimizeProgress | None = None,
    ):
        """Build, measure and record the variants of ``model_path`` for this computer.

        Without ``calibration`` the variants are evaluated on random inputs, so
        agreement is not measured and int8-static is skipped. It blocks for
        seconds to minutes on onnxruntime, so the TUI runs it in a thread
        worker. Returns the pipeline's OptimizeReport; raises InputError for a
        bad model or bad data before anything is written.
        """
        # Imported here: the pipeline loads numpy and onnxruntime, which the
        # fleet screens never need.
        from edgetui.artifacts.store import ArtifactStore
        from edgetui.optimize.pipeline import MeasureSettings, optimize_model
        from edgetui.optimize.targets import resolve_targets

        log.info("optimizing %s (calibration %s) for this computer", model_path, calibration)
        return optimize_model(
            Path(model_path),
            targets=resolve_targets([], self.store),
            calibration=calibration,
            use_random=calibration is None,
            kinds=kinds,
            measure=MeasureSettings(threads=1, warmup=warmup, runs=runs, repeats=repeats),
            progress=progress,
            artifact_store=ArtifactStore(),
            fleet_store=self.store,
        )

    # Deploys: rollouts of signed artifacts, rollback, releases and reconcile.
    # The deploy package is imported in each method, so the fleet screens and
    # discovery do not load it.

    def deploy_context(self, on_progress=None, *, watchdog_s: float | None = None, **settings):
        """Return a DeployContext over this fleet's store, pool, shim and artifact catalog."""
        from edgetui.artifacts.catalog import ArtifactCatalog
        from edgetui.artifacts.store import ArtifactStore
        from edgetui.deploy.context import DEFAULT_WATCHDOG_S, DeployContext

        return DeployContext(
            store=self.store, pool=self.pool, shim=self.shim,
            catalog=ArtifactCatalog(self.store, ArtifactStore()), on_progress=on_progress,
            watchdog_s=DEFAULT_WATCHDOG_S if watchdog_s is None else watchdog_s, **settings,
        )

    def select_devices(self, selector: str) -> list[Device]:
        """Return the devices a selector matches: `all`, names, `FACT=VALUE` or `tag:KEY=VALUE`, comma-separated."""
        from edgetui.deploy.selector import select_devices

        return select_devices(selector, self.store.devices(), self.store.latest_facts)

    async def deploy(self, artifact_ref: str, selector: str, *, waves: str | None = None, max_failures: int = 0,
                     on_progress=None, **settings):
        """Deploy an artifact (id, id prefix or NAME:VERSION) to the selected devices in waves; return the Rollout.

        The artifact is verified locally first, so a tampered one is rejected
        before any device is contacted. ``settings`` go to DeployContext
        (watchdog_s, health_timeout_s, transfer_attempts, retry_delay_s).
        """
        from edgetui.deploy.rollout import start_rollout
        from edgetui.deploy.waves import DEFAULT_WAVES

        devices = self.select_devices(selector)
        ctx = self.deploy_context(on_progress, **settings)
        artifact = ctx.catalog.resolve(artifact_ref)
        ctx.catalog.verify(artifact)
        return await start_rollout(ctx, artifact, devices, selector=selector, waves=waves or DEFAULT_WAVES,
                                   max_failures=max_failures)

    def rollouts(self, limit: int = 100):
        """Return recent rollouts, newest first."""
        return self.store.rollouts(limit)

    def rollout_report(self, rollout_id: str) -> dict:
        """Return the deploy JSON of a recorded rollout; an unknown id raises InputError."""
        from edgetui.deploy.records import rollout_json

        rollout = self._rollout(rollout_id)
        return rollout_json(rollout, self.store.deployments(rollout.id))

    async def resume_rollout(self, rollout_id: str, on_progress=None, **settings):
        """Continue a running (for example after a crash) or halted rollout; return the Rollout."""
        from edgetui.deploy.rollout import resume_rollout

        rollout = self._rollout(rollout_id)
        ctx = self.deploy_context(on_progress, watchdog_s=rollout.watchdog_s, **settings)
        artifact = ctx.catalog.resolve(rollout.artifact_id)
        ctx.catalog.verify(artifact)
        devices = {device.name: device for device in self.store.devices()}
        missing = [d.device for d in self.store.deployments(rollout.id) if d.device not in devices]
        if missing:
            raise InputError(f"Rollout {rollout.id} lists devices no longer in the fleet: {', '.join(missing)}.")
        return await resume_rollout(ctx, rollout, artifact, devices)

    def cancel_rollout(self, rollout_id: str):
        """Mark a running or halted rollout cancelled; devices not started stay planned. Return the Rollout."""
        from edgetui.deploy.audit_trail import record_action
        from edgetui.deploy.records import RolloutState

        rollout = self._rollout(rollout_id)
        if rollout.state in (RolloutState.COMPLETED, RolloutState.CANCELLED):
            raise InputError(f"Rollout {rollout.id} is already {rollout.state}.")
        rollout.state = RolloutState.CANCELLED
        self.store.update_rollout(rollout)
        for deployment in self.store.deployments(rollout.id):
            if deployment.state == "planned":
                self.store.clear_desired_release(deployment.device)
        record_action(self.store, "deploy.cancel", result="cancelled", devices=[], ok=True,
                      message=f"rollout {rollout.id} cancelled", artifact_id=rollout.artifact_id,
                      detail={"rollout": rollout.id, "trigger": "user"})
        return rollout

    def _rollout(self, rollout_id: str):
        rollout = self.store.rollout(rollout_id)
        if rollout is None:
            known = ", ".join(r.id for r in self.store.rollouts(10)) or "none"
            raise InputError(f"No rollout {rollout_id!r}. Recent rollouts: {known}.")
        return rollout

    async def rollback(self, selector: str, to: str = "known_good") -> list[dict]:
        """Switch the selected devices to their known-good (or previous) release and confirm it with status."""
        from edgetui.deploy.operations import ROLLBACK_TARGETS, rollback_devices

        if to not in ROLLBACK_TARGETS:
            raise InputError(f"Invalid rollback target {to!r}: use known_good or previous.")
        return await rollback_devices(self.deploy_context(), self.select_devices(selector), to)

    async def releases(self, name: str) -> dict:
        """Return one device's releases as its shim reports them."""
        from edgetui.deploy.operations import device_releases

        return await device_releases(self.deploy_context(), self.store.device(name))

    async def reconcile(self, on_progress=None) -> list[dict]:
        """Update reachable devices whose current release differs from their desired release."""
        from edgetui.deploy.operations import reconcile

        ctx = self.deploy_context(on_progress)
        artifacts = {artifact.id: artifact for artifact in self.store.artifacts()}
        devices = {device.name: device for device in self.store.devices()}
        return await reconcile(ctx, devices, artifacts)

    # Reads and actions that the TUI needs besides the CLI's commands.

    def artifacts(self):
        """Return every recorded artifact, as `edgetui artifact list` lists them."""
        return self.store.artifacts()

    def device_deployments(self, name: str, limit: int = 20):
        """Return the device's recorded updates, newest first."""
        return self.store.device_deployments(name, limit=limit)

    def out_of_sync_devices(self) -> list[str]:
        """Return the devices whose desired release differs from the release the store records as current."""
        from edgetui.deploy.device_update import release_id

        artifacts = {artifact.id: artifact for artifact in self.store.artifacts()}
        current = {device.name: device.current_release for device in self.store.devices()}
        return sorted(
            name for name, (artifact_id, _rollout) in self.store.desired_releases().items()
            if name in current and artifact_id in artifacts and current[name] != release_id(artifacts[artifact_id])
        )

    def package_variant(self, variant: VariantRecord, name: str, version: str):
        """Sign and record an optimized variant as the artifact NAME:VERSION; return the AddResult.

        The variant's blob is copied under its file name first, because the
        packager reads the model kind from the extension. It runs onnxruntime,
        so the TUI calls it in a thread worker. Raises ArtifactInputError for
        an invalid name or version, or a missing blob.
        """
        import shutil
        import tempfile

        from edgetui.artifacts.errors import ArtifactInputError
        from edgetui.artifacts.package import AddOptions, add_artifact
        from edgetui.artifacts.signing import SigningKey
        from edgetui.artifacts.store import ArtifactStore

        blobs = ArtifactStore()
        blob = blobs.path_for(variant.blob_sha256)
        if not blob.is_file():
            raise ArtifactInputError(f"The blob of variant {variant.kind} ({blob}) is missing; optimize the model again.")
        with tempfile.TemporaryDirectory(prefix="edgetui-variant-") as folder:
            model = Path(folder) / variant.file_name
            shutil.copyfile(blob, model)
            return add_artifact(model, AddOptions(name=name, version=version), store=self.store, blobs=blobs,
                                key=SigningKey.load_or_create())

    # Telemetry: live streams and one-off inference probes. The telemetry
    # package is imported in each method, so the other screens do not load it.

    def collector(self, names: list[str] | None = None, **options):
        """Return a Collector of the named devices' telemetry (all devices when ``names`` is empty), not started yet.

        It writes through this fleet's database connection. ``options`` go to
        Collector (on_sample, on_state, on_alert, ...); the retention defaults to
        the telemetry_raw_keep_hours and telemetry_rollup_keep_days settings.
        """
        from edgetui.settings import Settings
        from edgetui.telemetry import TelemetryStore, retention_from_settings
        from edgetui.telemetry.collector import Collector

        options.setdefault("retention", retention_from_settings(Settings.load()))
        return Collector(TelemetryStore(self.store), self.pool, self.shim, self.select(names), **options)

    async def probe(self, name: str, input_path: Path):
        """Run one inference of a .npz, .npy or .json input file on the device's model server; return the ProbeResult."""
        from edgetui.telemetry.probe import probe

        return await probe(self, self.store.device(name), input_path)
