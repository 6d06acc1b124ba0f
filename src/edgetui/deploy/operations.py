"""Fleet operations besides rollouts: rollback, a device's releases, and reconcile to the desired release."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from edgetui.artifacts.artifact import Artifact
from edgetui.deploy.audit_trail import record_action
from edgetui.deploy.context import DeployContext
from edgetui.deploy.device_update import DeviceUpdate, release_id
from edgetui.deploy.records import Deployment, Trigger, UpdateState
from edgetui.deploy.recovery import LINK_ERRORS, roll_back_and_confirm
from edgetui.deploy.shim_calls import ShimRefused
from edgetui.deploy.status import ReleaseStatus, read_status
from edgetui.domain import Device
from edgetui.errors import DeviceError, EdgetuiError

log = logging.getLogger("edgetui.deploy")

ROLLBACK_TARGETS = ("known_good", "previous")


async def rollback_devices(ctx: DeployContext, devices: list[Device], to: str = "known_good") -> list[dict[str, Any]]:
    """Roll each device back to its known-good (or previous) release in parallel and confirm with status."""
    return list(await asyncio.gather(*(_rollback_one(ctx, device, to) for device in devices)))


async def _rollback_one(ctx: DeployContext, device: Device, to: str) -> dict[str, Any]:
    device_log = log.getChild(device.name)
    result: dict[str, Any] = {"name": device.name, "ok": False, "current": None, "version": None, "error": None}
    try:
        target = await _rollback_target(ctx, device, to)
        status = await roll_back_and_confirm(ctx, device, device_log, to=target, trigger=Trigger.USER,
                                             reason=f"edgetui rollback --to {to}")
        if target == "previous" and status.current and status.current != status.known_good:
            # The user chose to return to this release, so it becomes the one a
            # later failed activation or watchdog falls back to.
            await ctx.release_shim.call(device, "commit", {"release": status.current})
            status = await read_status(ctx, device)
    except (ShimRefused, DeviceError) as exc:
        device_log.warning("Rollback to %s failed: %s", to, exc)
        result["error"] = exc.message
    else:
        ctx.store.clear_desired_release(device.name)
        result.update(ok=True, current=status.current, version=status.version_of(status.current))
    record_action(ctx.store, "deploy.rollback", result="rolled_back" if result["ok"] else "failed", devices=[device],
                  ok=result["ok"], message=f"rollback to {to}: {result['current'] or result['error']}",
                  detail={"to": to, "trigger": str(Trigger.USER), "current": result["current"]})
    return result


async def _rollback_target(ctx: DeployContext, device: Device, to: str) -> str:
    """Return where a user's rollback goes: known_good, unless the device already runs it.

    After a commit the current release is the known-good one, so "roll back to
    the known-good release" means the release committed before it: previous.
    """
    if to != "known_good":
        return to
    status = await read_status(ctx, device)
    if status.current is not None and status.current == status.known_good and status.previous:
        return "previous"
    return to


async def device_releases(ctx: DeployContext, device: Device) -> dict[str, Any]:
    """Return the device's releases as its shim reports them: current, known_good and every staged release."""
    status = await read_status(ctx, device)
    return releases_json(device.name, status)


def releases_json(name: str, status: ReleaseStatus) -> dict[str, Any]:
    """Return the `releases --json` object; current and known_good are versions, or null."""
    return {
        "device": name,
        "current": status.version_of(status.current),
        "known_good": status.version_of(status.known_good),
        "current_id": status.current,
        "known_good_id": status.known_good,
        "previous_id": status.previous,
        "watchdog": status.watchdog,
        "releases": [
            {"id": entry.get("id"), "artifact": entry.get("name"), "version": entry.get("version"),
             "state": entry.get("state")}
            for entry in status.releases
        ],
    }


async def reconcile(ctx: DeployContext, devices: dict[str, Device], artifacts: dict[str, Artifact]) -> list[dict[str, Any]]:
    """Update every reachable device whose current release differs from its desired one; report each device."""
    desired = ctx.store.desired_releases()
    jobs = [_reconcile_one(ctx, devices[name], artifacts[artifact_id], rollout_id)
            for name, (artifact_id, rollout_id) in desired.items() if name in devices and artifact_id in artifacts]
    return list(await asyncio.gather(*jobs))


async def _reconcile_one(ctx: DeployContext, device: Device, artifact: Artifact, rollout_id: str | None) -> dict[str, Any]:
    release = release_id(artifact)
    result: dict[str, Any] = {"name": device.name, "release": release, "state": None, "error": None}
    try:
        status = await read_status(ctx, device)
    except (*LINK_ERRORS, EdgetuiError) as exc:
        log.getChild(device.name).info("Reconcile: device not reachable, desired release %s kept: %s", release, exc)
        result.update(state="offline", error=str(exc))
        return result
    if status.current == release and status.known_good == release:
        result["state"] = "in_sync"
        return result
    deployment = Deployment(device=device.name, artifact_id=artifact.id, release=release, rollout_id=None,
                            trigger=Trigger.RECONCILE, detail={"desired_by_rollout": rollout_id})
    ctx.store.save_deployment(deployment)
    await DeviceUpdate(ctx, device, artifact, deployment).run()
    result.update(state=str(deployment.state), error=deployment.error, bytes_sent=deployment.bytes_sent)
    return result


def unfinished(deployments: list[Deployment]) -> list[Deployment]:
    """Return the deployments that are not in a final state."""
    return [d for d in deployments if d.state not in (UpdateState.COMMITTED, UpdateState.ROLLED_BACK, UpdateState.FAILED)]
