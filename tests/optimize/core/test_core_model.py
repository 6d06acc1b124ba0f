"""inspect_model on the real sample models and on files that are not usable models."""

from __future__ import annotations

import os
import shutil

import onnx
import pytest

from edgetui.errors import InputError
from edgetui.optimize.model import ModelError, inspect_model, sha256_of

from .conftest import DATA, DETECTOR, ORIENTATION, SAMPLE_MODELS, VAD_FLAT, VAD_IF


def test_orientation_is_classifier(models):
    info = models[ORIENTATION]

    assert info.task == "classifier"
    assert info.opset == 15
    assert [(s.name, s.dtype, s.shape[1:]) for s in info.inputs] == [("x", "float32", [3, 224, 224])]
    assert info.outputs[0].shape[1] == 4
    assert info.control_flow_ops == []
    assert info.size_bytes == (SAMPLE_MODELS / f"{ORIENTATION}.onnx").stat().st_size


def test_detector_is_detection_map(models):
    info = models[DETECTOR]

    assert info.task == "detection-map"
    assert info.opset == 11


def test_vad_if_model_facts(models):
    info = models[VAD_IF]

    assert info.task == "generic"
    assert info.control_flow_ops == ["If"]
    assert info.weights_in_subgraphs is True
    assert [s.name for s in info.inputs] == ["input", "state", "sr"]
    assert info.inputs[2].dtype == "int64"


def test_vad_flat_counts_constant_weights(models):
    info = models[VAD_FLAT]

    assert info.constant_weight_nodes >= 10
    assert info.weights_in_subgraphs is False
    assert info.inputs[0].shape == [1, 576]


def test_digits_mlp_classifier_with_label_output():
    info = inspect_model(SAMPLE_MODELS / "digits_mlp.onnx")

    assert info.task == "classifier"
    assert info.opsets["ai.onnx.ml"] == 1


def test_sha256_matches_sums_file(models):
    name = f"{ORIENTATION}.onnx"
    lines = (SAMPLE_MODELS / "SHA256SUMS").read_text().splitlines()
    expected = next(line.split()[0] for line in lines if line.endswith(name))

    assert models[ORIENTATION].sha256 == expected
    assert sha256_of(SAMPLE_MODELS / name) == expected


def test_missing_file(tmp_path):
    path = tmp_path / "absent.onnx"
    with pytest.raises(ModelError) as raised:
        inspect_model(path)

    assert str(path) in str(raised.value)
    assert "not found" in str(raised.value)
    assert isinstance(raised.value, InputError)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(os.urandom(4096), id="random-bytes"),
        pytest.param(b"name,value\nx,1\n", id="text"),
        pytest.param((DATA / "page_00.png").read_bytes(), id="png"),
    ],
)
def test_not_an_onnx_file(tmp_path, content):
    path = tmp_path / "model.onnx"
    path.write_bytes(content)
    with pytest.raises(ModelError) as raised:
        inspect_model(path)

    assert str(path) in str(raised.value)
    assert "Cannot read" in str(raised.value)


def test_png_named_as_image(tmp_path):
    path = tmp_path / "model.onnx"
    shutil.copyfile(DATA / "page_00.png", path)
    with pytest.raises(ModelError, match="it is an image"):
        inspect_model(path)


def test_truncated_file(tmp_path):
    data = (SAMPLE_MODELS / f"{ORIENTATION}.onnx").read_bytes()
    path = tmp_path / "truncated.onnx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError) as raised:
        inspect_model(path)

    assert str(path) in str(raised.value)
    assert "truncated" in str(raised.value)


def test_missing_external_data(tmp_path):
    proto = onnx.load(str(SAMPLE_MODELS / f"{ORIENTATION}.onnx"))
    path = tmp_path / "external.onnx"
    onnx.save(proto, str(path), save_as_external_data=True, location="external.weights", size_threshold=1024)
    (tmp_path / "external.weights").unlink()
    with pytest.raises(ModelError) as raised:
        inspect_model(path)

    assert str(path) in str(raised.value)
    assert "external.weights" in str(raised.value)
    assert "Copy the data files" in str(raised.value)


def test_external_data_present_loads(tmp_path):
    proto = onnx.load(str(SAMPLE_MODELS / f"{VAD_FLAT}.onnx"))
    path = tmp_path / "external.onnx"
    onnx.save(proto, str(path), save_as_external_data=True, location="external.weights", size_threshold=0)

    assert inspect_model(path).task == "generic"


def test_opset_too_new(tmp_path):
    proto = onnx.load(str(SAMPLE_MODELS / f"{ORIENTATION}.onnx"))
    proto.opset_import[0].version = 40
    path = tmp_path / "future.onnx"
    onnx.save(proto, str(path))
    with pytest.raises(ModelError) as raised:
        inspect_model(path)

    assert str(path) in str(raised.value)
    assert "opset" in str(raised.value)
    assert "newest it supports" in str(raised.value)


def test_onnxruntime_refusal_passed_through(tmp_path):
    proto = onnx.load(str(SAMPLE_MODELS / f"{VAD_FLAT}.onnx"))
    # A Conv with an unknown attribute is a valid protobuf that onnxruntime rejects.
    conv = next(node for node in proto.graph.node if node.op_type == "Conv")
    conv.attribute.append(onnx.helper.make_attribute("bogus_setting", 1))
    path = tmp_path / "invalid.onnx"
    onnx.save(proto, str(path))
    with pytest.raises(ModelError) as raised:
        inspect_model(path)

    assert str(path) in str(raised.value)
    assert "bogus_setting" in str(raised.value)


def test_folder_is_not_a_model(tmp_path):
    with pytest.raises(ModelError, match="not a file"):
        inspect_model(tmp_path)
