"""ArtifactCatalog: find recorded artifacts, read their manifests and blobs, and verify them.

The deploy engine uses this API; the manifest of each artifact is the blob
whose sha256 is the artifact id, and the files are blobs under their sha256.
"""

import difflib
import hashlib
import json
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgetui.artifacts.artifact import Artifact
from edgetui.artifacts.errors import ArtifactInputError, ArtifactTamperedError
from edgetui.artifacts.manifest import canonical_bytes
from edgetui.artifacts.signing import verify_signature
from edgetui.artifacts.store import ArtifactStore, sha256_of_file

if TYPE_CHECKING:
    from edgetui.store import FleetStore

log = logging.getLogger("edgetui.artifacts")

MIN_PREFIX = 8
_HEX = re.compile(r"[0-9a-f]+")


class ArtifactCatalog:
    """The artifacts recorded in a fleet database, with their bytes in an ArtifactStore."""

    def __init__(self, store: "FleetStore", blobs: ArtifactStore) -> None:
        self.store = store
        self.blobs = blobs

    def resolve(self, ref: str) -> Artifact:
        """Return the artifact named by an id, a unique id prefix of 8 or more hex digits, or NAME:VERSION.

        Raises ArtifactInputError for an unknown or ambiguous reference, listing
        close matches.
        """
        ref = ref.strip()
        if ":" in ref:
            name, _, version = ref.partition(":")
            found = self.store.find_artifact(name, version)
        else:
            found = self._by_id(ref.lower())
        if found is None:
            raise ArtifactInputError(_unknown_message(ref, self.store.artifacts()))
        return found

    def _by_id(self, ref: str) -> Artifact | None:
        """Return the artifact with this id or unique id prefix, or None."""
        if not _HEX.fullmatch(ref) or len(ref) < MIN_PREFIX:
            return None
        if len(ref) == 64:
            return self.store.artifact(ref)
        matches = [artifact for artifact in self.store.artifacts() if artifact.id.startswith(ref)]
        if len(matches) > 1:
            listed = ", ".join(f"{artifact.id[:16]} ({artifact.ref})" for artifact in matches)
            raise ArtifactInputError(f"The id prefix {ref!r} matches {len(matches)} artifacts: {listed}. "
                                     "Give more digits of the id.")
        return matches[0] if matches else None

    def manifest_bytes(self, artifact: Artifact) -> bytes:
        """Return the canonical manifest bytes, checking that their sha256 is the artifact id."""
        path = self.blobs.path_for(artifact.id)
        try:
            data = path.read_bytes()
        except FileNotFoundError as error:
            raise ArtifactTamperedError(artifact.id, f"its manifest {path} is missing", "manifest.json") from error
        if sha256_of_bytes(data) != artifact.id:
            raise ArtifactTamperedError(artifact.id, f"its manifest {path} was changed", "manifest.json")
        return data

    def manifest(self, artifact: Artifact) -> dict[str, Any]:
        """Return the artifact's manifest as a dict."""
        return json.loads(self.manifest_bytes(artifact).decode("ascii"))

    def signature(self, artifact: Artifact) -> str:
        """Return the manifest's Ed25519 signature in base64."""
        return artifact.signature

    def file_blobs(self, artifact: Artifact) -> list[tuple[str, Path, str, int]]:
        """Return (path in the release, blob path, sha256, size) for each file, in manifest order."""
        return [(entry.path, self.blobs.path_for(entry.sha256), entry.sha256, entry.size)
                for entry in artifact.files]

    def verify(self, artifact: Artifact) -> None:
        """Re-hash the manifest and every blob and check the signature; raise ArtifactTamperedError."""
        log.info("verifying artifact %s (%s)", artifact.ref, artifact.id)
        data = self.manifest_bytes(artifact)
        manifest = json.loads(data.decode("ascii"))
        if canonical_bytes(manifest) != data:
            raise ArtifactTamperedError(artifact.id, "its manifest is not in canonical form", "manifest.json")
        if not verify_signature(artifact.signer_public_key, data, artifact.signature):
            raise ArtifactTamperedError(
                artifact.id, f"the signature does not match the manifest and key {artifact.signer_fingerprint}"
            )
        recorded = [(entry.path, entry.sha256, entry.size) for entry in artifact.files]
        listed = [(entry["path"], entry["sha256"], entry["size"]) for entry in manifest["files"]]
        if recorded != listed:
            raise ArtifactTamperedError(artifact.id, "the database's file list differs from the signed manifest")
        for path, blob, sha256, size in self.file_blobs(artifact):
            _check_blob(artifact.id, path, blob, sha256, size)
        log.info("artifact %s verified: %d files", artifact.id, len(artifact.files))


def _check_blob(artifact_id: str, path: str, blob: Path, sha256: str, size: int) -> None:
    """Raise ArtifactTamperedError naming ``path`` when its blob is missing or differs."""
    if not blob.is_file():
        raise ArtifactTamperedError(artifact_id, f"the blob of {path} ({blob}) is missing", path)
    actual_size = blob.stat().st_size
    if actual_size != size:
        raise ArtifactTamperedError(
            artifact_id, f"{path} has {actual_size} bytes in {blob}, not the {size} the manifest lists", path
        )
    if sha256_of_file(blob) != sha256:
        raise ArtifactTamperedError(artifact_id, f"{path} was changed: the sha256 of {blob} is not {sha256}", path)


def sha256_of_bytes(data: bytes) -> str:
    """Return the hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def _unknown_message(ref: str, artifacts: list[Artifact]) -> str:
    """Return the message for an unknown reference, with close NAME:VERSION and id matches."""
    candidates = {artifact.ref: artifact for artifact in artifacts}
    candidates.update({artifact.id[:16]: artifact for artifact in artifacts})
    close = difflib.get_close_matches(ref if ":" in ref else ref[:16], list(candidates), n=3, cutoff=0.5)
    name_matches = [artifact.ref for artifact in artifacts if ref.partition(":")[0] == artifact.name]
    suggestions = list(dict.fromkeys(name_matches[:3] + [candidates[key].ref for key in close]))
    if ":" not in ref and 0 < len(ref) < MIN_PREFIX and _HEX.fullmatch(ref.lower()):
        return f"The id prefix {ref!r} is too short: give at least {MIN_PREFIX} hex digits, or NAME:VERSION."
    if suggestions:
        return f"No artifact {ref!r}. Did you mean {' or '.join(suggestions)}?"
    return f"No artifact {ref!r}. List the artifacts with `edgetui artifact list`."
