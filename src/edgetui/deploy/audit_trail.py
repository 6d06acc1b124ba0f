"""Deploy actions in the event log and the audit log, with who or what triggered them."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import asyncssh

from edgetui.audit import AuditLog
from edgetui.domain import Device
from edgetui.store import FleetStore

log = logging.getLogger("edgetui.deploy")


def ssh_key_fingerprint(device: Device) -> str | None:
    """Return the SHA256 fingerprint of the device's SSH key from its .pub file, or None when unknown."""
    if not device.key_file:
        return None
    public = Path(device.key_file + ".pub").expanduser()
    try:
        return asyncssh.read_public_key(str(public)).get_fingerprint("sha256")
    except (OSError, asyncssh.KeyImportError) as exc:
        log.debug("No SSH key fingerprint for device %s: %s", device.name, exc)
        return None


def shared_fingerprint(devices: list[Device]) -> str | None:
    """Return the SSH key fingerprint the devices share, or None when they use different or unknown keys."""
    fingerprints = {ssh_key_fingerprint(device) for device in devices}
    return fingerprints.pop() if len(fingerprints) == 1 else None


def record_action(
    store: FleetStore,
    action: str,
    *,
    result: str,
    devices: list[Device],
    ok: bool,
    message: str,
    artifact_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append the action to the audit log and one event per device (or one fleet event) to the event log."""
    detail = dict(detail or {})
    AuditLog(store).append(
        action, result=result, devices=[device.name for device in devices], artifact_id=artifact_id,
        ssh_key_fingerprint=shared_fingerprint(devices), detail=detail,
    )
    event_action = action.replace(".", "-")
    if not devices:
        store.record_event(event_action, None, ok=ok, message=message, detail=detail)
    for device in devices:
        store.record_event(event_action, device.name, ok=ok, message=message, detail=detail)
