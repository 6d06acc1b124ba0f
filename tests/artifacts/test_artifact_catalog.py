"""Tests of ArtifactCatalog: resolving references and detecting tampered artifacts."""

from __future__ import annotations

import sqlite3

import pytest
from artifact_models import DIGITS_MODEL, VAD_MODEL

from edgetui.artifacts.catalog import ArtifactCatalog
from edgetui.artifacts.errors import ArtifactInputError, ArtifactTamperedError
from edgetui.artifacts.package import AddOptions, add_artifact


@pytest.fixture
def catalog(store, blobs, key):
    """Return a catalog holding vad:1.0.0 and digits:2.0."""
    for path, name, version in ((VAD_MODEL, "vad", "1.0.0"), (DIGITS_MODEL, "digits", "2.0")):
        add_artifact(path, AddOptions(name=name, version=version), store=store, blobs=blobs, key=key)
    return ArtifactCatalog(store, blobs)


def flip_byte(path, offset: int = 100) -> None:
    """Change one byte of a read-only blob, as a failing disk or a careless edit would."""
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def test_resolve_by_name_version(catalog):
    assert catalog.resolve("vad:1.0.0").name == "vad"


def test_resolve_by_id_and_prefix(catalog):
    artifact = catalog.resolve("digits:2.0")

    assert catalog.resolve(artifact.id) == artifact
    assert catalog.resolve(artifact.id[:8]) == artifact
    assert catalog.resolve(artifact.id[:12].upper()) == artifact


def test_resolve_unknown_lists_close_match(catalog):
    with pytest.raises(ArtifactInputError) as caught:
        catalog.resolve("vad:1.0.1")

    assert "vad:1.0.0" in caught.value.message


def test_resolve_short_prefix_rejected(catalog):
    artifact = catalog.resolve("vad:1.0.0")

    with pytest.raises(ArtifactInputError) as caught:
        catalog.resolve(artifact.id[:7])

    assert "at least 8" in caught.value.message


def test_resolve_unknown_id_rejected(catalog):
    with pytest.raises(ArtifactInputError):
        catalog.resolve("f" * 64)


def test_verify_intact(catalog):
    catalog.verify(catalog.resolve("vad:1.0.0"))
    catalog.verify(catalog.resolve("digits:2.0"))


def test_tampered_model_blob_named(catalog):
    artifact = catalog.resolve("vad:1.0.0")
    path, blob, _, _ = catalog.file_blobs(artifact)[0]
    flip_byte(blob)

    with pytest.raises(ArtifactTamperedError) as caught:
        catalog.verify(artifact)

    assert caught.value.path == path
    assert path in caught.value.message


def test_missing_samples_blob_named(catalog):
    artifact = catalog.resolve("digits:2.0")
    blob = catalog.file_blobs(artifact)[1][1]
    blob.unlink()

    with pytest.raises(ArtifactTamperedError) as caught:
        catalog.verify(artifact)

    assert caught.value.path == "samples.npz"


def test_tampered_manifest_detected(catalog):
    artifact = catalog.resolve("vad:1.0.0")
    flip_byte(catalog.blobs.path_for(artifact.id), offset=10)

    with pytest.raises(ArtifactTamperedError) as caught:
        catalog.verify(artifact)

    assert caught.value.path == "manifest.json"


def test_changed_signature_detected(catalog, store, tmp_path):
    artifact = catalog.resolve("vad:1.0.0")
    other = catalog.resolve("digits:2.0")
    connection = sqlite3.connect(tmp_path / "fleet.db")
    with connection:
        connection.execute("UPDATE artifacts SET signature = ? WHERE id = ?", [other.signature, artifact.id])
    connection.close()

    with pytest.raises(ArtifactTamperedError) as caught:
        catalog.verify(catalog.resolve("vad:1.0.0"))

    assert "signature" in caught.value.message


def test_changed_file_list_detected(catalog, tmp_path):
    artifact = catalog.resolve("digits:2.0")
    connection = sqlite3.connect(tmp_path / "fleet.db")
    with connection:
        connection.execute("UPDATE artifact_files SET size = size + 1 WHERE artifact_id = ? AND position = 0",
                           [artifact.id])
    connection.close()

    with pytest.raises(ArtifactTamperedError) as caught:
        catalog.verify(catalog.resolve("digits:2.0"))

    assert "file list" in caught.value.message
