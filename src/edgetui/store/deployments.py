"""The rollouts, deployments, device_trust, device_boot_hooks and desired_releases tables: the console's deploy journal."""

import json
import logging
from typing import Any

from edgetui.deploy.records import Deployment, Rollout, RolloutState, Trigger, UpdateState
from edgetui.store.db import StoreConnection
from edgetui.store.timestamps import from_iso, to_iso, utc_now

log = logging.getLogger("edgetui.store")


class DeploymentTable:
    """Queries and writes on the deploy tables."""

    def __init__(self, connection: StoreConnection) -> None:
        self._connection = connection

    # Rollouts

    def create_rollout(self, rollout: Rollout, deployments: list[Deployment]) -> None:
        """Insert a rollout and the planned deployment of each of its devices in one transaction."""
        now = utc_now()
        rollout.created_at = rollout.updated_at = now
        with self._connection.transaction() as db:
            db.table("rollouts").insert(_rollout_row(rollout))
            for deployment in deployments:
                self.save_deployment(deployment)

    def update_rollout(self, rollout: Rollout) -> None:
        """Write a rollout's state, halt reason and owner process."""
        rollout.updated_at = utc_now()
        with self._connection.transaction() as db:
            db.table("rollouts").update(rollout.id, {
                "state": str(rollout.state),
                "halt_reason": rollout.halt_reason,
                "owner_pid": rollout.owner_pid,
                "updated_at": to_iso(rollout.updated_at),
            })

    def rollout(self, rollout_id: str) -> Rollout | None:
        """Return the rollout with this id, or None."""
        with self._connection.reading() as db:
            rows = list(db.table("rollouts").rows_where("id = ?", [rollout_id]))
        return _rollout_from_row(rows[0]) if rows else None

    def rollouts(self, limit: int = 100) -> list[Rollout]:
        """Return up to ``limit`` rollouts, newest first."""
        with self._connection.reading() as db:
            rows = list(db.table("rollouts").rows_where(order_by="created_at DESC, id DESC", limit=limit))
        return [_rollout_from_row(row) for row in rows]

    # Deployments

    def save_deployment(self, deployment: Deployment) -> None:
        """Insert a deployment (setting its id) or update the recorded one."""
        now = utc_now()
        if deployment.created_at is None:
            deployment.created_at = now
        deployment.updated_at = now
        row = _deployment_row(deployment)
        with self._connection.transaction() as db:
            table = db.table("deployments")
            if deployment.id is None:
                table.insert(row)
                deployment.id = table.last_rowid
            else:
                table.update(deployment.id, row)

    def deployments(self, rollout_id: str) -> list[Deployment]:
        """Return the deployments of a rollout, by wave and device name."""
        with self._connection.reading() as db:
            rows = list(db.table("deployments").rows_where(
                "rollout_id = ?", [rollout_id], order_by="wave, device"))
        return [_deployment_from_row(row) for row in rows]

    def device_deployments(self, device: str, limit: int = 20) -> list[Deployment]:
        """Return up to ``limit`` deployments of one device, newest first."""
        with self._connection.reading() as db:
            rows = list(db.table("deployments").rows_where(
                "device = ?", [device], order_by="updated_at DESC, id DESC", limit=limit))
        return [_deployment_from_row(row) for row in rows]

    # Trusted signing keys and desired releases

    def trusted_key(self, device: str, key_name: str) -> str | None:
        """Return the public key the device was given under ``key_name``, or None."""
        with self._connection.reading() as db:
            rows = list(db.table("device_trust").rows_where(
                "device = ? AND key_name = ?", [device, key_name]))
        return rows[0]["public_key"] if rows else None

    def record_trust(self, device: str, key_name: str, public_key: str) -> None:
        """Record that the device trusts ``public_key`` under ``key_name``."""
        with self._connection.transaction() as db:
            db.table("device_trust").upsert(
                {"device": device, "key_name": key_name, "public_key": public_key, "trusted_at": to_iso(utc_now())},
                pk=("device", "key_name"),
            )

    def boot_hook_shim(self, device: str) -> str | None:
        """Return the sha256 of the shim whose boot hook the device's crontab was given, or None."""
        with self._connection.reading() as db:
            rows = list(db.table("device_boot_hooks").rows_where("device = ?", [device]))
        return rows[0]["shim_sha256"] if rows else None

    def record_boot_hook(self, device: str, shim_sha256: str, crontab_line: str) -> None:
        """Record that the device's crontab contains ``crontab_line``, the boot hook of that shim."""
        with self._connection.transaction() as db:
            db.table("device_boot_hooks").upsert(
                {"device": device, "shim_sha256": shim_sha256, "crontab_line": crontab_line,
                 "installed_at": to_iso(utc_now())},
                pk="device",
            )

    def set_desired(self, device: str, artifact_id: str, rollout_id: str | None) -> None:
        """Record the artifact the device should run."""
        with self._connection.transaction() as db:
            db.table("desired_releases").upsert(
                {"device": device, "artifact_id": artifact_id, "rollout_id": rollout_id, "set_at": to_iso(utc_now())},
                pk="device",
            )

    def clear_desired(self, device: str) -> None:
        """Forget the desired release of a device."""
        with self._connection.transaction() as db:
            db.execute("DELETE FROM desired_releases WHERE device = ?", [device])

    def desired(self) -> dict[str, tuple[str, str | None]]:
        """Return device name -> (artifact id, rollout id) for every desired release."""
        with self._connection.reading() as db:
            rows = list(db.table("desired_releases").rows_where(order_by="device"))
        return {row["device"]: (row["artifact_id"], row["rollout_id"]) for row in rows}

    def set_current_release(self, device: str, release: str | None) -> None:
        """Write the release a device reported as current into the devices table."""
        with self._connection.transaction() as db:
            db.execute(
                "UPDATE devices SET current_release = ?, updated_at = ? WHERE name = ?",
                [release, to_iso(utc_now()), device],
            )


def _rollout_row(rollout: Rollout) -> dict[str, Any]:
    return {
        "id": rollout.id,
        "artifact_id": rollout.artifact_id,
        "artifact_ref": rollout.artifact_ref,
        "selector": rollout.selector,
        "waves": json.dumps(rollout.waves),
        "max_failures": rollout.max_failures,
        "watchdog_s": rollout.watchdog_s,
        "state": str(rollout.state),
        "halt_reason": rollout.halt_reason,
        "trigger": str(rollout.trigger),
        "owner_pid": rollout.owner_pid,
        "created_at": to_iso(rollout.created_at),
        "updated_at": to_iso(rollout.updated_at),
    }


def _rollout_from_row(row: dict[str, Any]) -> Rollout:
    return Rollout(
        id=row["id"],
        artifact_id=row["artifact_id"],
        artifact_ref=row["artifact_ref"],
        selector=row["selector"],
        waves=json.loads(row["waves"]),
        max_failures=row["max_failures"],
        watchdog_s=row["watchdog_s"],
        state=RolloutState(row["state"]),
        halt_reason=row["halt_reason"],
        trigger=Trigger(row["trigger"]),
        owner_pid=row["owner_pid"],
        created_at=from_iso(row["created_at"]),
        updated_at=from_iso(row["updated_at"]),
    )


def _deployment_row(deployment: Deployment) -> dict[str, Any]:
    return {
        "rollout_id": deployment.rollout_id,
        "wave": deployment.wave,
        "device": deployment.device,
        "artifact_id": deployment.artifact_id,
        "release": deployment.release,
        "state": str(deployment.state),
        "bytes_sent": deployment.bytes_sent,
        "bytes_total": deployment.bytes_total,
        "error": deployment.error,
        "error_code": deployment.error_code,
        "trigger": str(deployment.trigger),
        "detail": json.dumps(deployment.detail, sort_keys=True),
        "created_at": to_iso(deployment.created_at),
        "updated_at": to_iso(deployment.updated_at),
    }


def _deployment_from_row(row: dict[str, Any]) -> Deployment:
    return Deployment(
        id=row["id"],
        rollout_id=row["rollout_id"],
        wave=row["wave"],
        device=row["device"],
        artifact_id=row["artifact_id"],
        release=row["release"],
        state=UpdateState(row["state"]),
        bytes_sent=row["bytes_sent"],
        bytes_total=row["bytes_total"],
        error=row["error"],
        error_code=row["error_code"],
        trigger=Trigger(row["trigger"]),
        detail=json.loads(row["detail"]),
        created_at=from_iso(row["created_at"]),
        updated_at=from_iso(row["updated_at"]),
    )
