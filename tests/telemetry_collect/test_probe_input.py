"""Probe input files: reading .npz, .npy and .json, and matching them to the model's input names."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgetui.errors import InputError
from edgetui.telemetry.probe import ProbeResult, load_input, request_body

MODEL = {"inputs": [{"name": "input", "shape": [1, 4], "type": "tensor(float)"},
                    {"name": "state", "shape": [2], "type": "tensor(float)"}]}
SINGLE = {"inputs": [{"name": "pixels", "shape": [1, 3], "type": "tensor(float)"}]}


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
