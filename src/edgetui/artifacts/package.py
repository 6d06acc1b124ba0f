"""Package a model file or folder into a signed artifact: `edgetui artifact add`.

The steps run in an order that leaves nothing half-written: every check comes
first, then the blobs are added, then the database row and its audit entry are
written in one transaction. If a step fails, the blobs this call added are
removed again, and a "failed" audit entry records the attempt.
"""

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import onnxruntime as ort

from edgetui.artifacts.artifact import Artifact
from edgetui.artifacts.catalog import ArtifactCatalog
from edgetui.artifacts.errors import ArtifactConflictError, ArtifactInputError
from edgetui.artifacts.manifest import (
    MAX_RUNS,
    MAX_WARMUP,
    SAMPLES_NAME,
    HealthBudget,
    ManifestDraft,
    ReleaseFile,
    Target,
    canonical_bytes,
    check_name,
    check_version,
    manifest_id,
    same_content,
)
from edgetui.artifacts.model_check import open_model
from edgetui.artifacts.samples import generate_samples, read_samples, reference_statistics, write_samples
from edgetui.artifacts.signing import SigningKey
from edgetui.artifacts.sources import SourceFile, SourceSet, collect_sources
from edgetui.artifacts.store import ArtifactStore
from edgetui.audit import AuditLog
from edgetui.errors import EdgetuiError

if TYPE_CHECKING:
    from edgetui.store import FleetStore

log = logging.getLogger("edgetui.artifacts")

AUDIT_ACTION = "artifact.add"
# Architecture names as `uname -m` prints them, such as aarch64 or x86_64.
_ARCH_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
_PROVIDER_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9]{0,63}")


@dataclass(frozen=True)
class AddOptions:
    """Options of `artifact add` besides the files: name, version, target and health budget."""

    name: str
    version: str
    entrypoint: str | None = None
    samples: Path | None = None
    arch: list[str] = field(default_factory=list)
    execution_provider: str | None = None
    min_memory_mb: int | None = None
    max_p95_ms: float | None = None
    max_error_rate: float = 0.0
    warmup: int = 3
    runs: int = 10


@dataclass(frozen=True)
class AddResult:
    """The recorded artifact; ``added`` is False when the same content was already recorded."""

    artifact: Artifact
    added: bool


def add_artifact(path: Path, options: AddOptions, *, store: "FleetStore", blobs: ArtifactStore,
                 key: SigningKey) -> AddResult:
    """Validate, sign and record the model at ``path``; record the attempt in the audit log.

    Raises ArtifactInputError for invalid input and ArtifactConflictError when
    NAME:VERSION exists with other content.
    """
    log.info("adding artifact %s:%s from %s", options.name, options.version, path)
    try:
        result = _add(Path(path), options, store, blobs, key)
    except (EdgetuiError, OSError) as error:
        _audit_failure(store, path, options, error)
        raise
    if not result.added:
        AuditLog(store).append(AUDIT_ACTION, result="unchanged", artifact_id=result.artifact.id,
                               detail=_audit_detail(path, result.artifact))
        log.info("artifact %s is already recorded as %s", result.artifact.ref, result.artifact.id)
    return result


def _add(path: Path, options: AddOptions, store: "FleetStore", blobs: ArtifactStore,
         key: SigningKey) -> AddResult:
    """Run the checks, then store blobs and the record; remove new blobs when anything fails."""
    _check_options(options)
    sources = collect_sources(path, options.entrypoint)
    session = open_model(sources.entrypoint_source)
    existing = store.find_artifact(options.name, options.version)
    before = set(blobs.blobs())
    new_blobs: list[str] = []
    try:
        with blobs.temp_dir() as work:
            files, reference = _release_files(sources, options, session, work)
            stored = [_store_blob(blobs, entry, before, new_blobs) for entry in files]
        draft = _draft(options, stored, sources.entrypoint, reference)
        if existing is not None:
            draft.created = existing.created
        manifest = draft.as_json()
        if existing is not None:
            return _existing_result(existing, manifest, ArtifactCatalog(store, blobs))
        artifact = _signed_artifact(manifest, key)
        _store_manifest(blobs, manifest, before, new_blobs)
        with store.transaction():
            if not store.record_artifact(artifact):
                # Another process recorded the same artifact since the lookup above.
                return AddResult(artifact, added=False)
            AuditLog(store).append(AUDIT_ACTION, result="added", artifact_id=artifact.id,
                                   detail=_audit_detail(path, artifact))
    except BaseException:
        _remove_blobs(blobs, new_blobs)
        raise
    log.info("added artifact %s as %s (%d files, %d bytes)",
             artifact.ref, artifact.id, len(artifact.files), artifact.size_bytes)
    return AddResult(artifact, added=True)


def _check_options(options: AddOptions) -> None:
    """Raise ArtifactInputError for an invalid name, version, target or budget."""
    check_name(options.name)
    check_version(options.version)
    for arch in options.arch:
        if not _ARCH_PATTERN.fullmatch(arch):
            raise ArtifactInputError(f"Invalid --arch {arch!r}: give a name as `uname -m` prints it, such as aarch64.")
    if options.execution_provider is not None and not _PROVIDER_PATTERN.fullmatch(options.execution_provider):
        raise ArtifactInputError(
            f"Invalid --provider {options.execution_provider!r}: give an onnxruntime execution provider "
            "name such as CPUExecutionProvider."
        )
    checks = [
        (options.min_memory_mb is None or options.min_memory_mb >= 0, "--min-memory-mb must be 0 or more"),
        (options.max_p95_ms is None or options.max_p95_ms > 0, "--budget-p95-ms must be more than 0"),
        (0.0 <= options.max_error_rate <= 1.0, "--max-error-rate must be from 0 to 1"),
        (0 <= options.warmup <= MAX_WARMUP, f"--warmup must be from 0 to {MAX_WARMUP}"),
        (1 <= options.runs <= MAX_RUNS, f"--runs must be from 1 to {MAX_RUNS}"),
    ]
    for valid, message in checks:
        if not valid:
            raise ArtifactInputError(message + ".")


def _release_files(sources: SourceSet, options: AddOptions, session: ort.InferenceSession,
                   work: Path) -> tuple[list[SourceFile], dict[str, Any]]:
    """Return the files to store, with the samples file added, and the reference statistics."""
    files = list(sources.files)
    in_release = next((entry.source for entry in files if entry.release_path == SAMPLES_NAME), None)
    samples_path = options.samples or in_release
    if samples_path is not None:
        arrays = read_samples(samples_path, session)
        label = f"given: {Path(samples_path).name}"
        if in_release is None:
            files.append(SourceFile(SAMPLES_NAME, Path(samples_path)))
        elif options.samples is not None and Path(options.samples).resolve() != in_release.resolve():
            raise ArtifactInputError(
                f"The folder already has a {SAMPLES_NAME}, so --samples {options.samples} cannot be added "
                f"under that name. Remove one of them."
            )
    else:
        arrays = generate_samples(session)
        label = "generated"
        generated = work / SAMPLES_NAME
        write_samples(arrays, generated)
        files.append(SourceFile(SAMPLES_NAME, generated))
    return files, reference_statistics(session, arrays, label)


def _store_blob(blobs: ArtifactStore, entry: SourceFile, before: set[str], new_blobs: list[str]) -> ReleaseFile:
    """Copy one file into the store; note its sha256 in ``new_blobs`` when the blob was not in ``before``."""
    sha256 = blobs.add_file(entry.source)
    if sha256 not in before and sha256 not in new_blobs:
        new_blobs.append(sha256)
    # The size of the stored copy, so it matches the hash even if the source changed meanwhile.
    return ReleaseFile(entry.release_path, sha256, blobs.path_for(sha256).stat().st_size)


def _store_manifest(blobs: ArtifactStore, manifest: dict[str, Any], before: set[str],
                    new_blobs: list[str]) -> None:
    """Store the canonical manifest as the blob named by the artifact id."""
    with blobs.temp_dir() as work:
        path = work / "manifest.json"
        path.write_bytes(canonical_bytes(manifest))
        _store_blob(blobs, SourceFile("manifest.json", path), before, new_blobs)


def _remove_blobs(blobs: ArtifactStore, new_blobs: list[str]) -> None:
    """Remove the blobs a failed add created.

    NOTE: another process that adds the same bytes at the same moment could
    lose its blob here; `ArtifactCatalog.verify` then reports it missing.
    """
    for sha256 in new_blobs:
        blobs.path_for(sha256).unlink(missing_ok=True)
    if new_blobs:
        log.info("removed %d blobs of the failed add", len(new_blobs))


def _draft(options: AddOptions, files: list[ReleaseFile], entrypoint: str,
           reference: dict[str, Any]) -> ManifestDraft:
    """Assemble the manifest fields from the options and the stored files."""
    return ManifestDraft(
        name=options.name,
        version=options.version,
        files=files,
        entrypoint=entrypoint,
        target=Target(options.arch or None, options.execution_provider, options.min_memory_mb),
        health=HealthBudget(options.max_p95_ms, options.max_error_rate, options.warmup, options.runs,
                            SAMPLES_NAME),
        reference=reference,
    )


def _existing_result(existing: Artifact, manifest: dict[str, Any], catalog: ArtifactCatalog) -> AddResult:
    """Return the recorded artifact when the new manifest has the same content, else raise a conflict."""
    if same_content(catalog.manifest(existing), manifest):
        return AddResult(existing, added=False)
    raise ArtifactConflictError(existing.name, existing.version, existing.id, manifest_id(manifest))


def _signed_artifact(manifest: dict[str, Any], key: SigningKey) -> Artifact:
    """Sign the manifest and return the artifact record for it."""
    files = [ReleaseFile(entry["path"], entry["sha256"], entry["size"]) for entry in manifest["files"]]
    return Artifact(
        id=manifest_id(manifest),
        name=manifest["name"],
        version=manifest["version"],
        created=manifest["created"],
        files=files,
        size_bytes=sum(entry.size for entry in files),
        entrypoint=manifest["entrypoint"],
        target=manifest["target"],
        health=manifest["health"],
        signature=key.sign_base64(canonical_bytes(manifest)),
        signer_fingerprint=key.fingerprint,
        signer_key_name=key.key_name,
        signer_public_key=key.public_key_hex,
    )


def _audit_detail(path: Path, artifact: Artifact) -> dict[str, Any]:
    return {
        "name": artifact.name,
        "version": artifact.version,
        "path": str(path),
        "files": len(artifact.files),
        "size_bytes": artifact.size_bytes,
        "signer": artifact.signer_fingerprint,
    }


def _audit_failure(store: "FleetStore", path: Path, options: AddOptions, error: Exception) -> None:
    """Record a failed add in the audit log; a failure to record is logged, not raised."""
    detail = {"name": options.name, "version": options.version, "path": str(path), "error": str(error)}
    conflict_id = error.existing_id if isinstance(error, ArtifactConflictError) else None
    try:
        AuditLog(store).append(AUDIT_ACTION, result="failed", artifact_id=conflict_id, detail=detail)
    except EdgetuiError as audit_error:
        log.error("could not record the failed add of %s in the audit log: %s", path, audit_error)
    log.error("adding artifact %s:%s from %s failed: %s", options.name, options.version, path, error)
