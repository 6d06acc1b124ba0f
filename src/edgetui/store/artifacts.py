"""The artifacts and artifact_files tables: the signed releases that `edgetui artifact add` packaged."""

import json
import logging
from typing import Any

from edgetui.artifacts.artifact import Artifact
from edgetui.artifacts.errors import ArtifactConflictError
from edgetui.artifacts.manifest import ReleaseFile
from edgetui.store.db import StoreConnection
from edgetui.store.timestamps import from_iso, to_iso, utc_now

log = logging.getLogger("edgetui.artifacts")


class ArtifactTable:
    """Queries and writes on the artifacts and artifact_files tables."""

    def __init__(self, connection: StoreConnection) -> None:
        self._connection = connection

    def record(self, artifact: Artifact) -> bool:
        """Insert the artifact and its files; return False when the same id is already recorded.

        Raises ArtifactConflictError when another artifact has the same name and
        version. The check runs inside the write transaction, so two processes
        that add the same NAME:VERSION at once cannot both succeed.
        """
        with self._connection.transaction() as db:
            existing = db.execute(
                "SELECT id FROM artifacts WHERE name = ? AND version = ?", [artifact.name, artifact.version]
            ).fetchone()
            if existing and existing[0] == artifact.id:
                return False
            if existing:
                raise ArtifactConflictError(artifact.name, artifact.version, existing[0], artifact.id)
            db.table("artifacts").insert(_artifact_row(artifact))
            db.table("artifact_files").insert_all(
                {"artifact_id": artifact.id, "position": position, "path": entry.path,
                 "sha256": entry.sha256, "size": entry.size}
                for position, entry in enumerate(artifact.files)
            )
        log.info("recorded artifact %s:%s as %s", artifact.name, artifact.version, artifact.id)
        return True

    def all(self) -> list[Artifact]:
        """Return every artifact, newest first."""
        with self._connection.reading() as db:
            rows = list(db.table("artifacts").rows_where(order_by="added_at DESC, name, version"))
            files = self._files(db, [row["id"] for row in rows])
        return [_from_row(row, files.get(row["id"], [])) for row in rows]

    def get(self, artifact_id: str) -> Artifact | None:
        """Return the artifact with this id, or None."""
        return self._one("id = ?", [artifact_id])

    def find(self, name: str, version: str) -> Artifact | None:
        """Return the artifact NAME:VERSION, or None."""
        return self._one("name = ? AND version = ?", [name, version])

    def _one(self, where: str, params: list[str]) -> Artifact | None:
        with self._connection.reading() as db:
            rows = list(db.table("artifacts").rows_where(where, params, limit=1))
            if not rows:
                return None
            files = self._files(db, [rows[0]["id"]])
        return _from_row(rows[0], files.get(rows[0]["id"], []))

    @staticmethod
    def _files(db, artifact_ids: list[str]) -> dict[str, list[ReleaseFile]]:
        """Return the files of each artifact in manifest order."""
        files: dict[str, list[ReleaseFile]] = {}
        if not artifact_ids:
            return files
        marks = ", ".join("?" for _ in artifact_ids)
        rows = db.execute(
            f"SELECT artifact_id, path, sha256, size FROM artifact_files WHERE artifact_id IN ({marks}) "
            "ORDER BY artifact_id, position",
            artifact_ids,
        ).fetchall()
        for artifact_id, path, sha256, size in rows:
            files.setdefault(artifact_id, []).append(ReleaseFile(path, sha256, size))
        return files


def _artifact_row(artifact: Artifact) -> dict[str, Any]:
    return {
        "id": artifact.id,
        "name": artifact.name,
        "version": artifact.version,
        "created": artifact.created,
        "size_bytes": artifact.size_bytes,
        "entrypoint": artifact.entrypoint,
        "target": json.dumps(artifact.target, sort_keys=True),
        "health": json.dumps(artifact.health, sort_keys=True),
        "signature": artifact.signature,
        "signer_fingerprint": artifact.signer_fingerprint,
        "signer_key_name": artifact.signer_key_name,
        "signer_public_key": artifact.signer_public_key,
        "added_at": to_iso(artifact.added_at or utc_now()),
    }


def _from_row(row: dict[str, Any], files: list[ReleaseFile]) -> Artifact:
    return Artifact(
        id=row["id"],
        name=row["name"],
        version=row["version"],
        created=row["created"],
        files=files,
        size_bytes=row["size_bytes"],
        entrypoint=row["entrypoint"],
        target=json.loads(row["target"]),
        health=json.loads(row["health"]),
        signature=row["signature"],
        signer_fingerprint=row["signer_fingerprint"],
        signer_key_name=row["signer_key_name"],
        signer_public_key=row["signer_public_key"],
        added_at=from_iso(row["added_at"]),
    )
