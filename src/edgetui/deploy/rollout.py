"""Rollouts: deploy one artifact to selected devices in waves, halting on failures or slow releases.

Wave 1 is the canary. After each wave the runner counts devices whose release
failed or rolled back; more than max_failures, or any device whose health check
measured p95 latency over the budget, halts the rollout, and the devices of
later waves stay `planned`. Devices within a wave update in parallel, bounded
by the SSH pool's connection limit.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets

from edgetui.artifacts.artifact import Artifact
from edgetui.deploy.audit_trail import record_action
from edgetui.deploy.context import DeployContext
from edgetui.deploy.device_update import DeviceUpdate, release_id
from edgetui.deploy.records import Deployment, Rollout, RolloutState, Trigger, UpdateState
from edgetui.deploy.waves import plan_waves
from edgetui.domain import Device
from edgetui.errors import InputError

log = logging.getLogger("edgetui.deploy")

# Error codes of devices that were offline or whose link failed: they keep the
# desired release for reconcile and do not count as failures of the release.
LINK_CODES = frozenset({"unreachable", "transfer_failed"})
LATENCY_CODES = frozenset({"latency_over_budget"})
MAX_PARALLEL = 32


def new_rollout_id() -> str:
    """Return a short random rollout id."""
    return "r-" + secrets.token_hex(4)


async def start_rollout(
    ctx: DeployContext, artifact: Artifact, devices: list[Device], *, selector: str, waves: str,
    max_failures: int, trigger: Trigger = Trigger.USER,
) -> Rollout:
    """Record a rollout with every device planned, then run it; return the rollout in its final state."""
    if max_failures < 0:
        raise InputError(f"--max-failures must be 0 or more, not {max_failures}.")
    rollout = Rollout(
        id=new_rollout_id(), artifact_id=artifact.id, artifact_ref=artifact.ref, selector=selector,
        waves=plan_waves(waves, [device.name for device in devices]), max_failures=max_failures,
        watchdog_s=ctx.watchdog_s, trigger=trigger, owner_pid=os.getpid(),
    )
    planned = [
        Deployment(device=name, artifact_id=artifact.id, release=release_id(artifact), rollout_id=rollout.id,
                   wave=index, trigger=trigger)
        for index, names in enumerate(rollout.waves, start=1) for name in names
    ]
    ctx.store.create_rollout(rollout, planned)
    log.info("Rollout %s of %s to %d devices in %d waves started", rollout.id, artifact.ref, len(planned),
             len(rollout.waves))
    record_action(ctx.store, "deploy.rollout", result="started", devices=devices, ok=True,
                  message=f"rollout {rollout.id} of {artifact.ref} started", artifact_id=artifact.id,
                  detail={"rollout": rollout.id, "selector": selector, "waves": waves, "trigger": str(trigger)})
    return await run_rollout(ctx, rollout, artifact, {device.name: device for device in devices})


async def run_rollout(ctx: DeployContext, rollout: Rollout, artifact: Artifact, devices: dict[str, Device]) -> Rollout:
    """Run the waves whose devices are not final yet, in order; stop on a halt or a cancel."""
    for index in range(1, len(rollout.waves) + 1):
        current = ctx.store.rollout(rollout.id)
        if current is not None and current.state == RolloutState.CANCELLED:
            log.info("Rollout %s was cancelled; wave %d and later stay planned", rollout.id, index)
            rollout.state = RolloutState.CANCELLED
            return rollout
        wave = [d for d in ctx.store.deployments(rollout.id) if d.wave == index]
        await _run_wave(ctx, artifact, devices, [d for d in wave if not d.state.is_final])
        reason = halt_reason(index, ctx.store.deployments(rollout.id), rollout.max_failures)
        # The last wave halts too: "completed" would hide that it failed past the limit.
        if reason is not None:
            _halt(ctx, rollout, artifact, devices, reason)
            return rollout
    rollout.state = RolloutState.COMPLETED
    rollout.owner_pid = None
    ctx.store.update_rollout(rollout)
    log.info("Rollout %s completed", rollout.id)
    record_action(ctx.store, "deploy.rollout", result="completed", devices=list(devices.values()), ok=True,
                  message=f"rollout {rollout.id} completed", artifact_id=artifact.id, detail={"rollout": rollout.id})
    return rollout


async def _run_wave(ctx: DeployContext, artifact: Artifact, devices: dict[str, Device], pending: list[Deployment]) -> None:
    """Update the wave's pending devices in parallel; the pool bounds the open connections."""
    limit = asyncio.Semaphore(MAX_PARALLEL)

    async def update(deployment: Deployment) -> None:
        async with limit:
            await DeviceUpdate(ctx, devices[deployment.device], artifact, deployment).run()

    await asyncio.gather(*(update(deployment) for deployment in pending))


def halt_reason(index: int, deployments: list[Deployment], max_failures: int) -> str | None:
    """Return why wave ``index`` halts the rollout, or None when the next wave may start."""
    wave = [d for d in deployments if d.wave == index]
    failed = [d for d in wave if d.state in (UpdateState.FAILED, UpdateState.ROLLED_BACK)
              and d.error_code not in LINK_CODES]
    slow = [d for d in wave if d.error_code in LATENCY_CODES]
    if len(failed) > max_failures:
        names = "; ".join(f"{d.device}: {d.state} ({d.error_code}: {d.error})" for d in failed)
        return f"wave {index}: {len(failed)} of {len(wave)} devices failed, more than the {max_failures} allowed: {names}"
    if slow:
        names = ", ".join(d.device for d in slow)
        return f"wave {index}: p95 latency over the artifact's budget on {names}"
    return None


def _halt(ctx: DeployContext, rollout: Rollout, artifact: Artifact, devices: dict[str, Device], reason: str) -> None:
    rollout.state = RolloutState.HALTED
    rollout.halt_reason = reason
    rollout.owner_pid = None
    ctx.store.update_rollout(rollout)
    untouched = [devices[d.device] for d in ctx.store.deployments(rollout.id)
                 if d.state == UpdateState.PLANNED and d.device in devices]
    for device in untouched:
        # Later waves never started on these devices, so they keep no desired release.
        ctx.store.clear_desired_release(device.name)
    log.warning("Rollout %s halted: %s", rollout.id, reason)
    record_action(ctx.store, "deploy.rollout", result="halted", devices=untouched, ok=False,
                  message=f"rollout {rollout.id} halted, devices left untouched: {reason}", artifact_id=artifact.id,
                  detail={"rollout": rollout.id, "trigger": str(Trigger.WAVE_HALTED), "halt_reason": reason})


def owner_alive(rollout: Rollout) -> bool:
    """Tell whether another live process still runs the rollout."""
    pid = rollout.owner_pid
    if pid is None or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # NOTE: a reused PID of an unrelated process also counts as alive here.
    return True


async def resume_rollout(ctx: DeployContext, rollout: Rollout, artifact: Artifact, devices: dict[str, Device]) -> Rollout:
    """Continue a running or halted rollout from the state in SQLite and on the devices."""
    if rollout.state in (RolloutState.COMPLETED, RolloutState.CANCELLED):
        raise InputError(f"Rollout {rollout.id} is {rollout.state}; only a running or halted rollout can be resumed.")
    if owner_alive(rollout):
        raise InputError(f"Rollout {rollout.id} is still running in process {rollout.owner_pid}; "
                         "wait for it or stop that process first.")
    rollout.state = RolloutState.RUNNING
    rollout.halt_reason = None
    rollout.owner_pid = os.getpid()
    ctx.store.update_rollout(rollout)
    log.info("Resuming rollout %s", rollout.id)
    record_action(ctx.store, "deploy.rollout", result="resumed", devices=list(devices.values()), ok=True,
                  message=f"rollout {rollout.id} resumed", artifact_id=artifact.id, detail={"rollout": rollout.id})
    return await run_rollout(ctx, rollout, artifact, devices)
