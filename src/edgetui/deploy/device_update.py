"""One device's update: planned -> transferring -> staged -> activating -> health_check -> committed.

The state goes to SQLite before each step, so a console that dies can resume
from it (see `resume` below). A device that refuses the release, fails its
health check or loses its shim during activation ends `failed` or
`rolled_back`, and the console confirms with `status` which release serves.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from edgetui.artifacts.artifact import Artifact
from edgetui.deploy.audit_trail import record_action
from edgetui.deploy.boot_hook import ensure_boot_hook
from edgetui.deploy.context import DeployContext, Progress
from edgetui.deploy.prechecks import Refusal, check_target
from edgetui.deploy.records import Deployment, Trigger, UpdateState
from edgetui.deploy.recovery import (
    LINK_ERRORS,
    RollbackNotConfirmed,
    roll_back_and_confirm,
    watchdog_deadline,
    with_reconnects,
)
from edgetui.deploy.shim_calls import ShimInterrupted, ShimRefused
from edgetui.deploy.status import ReleaseStatus, read_status
from edgetui.deploy.transfer import TransferFailed, transfer_files, unique_files
from edgetui.domain import Device, HardwareFacts
from edgetui.errors import DeviceError
from edgetui.shim_client import ShimError
from edgetui.ssh import SSHError

logger = logging.getLogger("edgetui.deploy")

# Facts older than this are read again with `inventory` before the pre-checks.
FACTS_MAX_AGE = timedelta(hours=1)
# Seconds beyond the health check that activate may take to reply.
ACTIVATE_SLACK_S = 60.0


def release_id(artifact: Artifact) -> str:
    """Return the id the shim gives the artifact's release: NAME-VERSION-<12 hex of the manifest sha256>."""
    return f"{artifact.name}-{artifact.version}-{artifact.id[:12]}"


class DeviceUpdate:
    """Moves one device through the update states for one artifact, recording each step."""

    def __init__(self, ctx: DeployContext, device: Device, artifact: Artifact, deployment: Deployment) -> None:
        self.ctx = ctx
        self.device = device
        self.artifact = artifact
        self.deployment = deployment
        self.release = deployment.release
        self.log = logger.getChild(device.name)
        self.manifest = ctx.catalog.manifest(artifact)
        self.status: ReleaseStatus | None = None

    async def run(self) -> Deployment:
        """Run or resume the update and return the deployment in its final state; device errors end in `failed`."""
        self.ctx.store.set_desired_release(self.device.name, self.artifact.id, self.deployment.rollout_id)
        try:
            if self.deployment.state in (UpdateState.ACTIVATING, UpdateState.HEALTH_CHECK):
                await self._resume_activation()
            else:
                await self._update()
        except ShimRefused as exc:
            self._fail(exc.code, exc.message, keep_desired=False)
        except (SSHError, ShimError, TransferFailed) as exc:
            self._fail_on_link(exc)
        except DeviceError as exc:
            self._fail("device_error", exc.message, keep_desired=True)
        self._record_outcome()
        return self.deployment

    # The steps

    async def _update(self) -> None:
        self.log.info("Update to %s: reading the device's release status", self.release)
        self.status = await read_status(self.ctx, self.device)
        if self._already_committed():
            return
        if self.status.watchdog_armed and self.status.watchdog.get("release") == self.release:
            await self._resume_activation()
            return
        files = unique_files(self.ctx.catalog.file_blobs(self.artifact))
        refusal = await self._precheck(files)
        if refusal is not None:
            self._fail(refusal.code, f"refused before any change: {refusal.reason}", keep_desired=False)
            return
        await self._ensure_trust()
        # A reboot while the watchdog is armed runs watchdog-check only when this line is already installed.
        await ensure_boot_hook(self.ctx, self.device)
        if not self.status.is_staged(self.release):
            self._set(UpdateState.TRANSFERRING)
            await transfer_files(self.ctx, self.device, self.deployment, files, self.log)
            await self._stage()
        self._set(UpdateState.STAGED)
        await self._activate()

    def _already_committed(self) -> bool:
        status = self.status
        if status.current != self.release or status.known_good != self.release or status.watchdog_armed:
            return False
        self.log.info("Release %s is already current and known-good; nothing to send", self.release)
        self.deployment.detail["already_current"] = True
        self._set(UpdateState.COMMITTED)
        return True

    async def _precheck(self, files: list) -> Refusal | None:
        facts = await self._fresh_facts()
        to_send = 0 if self.status.is_staged(self.release) else sum(size for _blob, _sha, size in files)
        refusal = check_target(self.manifest, facts, self.status.disk_free_mb, to_send)
        if refusal is not None:
            self.log.warning("Pre-check refused release %s: %s (%s)", self.release, refusal.reason, refusal.code)
        return refusal

    async def _fresh_facts(self) -> HardwareFacts | None:
        """Return the device's facts, running `inventory` first when the last discovery is missing or old."""
        history = self.ctx.store.facts_history(self.device.name, limit=1)
        if history and datetime.now(UTC) - history[0].at < FACTS_MAX_AGE:
            return history[0].facts
        self.log.info("Facts are missing or older than %s; running inventory", FACTS_MAX_AGE)
        facts = await self.ctx.shim.inventory(self.device)
        self.ctx.store.record_facts(self.device.name, facts, datetime.now(UTC))
        return facts

    async def _ensure_trust(self, force: bool = False) -> None:
        """Install the artifact's signing key on the device once; the store remembers devices that trust it."""
        name, public_key = self.artifact.signer_key_name, self.artifact.signer_public_key
        if not force and self.ctx.store.trusted_key(self.device.name, name) == public_key:
            return
        self.log.info("Installing signing key %s on the device", name)
        try:
            await self.ctx.release_shim.call(self.device, "trust", {"name": name, "public_key": public_key})
        except ShimRefused as exc:
            if exc.code != "key_exists":
                raise
            error = (f"device {self.device.name} already trusts a different key named {name}; remove "
                     f".edgetui/trusted_keys/{name}.pub on the device if that key is retired, then deploy again")
            raise ShimRefused(self.device.name, "trust", {**exc.reply, "error": error}) from exc
        self.ctx.store.record_trust(self.device.name, name, public_key)

    async def _stage(self) -> None:
        request = {"manifest": self.manifest, "signature": self.ctx.catalog.signature(self.artifact),
                   "key": self.artifact.signer_key_name}
        self.log.info("Staging release %s", self.release)
        try:
            reply = await self.ctx.release_shim.call(self.device, "stage", request)
        except ShimRefused as exc:
            if exc.code != "untrusted_key":
                raise
            # The device lost the key that the store records for it (reinstalled, or its state removed).
            self.log.warning("Device no longer trusts key %s; installing it again", self.artifact.signer_key_name)
            await self._ensure_trust(force=True)
            reply = await self.ctx.release_shim.call(self.device, "stage", request)
        self.deployment.detail["stage"] = {key: reply.get(key) for key in ("already_staged", "copied", "linked")}

    async def _activate(self) -> None:
        self._set(UpdateState.ACTIVATING)
        request = {"release": self.release, "watchdog_s": self.ctx.watchdog_s,
                   "health_timeout_s": self.ctx.health_timeout_s}
        self.log.info("Activating %s with a %.0f s watchdog", self.release, self.ctx.watchdog_s)
        try:
            reply = await self.ctx.release_shim.call(
                self.device, "activate", request, timeout=self.ctx.health_timeout_s + ACTIVATE_SLACK_S)
        except ShimRefused as exc:
            if exc.code == "health_check_failed":
                await self._confirm_health_rollback(exc.reply)
                return
            raise
        except LINK_ERRORS as exc:
            await self._recover_interrupted(f"the activation was interrupted: {exc}")
            return
        await self._judge_and_commit(reply.get("health") or {})

    async def _judge_and_commit(self, health: dict[str, Any]) -> None:
        """Check the health result against the budget; commit when it passes, roll back when not."""
        self.deployment.detail["health"] = health
        self._set(UpdateState.HEALTH_CHECK)
        problem = health_problem(health, self.manifest.get("health"))
        if problem is not None:
            self.log.warning("Health check judged failed by the console: %s", problem)
            await self._roll_back(Trigger.HEALTH_CHECK, problem, code="health_check_failed")
            return
        await self._commit()

    async def _commit(self) -> None:
        self.log.info("Committing %s", self.release)
        try:
            await with_reconnects(self.ctx, self.log, "Commit", lambda: self.ctx.release_shim.call(
                self.device, "commit", {"release": self.release}))
        except LINK_ERRORS as exc:
            deadline = watchdog_deadline(self.status, self.ctx)
            self._fail("unreachable", f"commit did not reach the device ({exc}); the watchdog will roll back "
                       f"by {deadline}", keep_desired=True)
            return
        self.ctx.store.set_current_release(self.device.name, self.release)
        self._set(UpdateState.COMMITTED)

    # Failed activations

    async def _confirm_health_rollback(self, reply: dict[str, Any]) -> None:
        """Record a release the shim rolled back after its health check, once status confirms it."""
        health = reply.get("health") or {}
        self.deployment.detail["health"] = health
        reason = health.get("error") or reply.get("error") or "the health check failed"
        self.log.warning("Health check failed on the device, which rolled back to %s: %s", reply.get("current"), reason)
        status = await with_reconnects(self.ctx, self.log, "Status after rollback",
                                       lambda: read_status(self.ctx, self.device))
        if status.current != reply.get("current") or status.watchdog_armed:
            raise RollbackNotConfirmed(self.device.name, f"Device {self.device.name} reports {status.current} "
                                       f"after its health check rolled back to {reply.get('current')}.")
        self._rolled_back(Trigger.HEALTH_CHECK, f"health check failed: {reason}", health.get("code") or "health_check_failed")

    async def _recover_interrupted(self, reason: str) -> None:
        """Roll back at once after an activation that died; when the device is gone, leave it to its watchdog."""
        self.log.warning("Activation of %s failed: %s; rolling back to the known-good release", self.release, reason)
        await self._roll_back(Trigger.CONSOLE, reason, code="activation_interrupted")

    async def _roll_back(self, trigger: Trigger, reason: str, *, code: str) -> None:
        try:
            self.status = await roll_back_and_confirm(self.ctx, self.device, self.log, to="known_good",
                                                      trigger=trigger, reason=reason)
        except ShimRefused as exc:
            deadline = watchdog_deadline(self.status, self.ctx)
            self._fail(code, f"{reason}; the console could not roll back ({exc.message}); the watchdog switches "
                       f"the release off by {deadline}", keep_desired=False)
            return
        except LINK_ERRORS as exc:
            deadline = watchdog_deadline(self.status, self.ctx)
            self._fail(code, f"{reason}; device unreachable ({exc}); the watchdog will roll back by {deadline}",
                       keep_desired=True)
            return
        self._rolled_back(trigger, f"{reason}; rolled back to {self.status.current}", code)

    # Resuming after the console died

    async def _resume_activation(self) -> None:
        """Finish an update recorded as activating or health_check from the device's status."""
        status = self.status or await read_status(self.ctx, self.device)
        self.status = status
        watchdog = status.watchdog
        self.log.info("Resuming %s recorded as %s: current %s, watchdog %s",
                      self.release, self.deployment.state, status.current, watchdog)
        if watchdog.get("armed") and watchdog.get("release") == self.release:
            if watchdog.get("phase") == "armed" and status.current == self.release:
                await self._commit()
            else:
                await self._recover_interrupted("the console stopped during the activation")
        elif status.current == self.release:
            # Commit disarms the watchdog before it moves known_good, so commit again finishes it.
            await self._commit()
        else:
            entry = status.last_rollback(self.release) or {}
            trigger = Trigger.WATCHDOG if entry.get("trigger") == "watchdog" else Trigger.HEALTH_CHECK
            reason = (entry.get("detail") or {}).get("reason") or "the device rolled the release back"
            self._rolled_back(trigger, reason, "rolled_back_on_device")

    # Recording

    def _set(self, state: UpdateState) -> None:
        """Record the step in SQLite before it runs, and report it."""
        self.deployment.state = state
        self.ctx.store.save_deployment(self.deployment)
        self.log.info("State %s", state)
        self.ctx.report(Progress(self.device.name, str(state), self.deployment.bytes_sent, self.deployment.bytes_total))

    def _rolled_back(self, trigger: Trigger, reason: str, code: str) -> None:
        self.deployment.trigger = trigger
        self.deployment.error = reason
        self.deployment.error_code = code
        self.ctx.store.clear_desired_release(self.device.name)
        self._set(UpdateState.ROLLED_BACK)

    def _fail(self, code: str, reason: str, *, keep_desired: bool) -> None:
        self.deployment.error = reason
        self.deployment.error_code = code
        if not keep_desired:
            self.ctx.store.clear_desired_release(self.device.name)
        self.log.warning("Update to %s failed (%s): %s", self.release, code, reason)
        self._set(UpdateState.FAILED)

    def _fail_on_link(self, exc: Exception) -> None:
        """Fail an update whose link or shim broke before activation; the desired release stays for reconcile."""
        message = getattr(exc, "message", None) or str(exc)
        if isinstance(exc, TransferFailed):
            code = "transfer_failed"
        elif isinstance(exc, LINK_ERRORS):
            code = "unreachable"
        elif isinstance(exc, ShimError):
            code = "shim_error"
        else:
            code = "ssh_error"
        self._fail(code, f"{message}; nothing was activated", keep_desired=True)

    def _record_outcome(self) -> None:
        deployment = self.deployment
        ok = deployment.state == UpdateState.COMMITTED
        message = f"{deployment.release}: {deployment.state}" + (f" ({deployment.error})" if deployment.error else "")
        record_action(
            self.ctx.store, "deploy.update", result=str(deployment.state), devices=[self.device], ok=ok,
            message=message, artifact_id=self.artifact.id,
            detail={"release": deployment.release, "rollout": deployment.rollout_id, "trigger": str(deployment.trigger),
                    "error_code": deployment.error_code, "bytes_sent": deployment.bytes_sent},
        )


def health_problem(health: dict[str, Any], budget: dict[str, Any] | None) -> str | None:
    """Return why a health result fails the manifest's budget, or None when it passes or was skipped."""
    if not health.get("passed", False):
        return health.get("error") or "the health check did not pass"
    measured = health.get("measured") or {}
    max_p95 = (budget or {}).get("max_p95_ms")
    p95 = measured.get("p95_ms")
    if max_p95 is not None and p95 is not None and p95 > max_p95:
        return f"p95 latency {p95} ms is over the budget of {max_p95} ms"
    max_rate = (budget or {}).get("max_error_rate")
    rate = measured.get("error_rate")
    if max_rate is not None and rate is not None and rate > max_rate:
        return f"error rate {rate} is over the budget of {max_rate}"
    return None
