"""ArtifactStore: content addressing, atomic idempotent adds, named paths and temp cleanup."""

import hashlib
import os
import subprocess
import sys

import pytest

from edgetui.artifacts import ArtifactStore, default_artifact_root
from edgetui.errors import InputError


def listing(root):
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


def test_add_file_stores_by_sha256(tmp_path):
    source = tmp_path / "model.onnx"
    source.write_bytes(b"onnx bytes")
    store = ArtifactStore(tmp_path / "store")

    sha256 = store.add_file(source)

    assert sha256 == hashlib.sha256(b"onnx bytes").hexdigest()
    assert store.has(sha256)
    assert store.path_for(sha256) == tmp_path / "store" / "blobs" / "sha256" / sha256
    assert store.path_for(sha256).read_bytes() == b"onnx bytes"
    assert store.blobs() == [sha256]


def test_add_file_twice_changes_nothing(tmp_path):
    source = tmp_path / "model.onnx"
    source.write_bytes(b"same")
    store = ArtifactStore(tmp_path / "store")
    first = store.add_file(source)
    before = listing(store.root)

    second = store.add_file(source)

    assert second == first
    assert listing(store.root) == before


def test_add_missing_file_leaves_no_partial_blob(tmp_path):
    store = ArtifactStore(tmp_path / "store")

    with pytest.raises(FileNotFoundError):
        store.add_file(tmp_path / "missing.onnx")

    assert store.blobs() == []
    assert list(store.blob_dir.iterdir()) == []


def test_path_for_rejects_non_hex(tmp_path):
    store = ArtifactStore(tmp_path / "store")

    with pytest.raises(ValueError, match="64 lower-case hex"):
        store.path_for("../../etc/passwd")


def test_named_path_links_blob_with_extension(tmp_path):
    source = tmp_path / "m.ort"
    source.write_bytes(b"ORT")
    store = ArtifactStore(tmp_path / "store")
    sha256 = store.add_file(source)

    named = store.named_path(sha256, "m.ort-format.ort")

    assert named.name == "m.ort-format.ort"
    assert named.read_bytes() == b"ORT"
    assert store.named_path(sha256, "m.ort-format.ort") == named
    with pytest.raises(ValueError):
        store.named_path(sha256, "../escape.ort")


def test_named_path_of_unknown_blob_is_input_error(tmp_path):
    store = ArtifactStore(tmp_path / "store")

    with pytest.raises(InputError, match="not in the store"):
        store.named_path("0" * 64, "x.onnx")


def test_temp_dir_removed_after_block(tmp_path):
    store = ArtifactStore(tmp_path / "store")

    with store.temp_dir() as work:
        (work / "partial.onnx").write_bytes(b"half")
        assert work.parent == store.temp_root

    assert not work.exists()
    assert store.blobs() == []


def test_clean_temp_removes_dead_process_folders(tmp_path):
    store = ArtifactStore(tmp_path / "store")
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    dead_pid = int(finished.stdout)
    leftover = store.temp_root / f"{dead_pid}-crashed"
    leftover.mkdir(parents=True)
    (leftover / "variant.onnx").write_bytes(b"half")
    store.blob_dir.mkdir(parents=True)
    incoming = store.blob_dir / f".incoming-{dead_pid}-x"
    incoming.write_bytes(b"half")
    alive = store.temp_root / f"{os.getpid()}-running"
    alive.mkdir()

    removed = store.clean_temp()

    assert leftover in removed
    assert incoming in removed
    assert not leftover.exists()
    assert not incoming.exists()
    assert alive.exists()


def test_default_root_follows_xdg_data_home(tmp_path):
    assert default_artifact_root() == tmp_path / "data" / "edgetui" / "artifacts"
