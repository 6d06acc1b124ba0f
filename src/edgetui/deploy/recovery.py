"""Rollback that the console confirms, with reconnects: after a failed activation and for `edgetui rollback`."""

from __future__ import annotations

import asyncio
import logging
import time

from edgetui.deploy.context import DeployContext
from edgetui.deploy.records import Trigger
from edgetui.deploy.shim_calls import ShimInterrupted
from edgetui.deploy.status import ReleaseStatus, read_status
from edgetui.domain import Device
from edgetui.errors import DeviceError
from edgetui.ssh import CommandTimeout, ConnectionLost, ConnectTimeout, Unreachable

# Link failures worth a reconnect: the device may come back within the attempts.
LINK_ERRORS = (ConnectionLost, ConnectTimeout, Unreachable, CommandTimeout, ShimInterrupted)
MAX_REASON_CHARS = 500
# The triggers the shim's rollback accepts; the console's own decisions are "console".
SHIM_TRIGGERS = {Trigger.USER: "user", Trigger.HEALTH_CHECK: "health_check", Trigger.WATCHDOG: "watchdog",
                 Trigger.WAVE_HALTED: "wave_halted"}


class RollbackNotConfirmed(DeviceError):
    """The device's status after a rollback does not show the target release as current."""

    title = "Rollback not confirmed"


async def with_reconnects(ctx: DeployContext, log: logging.Logger, what: str, operation):
    """Await ``operation()`` up to ctx.recovery_attempts times while the link fails; re-raise the last link error."""
    for attempt in range(1, ctx.recovery_attempts + 1):
        try:
            return await operation()
        except LINK_ERRORS as exc:
            if attempt >= ctx.recovery_attempts:
                log.warning("%s failed after %d attempts: %s", what, attempt, exc)
                raise
            delay = ctx.retry_delay_s * 2 ** (attempt - 1)
            log.warning("%s failed (%s); reconnecting, attempt %d of %d in %.1f s",
                        what, exc, attempt + 1, ctx.recovery_attempts, delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable: the loop returns or raises")


async def roll_back_and_confirm(
    ctx: DeployContext, device: Device, log: logging.Logger, *, to: str, trigger: Trigger, reason: str
) -> ReleaseStatus:
    """Roll the device back to ``to`` (known_good, previous or a release id), then confirm it with `status`.

    Returns the confirmed status. Raises ShimRefused when the device has no
    such release, RollbackNotConfirmed when status disagrees, and the link
    errors once every reconnect failed.
    """
    request = {"to": to, "reason": reason[:MAX_REASON_CHARS], "trigger": SHIM_TRIGGERS.get(trigger, "console")}

    async def rollback_once() -> ReleaseStatus:
        reply = await ctx.release_shim.call(device, "rollback", request)
        status = await read_status(ctx, device)
        if status.current != reply.get("current") or status.watchdog_armed:
            raise RollbackNotConfirmed(
                device.name,
                f"Device {device.name} reports current release {status.current} after a rollback to "
                f"{reply.get('current')} (watchdog armed: {status.watchdog_armed}). Run `edgetui releases "
                f"{device.name}` and roll back again.",
            )
        return status

    log.info("Rolling back to %s (trigger %s): %s", to, trigger, reason)
    status = await with_reconnects(ctx, log, "Rollback", rollback_once)
    log.info("Rollback confirmed: current release is %s", status.current)
    return status


def watchdog_deadline(status: ReleaseStatus | None, ctx: DeployContext) -> str:
    """Return the watchdog's deadline as UTC text, from the last status or estimated from the settings."""
    deadline = status.watchdog.get("deadline") if status is not None else None
    if deadline is None:
        # An estimate: the shim's first deadline covers the health check and the watchdog period.
        deadline = time.time() + ctx.health_timeout_s + ctx.watchdog_s
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(deadline))
