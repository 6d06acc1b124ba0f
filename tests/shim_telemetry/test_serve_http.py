"""serve's HTTP API over real HTTP on 127.0.0.1, with the real digits model and a real release layout."""

from __future__ import annotations

import concurrent.futures
import http.client
import json

import numpy as np
import onnxruntime as ort
import pytest
from serve_fixtures import (  # noqa: F401 - pytest finds the fixtures by name
    DIGITS,
    LocalServer,
    ServeDevice,
    digits_inputs,
    http_call,
    http_json,
    infer_json,
    local_server,
    serve_device,
)

from device_shim.telemetry.server import MAX_BODY_BYTES


@pytest.fixture(scope="module")
def digits_device(tmp_path_factory):
    """Yield (device, release id) with digits 1.0.0 active, shared by the module's tests."""
    device = ServeDevice(tmp_path_factory.mktemp("serve_http") / "home")
    release = device.stage("1.0.0")
    device.activate(release)
    yield device, release
    device.stop_processes()


@pytest.fixture
def served(digits_device):
    """Yield (LocalServer, release id): a new server, so request counts start at zero."""
    device, release = digits_device
    server = LocalServer(device)
    yield server, release
    server.stop()


def direct_outputs(rows: np.ndarray) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(str(DIGITS), providers=["CPUExecutionProvider"])
    label, probabilities = session.run(None, {"X": rows})
    return {"label": label, "probabilities": probabilities}


def errors_total(port: int) -> int:
    status, metrics = http_json(port, "GET", "/v1/metrics")
    assert status == 200
    return metrics["errors"]


def test_json_infer_matches_onnxruntime(served):
    server, release = served
    rows = digits_inputs(3, seed=7).reshape(3, 64)

    status, reply = infer_json(server.port, rows)

    expected = direct_outputs(rows)
    assert status == 200, reply
    assert reply["release"] == release
    assert reply["latency_ms"] > 0
    assert reply["outputs"]["label"] == {"shape": [3], "dtype": "int64", "data": expected["label"].tolist()}
    probabilities = reply["outputs"]["probabilities"]
    assert probabilities["shape"] == [3, 10]
    assert probabilities["dtype"] == "float32"
    np.testing.assert_array_equal(np.array(probabilities["data"], dtype=np.float32), expected["probabilities"])


def test_json_flat_data_with_shape(served):
    server, _ = served
    rows = digits_inputs(2, seed=8).reshape(2, 64)
    payload = {"inputs": {"X": {"data": rows.ravel().tolist(), "shape": [2, 64], "dtype": "float32"}}}

    status, reply = http_json(server.port, "POST", "/v1/infer", payload)

    assert status == 200, reply
    assert reply["outputs"]["label"]["data"] == direct_outputs(rows)["label"].tolist()


def test_raw_infer_matches_onnxruntime(served):
    server, release = served
    rows = digits_inputs(4, seed=9).reshape(4, 64)

    status, headers, body = http_call(
        server.port, "POST", "/v1/infer?shape=4,64&dtype=float32&output=probabilities", rows.tobytes(),
        {"Content-Type": "application/octet-stream"},
    )

    assert status == 200, body
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["X-Shape"] == "4,10"
    assert headers["X-Dtype"] == "float32"
    assert headers["X-Release"] == release
    assert float(headers["X-Latency-Ms"]) > 0
    result = np.frombuffer(body, dtype=np.float32).reshape(4, 10)
    np.testing.assert_array_equal(result, direct_outputs(rows)["probabilities"])


def test_raw_default_output_is_first(served):
    server, _ = served
    rows = digits_inputs(2, seed=10).reshape(2, 64)

    status, headers, body = http_call(server.port, "POST", "/v1/infer?shape=2,64", rows.tobytes(),
                                      {"Content-Type": "application/octet-stream"})

    assert status == 200, body
    assert headers["X-Dtype"] == "int64"
    assert np.frombuffer(body, dtype=np.int64).tolist() == direct_outputs(rows)["label"].tolist()


JSON_BAD_INPUTS = [
    ("wrong name", {"inputs": {"pixels": {"data": [[0.0] * 64]}}}, "'pixels'"),
    ("missing input", {"inputs": {}}, "'X' is missing"),
    ("wrong shape", {"inputs": {"X": {"data": [[0.0] * 63]}}}, "'X' has shape 1 x 63"),
    ("wrong dtype", {"inputs": {"X": {"data": [[0] * 64], "dtype": "int64"}}}, "'X' expects dtype float32"),
    ("unknown dtype", {"inputs": {"X": {"data": [[0] * 64], "dtype": "complex64"}}}, "'X': dtype 'complex64'"),
    ("ragged data", {"inputs": {"X": {"data": [[0.0] * 64, [0.0]]}}}, "'X': data is not a rectangular"),
    ("strings", {"inputs": {"X": {"data": [["a"] * 64]}}}, "'X': data is not a rectangular"),
    ("shape mismatch", {"inputs": {"X": {"data": [0.0] * 64, "shape": [2, 64]}}}, "'X': shape [2, 64] needs 128"),
    ("not an object", {"inputs": {"X": [0.0] * 64}}, "'X' must be an object"),
    ("deep nesting", {"inputs": {"X": {"data": json.loads("[" * 40 + "]" * 40)}}}, "nested more than 32"),
]


@pytest.mark.parametrize("case, payload, named", JSON_BAD_INPUTS, ids=[case[0] for case in JSON_BAD_INPUTS])
def test_json_bad_input_rejected(served, case, payload, named):
    server, _ = served
    before = errors_total(server.port)

    status, reply = http_json(server.port, "POST", "/v1/infer", payload)

    assert status == 400, reply
    assert reply["ok"] is False
    assert reply["code"] == "bad_input"
    assert named in reply["error"]
    assert errors_total(server.port) == before + 1


def test_body_not_json_rejected(served):
    server, _ = served

    status, _, body = http_call(server.port, "POST", "/v1/infer", b"{not json", {"Content-Type": "application/json"})

    reply = json.loads(body)
    assert status == 400
    assert reply["code"] == "bad_input"
    assert "not valid JSON" in reply["error"]
    assert errors_total(server.port) == 1


def test_json_nested_past_parser_limit(served):
    server, _ = served
    body = b'{"inputs": {"X": {"data": ' + b"[" * 100000 + b"]" * 100000 + b"}}}"

    status, _, data = http_call(server.port, "POST", "/v1/infer", body, {"Content-Type": "application/json"})

    assert status == 400
    assert json.loads(data)["code"] == "bad_input"


RAW_BAD_INPUTS = [
    ("wrong byte count", "?shape=2,64", 64 * 4, "'X': shape [2, 64] of float32 needs 512 bytes, but the body has 256"),
    ("wrong dtype", "?shape=1,64&dtype=float64", 64 * 8, "'X' expects dtype float32, not float64"),
    ("wrong shape", "?shape=1,65", 65 * 4, "'X' has shape 1 x 65"),
    ("invalid shape", "?shape=1,x", 64 * 4, "'X': shape '1,x' is invalid"),
    ("symbolic without shape", "", 64 * 4, "'X' has symbolic dimensions"),
    ("wrong input name", "?shape=1,64&input=pixels", 64 * 4, "'pixels' is not an input"),
    ("wrong output name", "?shape=1,64&output=scores", 64 * 4, "output 'scores' is not an output"),
]


@pytest.mark.parametrize("case, query, size, named", RAW_BAD_INPUTS, ids=[case[0] for case in RAW_BAD_INPUTS])
def test_raw_bad_input_rejected(served, case, query, size, named):
    server, _ = served

    status, _, body = http_call(server.port, "POST", "/v1/infer" + query, bytes(size),
                                {"Content-Type": "application/octet-stream"})

    reply = json.loads(body)
    assert status == 400, reply
    assert reply["code"] == "bad_input"
    assert named in reply["error"]
    assert errors_total(server.port) == 1


def test_body_over_limit_rejected(served):
    # The header announces more than the limit, so serve replies before it reads any of the body.
    server, _ = served
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.putrequest("POST", "/v1/infer")
        connection.putheader("Content-Type", "application/octet-stream")
        connection.putheader("Content-Length", str(MAX_BODY_BYTES + 1))
        connection.endheaders()
        response = connection.getresponse()
        reply = json.loads(response.read())
    finally:
        connection.close()

    assert response.status == 413
    assert reply["ok"] is False
    assert str(MAX_BODY_BYTES) in reply["error"]
    assert errors_total(server.port) == 1


def test_missing_content_length_rejected(served):
    server, _ = served
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.putrequest("POST", "/v1/infer")
        connection.endheaders()
        response = connection.getresponse()
        reply = json.loads(response.read())
    finally:
        connection.close()

    assert response.status == 411
    assert "Content-Length" in reply["error"]


def test_model_describes_release(served):
    server, release = served

    status, reply = http_json(server.port, "GET", "/v1/model")

    assert status == 200
    assert reply["release"] == release
    assert reply["entrypoint"] == "model.onnx"
    assert reply["inputs"] == [{"name": "X", "shape": [None, 64], "type": "tensor(float)"}]
    assert [output["name"] for output in reply["outputs"]] == ["label", "probabilities"]


def test_unknown_path_is_404(served):
    server, _ = served

    status, reply = http_json(server.port, "GET", "/v2/anything")

    assert status == 404
    assert reply["code"] == "not_found"


def test_no_release_answers_503(serve_device, local_server):
    server = local_server()

    health_status, health = http_json(server.port, "GET", "/v1/health")
    model_status, model = http_json(server.port, "GET", "/v1/model")
    infer_status, infer = infer_json(server.port, np.zeros((1, 64), dtype=np.float32))
    _, metrics = http_json(server.port, "GET", "/v1/metrics")

    assert health_status == 200
    assert health == {"ok": True, "release": None, "model_loaded": False,
                      "error": "no release is active on this device; activate one first"}
    assert model_status == 503
    assert model["code"] == "no_release"
    assert infer_status == 503
    assert infer["code"] == "no_release"
    assert metrics["requests"] == 1
    assert metrics["errors"] == 1
    assert metrics["release"] is None


def test_metrics_count_requests(served):
    server, release = served
    rows = digits_inputs(1, seed=11).reshape(1, 64)
    for _ in range(3):
        infer_json(server.port, rows)
    http_json(server.port, "POST", "/v1/infer", {"inputs": {}})

    status, metrics = http_json(server.port, "GET", "/v1/metrics")

    assert status == 200
    assert metrics["requests"] == 4
    assert metrics["errors"] == 1
    assert metrics["release"] == release
    assert metrics["since"] > 0


def test_concurrent_requests_all_correct(served):
    server, _ = served
    rows = [digits_inputs(1, seed=20 + index).reshape(1, 64) for index in range(16)]
    expected = [direct_outputs(row)["label"].tolist() for row in rows]

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda row: infer_json(server.port, row), rows))

    assert [status for status, _ in replies] == [200] * 16
    assert [reply["outputs"]["label"]["data"] for _, reply in replies] == expected
    assert server.window_source()["requests"] == 16
