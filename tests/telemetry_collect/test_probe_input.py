"""Probe input files: reading .npz, .npy and .json, and matching them to the model's input names."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgetui.errors import InputError
from edgetui.telemetry.probe import ProbeResult, format_shape, load_input, request_body

MODEL = {"inputs": [{"name": "input", "shape": [1, 4], "type": "tensor(float)"},
                    {"name": "state", "shape": [2], "type": "tensor(float)"}]}
SINGLE = {"inputs": [{"name": "pixels", "shape": [1, 3], "type": "tensor(float)"}]}
# An image model with an open batch size, as /v1/model describes it (null for a symbolic size).
IMAGE = {"inputs": [{"name": "image", "shape": [None, 3, 224, 224], "type": "tensor(float)"}]}


def test_npz_maps_arrays_by_name(tmp_path):
    path = tmp_path / "in.npz"
    np.savez(path, input=np.ones((1, 4), dtype=np.float32), state=np.zeros(2, dtype=np.float32))

    body = request_body(load_input(path), MODEL)

    assert body["inputs"]["input"] == {"data": [[1.0, 1.0, 1.0, 1.0]], "dtype": "float32", "shape": [1, 4]}
    assert body["inputs"]["state"]["data"] == [0.0, 0.0]


def test_npz_missing_name_lists_wanted(tmp_path):
    path = tmp_path / "in.npz"
    np.savez(path, input=np.ones((1, 4), dtype=np.float32), extra=np.zeros(1))

    with pytest.raises(InputError) as caught:
        request_body(load_input(path), MODEL)

    assert "missing 'state'" in caught.value.message
    assert "unknown 'extra'" in caught.value.message
    assert "The model takes 'input', 'state'" in caught.value.message


def test_npy_feeds_only_input(tmp_path):
    path = tmp_path / "in.npy"
    np.save(path, np.arange(3, dtype=np.float32).reshape(1, 3))

    body = request_body(load_input(path), SINGLE)

    assert body["inputs"]["pixels"]["data"] == [[0.0, 1.0, 2.0]]


def test_npy_rejected_for_two_inputs(tmp_path):
    path = tmp_path / "in.npy"
    np.save(path, np.zeros((1, 4), dtype=np.float32))

    with pytest.raises(InputError) as caught:
        request_body(load_input(path), MODEL)

    assert "'input', 'state'" in caught.value.message
    assert ".npz" in caught.value.message


def test_npy_float64_says_how_to_convert(tmp_path):
    path = tmp_path / "f64.npy"
    np.save(path, np.zeros((1, 3), dtype=np.float64))

    with pytest.raises(InputError) as caught:
        request_body(load_input(path), SINGLE)

    message = caught.value.message
    assert f"Input 'pixels' in {path} is float64, but the model expects float32." in message
    assert f'numpy.save("{path}", array.astype("float32"))' in message
    assert "leave dtype out" not in message


def test_npz_int_array_says_how_to_convert(tmp_path):
    path = tmp_path / "in.npz"
    np.savez(path, input=np.ones((1, 4), dtype=np.int64), state=np.zeros(2, dtype=np.float32))

    with pytest.raises(InputError) as caught:
        request_body(load_input(path), MODEL)

    assert "Input 'input'" in caught.value.message
    assert "is int64, but the model expects float32" in caught.value.message
    assert f'numpy.savez("{path}", input=array.astype("float32"), ...)' in caught.value.message


def test_npy_wrong_shape_reads_as_sizes(tmp_path):
    path = tmp_path / "small.npy"
    np.save(path, np.zeros((1, 3, 200, 200), dtype=np.float32))

    with pytest.raises(InputError) as caught:
        request_body(load_input(path), IMAGE)

    message = caught.value.message
    assert "has shape 1 x 3 x 200 x 200, but the model expects N x 3 x 224 x 224 (N: any size)" in message
    assert "[" not in message


def test_npy_any_batch_size_fits(tmp_path):
    path = tmp_path / "batch.npy"
    np.save(path, np.zeros((4, 3, 224, 224), dtype=np.float32))

    body = request_body(load_input(path), IMAGE)

    assert body["inputs"]["image"]["shape"] == [4, 3, 224, 224]


@pytest.mark.parametrize(("value", "expected"), [
    ({"data": [[1, 2, 3]], "dtype": "float64"}, 'has "dtype": "float64", but the model expects float32'),
    ({"data": [1, 2, 3, 4], "shape": [1, 4]}, 'has "shape" 1 x 4, but the model expects 1 x 3.'),
])
def test_json_field_mismatch_is_rejected(tmp_path, value, expected):
    path = tmp_path / "in.json"
    path.write_text(json.dumps({"inputs": {"pixels": value}}))

    with pytest.raises(InputError) as caught:
        request_body(load_input(path), SINGLE)

    assert expected in caught.value.message


@pytest.mark.parametrize(("shape", "expected"), [
    ([None, 3, 224, 224], "N x 3 x 224 x 224 (N: any size)"),
    ([1, 1000], "1 x 1000"),
    ([], "a scalar (no dimensions)"),
])
def test_format_shape(shape, expected):
    assert format_shape(shape) == expected


def test_json_body_passed_through(tmp_path):
    path = tmp_path / "in.json"
    body = {"inputs": {"pixels": {"data": [1, 2, 3], "shape": [1, 3]}}}
    path.write_text(json.dumps(body))

    assert request_body(load_input(path), SINGLE) == body


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("missing.npz", None, "not found"),
    ("in.txt", b"1 2 3", "Unsupported probe input"),
    ("bad.npy", b"not numpy", "Cannot read probe input"),
    ("bad.json", b"{not json", "Cannot read probe input"),
    ("shape.json", b'{"data": [1]}', '{"inputs"'),
    ("noinputs.json", b'{"inputs": {"x": [1, 2]}}', "\"data\" list"),
])
def test_bad_input_files_raise(tmp_path, name, content, expected):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)

    with pytest.raises(InputError) as caught:
        load_input(path)

    assert expected in caught.value.message
    assert name in caught.value.message


def test_top_k_for_classifier_output():
    result = ProbeResult(device="d", release="r", latency_ms=1.0, server_latency_ms=0.5,
                         outputs={"logits": np.array([[0.1, 0.7, 0.05, 0.9, 0.2, 0.3]], dtype=np.float32),
                                  "state": np.zeros((2, 1, 4), dtype=np.float32)})

    top = result.top_k("logits")

    assert [index for index, _ in top] == [3, 1, 5, 4, 0]
    assert top[0][1] == pytest.approx(0.9)
    assert result.top_k("state") is None
    assert result.as_dict()["outputs"]["logits"]["top5"][0] == {"index": 3, "value": pytest.approx(0.9)}
