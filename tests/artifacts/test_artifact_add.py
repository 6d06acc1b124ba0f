"""Tests of `add_artifact`: manifest fields, blobs, signature, idempotence, conflicts and rejected input."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import shutil
import sqlite3
import zipfile

import numpy as np
import onnxruntime as ort
import pytest
from artifact_models import DIGITS_MODEL, VAD_MODEL
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from device_shim import ed25519 as shim_ed25519
from device_shim.release import manifest as shim_manifest
from device_shim.release.probe import feeds_from_samples
from edgetui.artifacts.catalog import ArtifactCatalog
from edgetui.artifacts.errors import ArtifactConflictError, ArtifactInputError
from edgetui.artifacts.manifest import canonical_bytes, check_release_path
from edgetui.artifacts.package import AddOptions, add_artifact
from edgetui.audit import AuditLog
from edgetui.errors import StoreError

STAT_KEYS = {"mean", "std", "min", "max", "histogram", "shape", "dtype", "non_finite"}


def add(path, store, blobs, key, **options):
    options.setdefault("name", "vad")
    options.setdefault("version", "1.0.0")
    return add_artifact(path, AddOptions(**options), store=store, blobs=blobs, key=key)


def test_vad_manifest_fields(store, blobs, key):
    result = add(VAD_MODEL, store, blobs, key, name="orientation", version="1.2.0", max_p95_ms=50.0,
                 arch=["aarch64", "x86_64"], execution_provider="CPUExecutionProvider", min_memory_mb=256)
    manifest = ArtifactCatalog(store, blobs).manifest(result.artifact)

    assert result.added
    assert manifest["format"] == 1
    assert manifest["name"] == "orientation"
    assert manifest["version"] == "1.2.0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", manifest["created"])
    assert [entry["path"] for entry in manifest["files"]] == [VAD_MODEL.name, "samples.npz"]
    assert manifest["entrypoint"] == VAD_MODEL.name
    assert manifest["target"] == {"arch": ["aarch64", "x86_64"], "execution_provider": "CPUExecutionProvider",
                                  "min_memory_mb": 256}
    assert manifest["health"] == {"max_p95_ms": 50.0, "max_error_rate": 0.0, "warmup": 3, "runs": 10,
                                  "samples": "samples.npz"}
    assert set(manifest["reference"]["outputs"]) == {"output", "stateN"}
    assert set(manifest["reference"]["outputs"]["output"]) == STAT_KEYS
    assert sum(manifest["reference"]["outputs"]["stateN"]["histogram"]["counts"]) == 4 * 2 * 128
    assert result.artifact.id == hashlib.sha256(canonical_bytes(manifest)).hexdigest()


def test_defaults_give_null_target(store, blobs, key):
    manifest = ArtifactCatalog(store, blobs).manifest(add(DIGITS_MODEL, store, blobs, key).artifact)

    assert manifest["target"] == {"arch": None, "execution_provider": None, "min_memory_mb": None}
    assert manifest["health"]["max_p95_ms"] is None
    assert manifest["reference"]["outputs"]["label"]["dtype"] == "int64"


def test_file_hashes_match_blobs(store, blobs, key):
    artifact = add(VAD_MODEL, store, blobs, key).artifact
    catalog = ArtifactCatalog(store, blobs)

    entries = catalog.file_blobs(artifact)

    assert len(entries) == 2
    for path, blob, sha256, size in entries:
        data = blob.read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha256, path
        assert len(data) == size, path
    assert entries[0][2] == hashlib.sha256(VAD_MODEL.read_bytes()).hexdigest()


def test_signature_verifies_over_canonical_bytes(store, blobs, key):
    artifact = add(VAD_MODEL, store, blobs, key).artifact
    catalog = ArtifactCatalog(store, blobs)
    manifest = catalog.manifest(artifact)
    signature = base64.b64decode(catalog.signature(artifact))
    canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")

    Ed25519PublicKey.from_public_bytes(bytes.fromhex(key.public_key_hex)).verify(signature, canonical)
    assert blobs.path_for(artifact.id).read_bytes() == canonical
    assert artifact.signer_fingerprint == key.fingerprint
    catalog.verify(artifact)


def test_device_shim_accepts_manifest(store, blobs, key):
    artifact = add(VAD_MODEL, store, blobs, key).artifact
    catalog = ArtifactCatalog(store, blobs)
    manifest = catalog.manifest(artifact)
    signature = base64.b64decode(catalog.signature(artifact))

    shim_manifest.check_shape(manifest)
    shim_manifest.check_file_names(manifest)
    assert shim_ed25519.verify(bytes.fromhex(key.public_key_hex), shim_manifest.canonical_bytes(manifest), signature)


def test_generated_samples_run_on_device_probe(store, blobs, key):
    artifact = add(VAD_MODEL, store, blobs, key).artifact
    samples_blob = dict((path, blob) for path, blob, _, _ in ArtifactCatalog(store, blobs).file_blobs(artifact))
    session = ort.InferenceSession(str(VAD_MODEL), providers=["CPUExecutionProvider"])

    feeds = feeds_from_samples(np, samples_blob["samples.npz"])
    outputs = session.run(None, feeds[0])

    assert len(feeds) == 4
    assert feeds[0]["input"].shape == (1, 576)
    assert outputs[0].shape == (1, 1)


def test_add_twice_same_id(store, blobs, key):
    first = add(VAD_MODEL, store, blobs, key)
    blob_names = blobs.blobs()
    second = add(VAD_MODEL, store, blobs, key)

    assert second.artifact.id == first.artifact.id
    assert not second.added
    assert blobs.blobs() == blob_names
    assert len(store.artifacts()) == 1
    assert [entry.result for entry in AuditLog(store).entries()] == ["unchanged", "added"]


def test_same_version_other_content_names_both(store, blobs, key):
    first = add(VAD_MODEL, store, blobs, key)
    blob_names = blobs.blobs()

    with pytest.raises(ArtifactConflictError) as caught:
        add(DIGITS_MODEL, store, blobs, key)

    assert first.artifact.id in caught.value.message
    assert caught.value.new_id in caught.value.message
    assert caught.value.new_id != first.artifact.id
    assert blobs.blobs() == blob_names
    assert len(store.artifacts()) == 1
    assert AuditLog(store).entries()[0].result == "failed"


def test_same_version_other_budget_conflicts(store, blobs, key):
    add(VAD_MODEL, store, blobs, key)

    with pytest.raises(ArtifactConflictError):
        add(VAD_MODEL, store, blobs, key, max_p95_ms=10.0)


def test_failed_record_leaves_nothing(store, blobs, key, monkeypatch):
    def fail(artifact):
        raise StoreError("disk full")

    monkeypatch.setattr(store, "record_artifact", fail)

    with pytest.raises(StoreError):
        add(VAD_MODEL, store, blobs, key)

    assert blobs.blobs() == []
    assert store.find_artifact("vad", "1.0.0") is None
    assert list((blobs.root / "tmp").iterdir()) == []
    assert AuditLog(store).entries()[0].result == "failed"
    assert AuditLog(store).verify().ok


def test_generated_samples_reproducible(store, blobs, key):
    first = add(VAD_MODEL, store, blobs, key, name="a")
    second = add(VAD_MODEL, store, blobs, key, name="b")

    assert first.artifact.files == second.artifact.files


def test_given_samples_used(store, blobs, key, tmp_path):
    samples = tmp_path / "inputs.npz"
    np.savez(samples, X=np.ones((3, 1, 64), dtype=np.float32))

    artifact = add(DIGITS_MODEL, store, blobs, key, name="digits", samples=samples).artifact
    manifest = ArtifactCatalog(store, blobs).manifest(artifact)

    assert artifact.files[1].sha256 == hashlib.sha256(samples.read_bytes()).hexdigest()
    assert manifest["reference"]["samples"] == 3
    assert manifest["reference"]["inputs"] == "given: inputs.npz"


def test_samples_with_wrong_inputs_rejected(store, blobs, key, tmp_path):
    samples = tmp_path / "inputs.npz"
    np.savez(samples, wrong=np.ones((3, 1, 64), dtype=np.float32))

    with pytest.raises(ArtifactInputError) as caught:
        add(DIGITS_MODEL, store, blobs, key, samples=samples)

    assert "inputs.npz" in caught.value.message
    assert "'X'" in caught.value.message


def test_folder_with_one_model(store, blobs, key, tmp_path):
    folder = tmp_path / "release"
    (folder / "labels").mkdir(parents=True)
    shutil.copy(DIGITS_MODEL, folder / "model.onnx")
    (folder / "labels" / "names.txt").write_text("zero\none\n")
    (folder / "link.txt").symlink_to(folder / "labels" / "names.txt")

    artifact = add(folder, store, blobs, key, name="digits").artifact

    assert artifact.entrypoint == "model.onnx"
    assert [entry.path for entry in artifact.files] == ["link.txt", "model.onnx", "labels/names.txt", "samples.npz"]


def test_folder_with_two_models_needs_entrypoint(store, blobs, key, tmp_path):
    folder = tmp_path / "release"
    folder.mkdir()
    shutil.copy(DIGITS_MODEL, folder / "a.onnx")
    shutil.copy(DIGITS_MODEL, folder / "b.onnx")

    with pytest.raises(ArtifactInputError) as caught:
        add(folder, store, blobs, key)
    artifact = add(folder, store, blobs, key, entrypoint="b.onnx").artifact

    assert "--entrypoint" in caught.value.message
    assert artifact.entrypoint == "b.onnx"


def test_folder_symlink_escaping_rejected(store, blobs, key, tmp_path):
    folder = tmp_path / "release"
    folder.mkdir()
    shutil.copy(DIGITS_MODEL, folder / "model.onnx")
    (tmp_path / "outside.txt").write_text("outside")
    (folder / "escape.txt").symlink_to(tmp_path / "outside.txt")

    with pytest.raises(ArtifactInputError) as caught:
        add(folder, store, blobs, key)

    assert "escape.txt" in caught.value.message
    assert "outside the folder" in caught.value.message
    assert blobs.blobs() == []


def test_folder_backslash_name_rejected(store, blobs, key, tmp_path):
    folder = tmp_path / "release"
    folder.mkdir()
    shutil.copy(DIGITS_MODEL, folder / "model.onnx")
    (folder / "..\\evil.txt").write_text("x")

    with pytest.raises(ArtifactInputError) as caught:
        add(folder, store, blobs, key)

    assert "backslash" in caught.value.message
    assert store.artifacts() == []


@pytest.mark.parametrize("name", ["../evil", "a/../../b", "/etc/passwd", "a\\b", "a\x00b", "a\nb", "",
                                  "a//b", "./a", "manifest.json", "x" * 256])
def test_unsafe_release_paths_rejected(name):
    with pytest.raises(ArtifactInputError):
        check_release_path(name)


@pytest.mark.parametrize("name", ["model.onnx", "weights/model.onnx.data", "labels v2.txt"])
def test_safe_release_paths_accepted(name):
    assert check_release_path(name) == name


def test_non_onnx_file_named(store, blobs, key, tmp_path):
    fake = tmp_path / "notes.onnx"
    fake.write_text("this is not a model\n")

    with pytest.raises(ArtifactInputError) as caught:
        add(fake, store, blobs, key)

    assert str(fake) in caught.value.message
    assert blobs.blobs() == []


def test_other_suffix_named(store, blobs, key, tmp_path):
    text = tmp_path / "readme.txt"
    text.write_text("hello")

    with pytest.raises(ArtifactInputError) as caught:
        add(text, store, blobs, key)

    assert str(text) in caught.value.message


@pytest.mark.parametrize(("name", "version"), [("bad name", "1.0"), ("a+b", "1.0"), ("-x", "1.0"),
                                               ("ok", "1 0"), ("ok", "../1"), ("ok", "")])
def test_invalid_name_or_version_rejected(store, blobs, key, name, version):
    with pytest.raises(ArtifactInputError):
        add(DIGITS_MODEL, store, blobs, key, name=name, version=version)


def test_version_with_plus_accepted(store, blobs, key):
    assert add(DIGITS_MODEL, store, blobs, key, version="1.0.0+build.7").artifact.version == "1.0.0+build.7"


def test_write_samples_is_plain_npz(tmp_path):
    from edgetui.artifacts.samples import write_samples

    path = tmp_path / "s.npz"
    write_samples({"x": np.arange(6, dtype=np.int64).reshape(2, 3)}, path)

    with np.load(path, allow_pickle=False) as archive:
        assert archive["x"].tolist() == [[0, 1, 2], [3, 4, 5]]
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        assert archive.namelist() == ["x.npy"]


def test_database_row_matches_manifest(store, blobs, key, tmp_path):
    artifact = add(VAD_MODEL, store, blobs, key, max_p95_ms=50.0).artifact
    connection = sqlite3.connect(tmp_path / "fleet.db")
    try:
        row = connection.execute("SELECT name, version, size_bytes, signer_fingerprint FROM artifacts "
                                 "WHERE id = ?", [artifact.id]).fetchone()
        files = connection.execute("SELECT path FROM artifact_files WHERE artifact_id = ? ORDER BY position",
                                   [artifact.id]).fetchall()
    finally:
        connection.close()

    assert row == ("vad", "1.0.0", artifact.size_bytes, key.fingerprint)
    assert [path for (path,) in files] == [VAD_MODEL.name, "samples.npz"]


def test_ort_format_model_accepted(store, blobs, key, tmp_path):
    ort_path = tmp_path / "digits.ort"
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(ort_path)
    options.add_session_config_entry("session.save_model_format", "ORT")
    ort.InferenceSession(str(DIGITS_MODEL), options, providers=["CPUExecutionProvider"])

    artifact = add(ort_path, store, blobs, key, name="digits-ort").artifact

    assert artifact.entrypoint == "digits.ort"
    assert [entry.path for entry in artifact.files] == ["digits.ort", "samples.npz"]
    ArtifactCatalog(store, blobs).verify(artifact)
