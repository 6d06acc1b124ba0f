"""Discover many devices in parallel and record what each one reported.

The SSH pool bounds how many connections are open at once, so this module
starts every device's discovery together and lets the pool queue them.
"""

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from edgetui.domain import Device, DeviceStatus, DiscoveryResult, DiscoveryUpdate
from edgetui.errors import EdgetuiError
from edgetui.shim_client import ShimClient
from edgetui.ssh.errors import ConnectionLost, ConnectTimeout, Unreachable
from edgetui.store import FleetStore

log = logging.getLogger(__name__)

ProgressCallback = Callable[[DiscoveryUpdate], None]


async def discover_devices(
    store: FleetStore,
    shim: ShimClient,
    devices: list[Device],
    on_update: ProgressCallback | None = None,
) -> list[DiscoveryResult]:
    """Run `inventory` on every device at once; return one result per device, in order."""
    log.info("discovery started on %d device(s)", len(devices))
    tasks = [_discover_one(store, shim, device, on_update) for device in devices]
    results = await asyncio.gather(*tasks)

    failed = sum(1 for result in results if not result.ok)
    log.info("discovery finished: %d ok, %d failed", len(results) - failed, failed)
    return list(results)


async def _discover_one(
    store: FleetStore,
    shim: ShimClient,
    device: Device,
    on_update: ProgressCallback | None,
) -> DiscoveryResult:
    """Discover one device; errors become a failed result, never an exception."""
    _notify(on_update, DiscoveryUpdate(name=device.name, status=DeviceStatus.DISCOVERING))
    started = datetime.now(UTC)

    try:
        facts = await shim.inventory(device)
    except (Unreachable, ConnectTimeout, ConnectionLost) as exc:
        return _record_failure(store, device, DeviceStatus.OFFLINE, exc.message, on_update)
    except EdgetuiError as exc:
        return _record_failure(store, device, DeviceStatus.ERROR, exc.message, on_update)
    except Exception as exc:  # noqa: BLE001 - one device's bug must not stop the fleet
        log.exception("discovery of %s failed unexpectedly", device.name)
        reason = f"unexpected error: {exc!r}"
        return _record_failure(store, device, DeviceStatus.ERROR, reason, on_update)

    now = datetime.now(UTC)
    with store.transaction():
        changes = store.record_facts(device.name, facts, now)
        store.set_status(device.name, DeviceStatus.ONLINE, None, last_seen=now)
        store.record_event(
            "discover",
            device.name,
            ok=True,
            message=_summary(changes),
            detail={"seconds": round((now - started).total_seconds(), 3), "changes": len(changes)},
        )

    result = DiscoveryResult(name=device.name, ok=True, facts=facts, changes=changes, discovered_at=now)
    log.info("discovered %s: %s", device.name, _summary(changes))
    _notify(on_update, DiscoveryUpdate(name=device.name, status=DeviceStatus.ONLINE, result=result))
    return result


def _record_failure(
    store: FleetStore,
    device: Device,
    status: DeviceStatus,
    reason: str,
    on_update: ProgressCallback | None,
) -> DiscoveryResult:
    """Store a failed discovery as the device's status and as an event."""
    log.warning("discovery of %s failed: %s", device.name, reason)
    with store.transaction():
        store.set_status(device.name, status, reason)
        store.record_event("discover", device.name, ok=False, message=reason)

    result = DiscoveryResult(name=device.name, ok=False, error=reason)
    _notify(on_update, DiscoveryUpdate(name=device.name, status=status, reason=reason, result=result))
    return result


def _summary(changes: list) -> str:
    """Describe what changed since the last discovery in a few words."""
    if not changes:
        return "no hardware changes"
    names = ", ".join(change.fact for change in changes[:5])
    more = "" if len(changes) <= 5 else f" and {len(changes) - 5} more"
    return f"changed: {names}{more}"


def _notify(on_update: ProgressCallback | None, update: DiscoveryUpdate) -> None:
    """Call the progress callback; its errors are logged so discovery goes on."""
    if on_update is None:
        return
    try:
        on_update(update)
    except Exception:  # noqa: BLE001 - a display bug must not abort discovery
        log.exception("progress callback failed for %s", update.name)
