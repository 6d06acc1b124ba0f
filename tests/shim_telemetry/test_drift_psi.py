"""PSI drift of served inputs and outputs against the manifest reference, with the real digits model."""

from __future__ import annotations

import math

import numpy as np
import onnxruntime as ort
import pytest
from serve_fixtures import (  # noqa: F401 - pytest finds the fixtures by name
    DIGITS,
    REFERENCE_COUNT,
    digits_inputs,
    digits_reference,
    http_call,
    infer_json,
    local_server,
    serve_device,
)

from device_shim.telemetry.drift import (
    FRACTION_FLOOR,
    MIN_REQUESTS,
    WINDOW_REQUESTS,
    DriftTracker,
    bin_counts,
    psi,
)


def test_psi_identical_counts_is_zero():
    assert psi([10, 0, 5, 85], [20, 0, 10, 170]) == 0.0


def test_psi_matches_formula():
    expected, actual = [50, 50, 0], [25, 70, 5]
    e = [0.5, 0.5, FRACTION_FLOOR]
    a = [0.25, 0.7, 0.05]

    value = psi(expected, actual)

    assert value == pytest.approx(sum((x - y) * math.log(x / y) for x, y in zip(a, e)))


def test_psi_empty_counts_is_none():
    assert psi([1, 2], [0, 0]) is None
    assert psi([0, 0], [1, 2]) is None


def test_bin_counts_match_numpy_histogram():
    values = np.random.default_rng(1).normal(size=1000)
    counts, edges = np.histogram(values, bins=10)

    assert bin_counts(np, values, [float(edge) for edge in edges]) == counts.tolist()


def test_bin_counts_clip_outside_edges():
    edges = [0.0, 1.0, 2.0, 3.0]
    values = np.array([-5.0, 0.0, 0.5, 1.0, 2.5, 3.0, 9.0, np.nan, np.inf])

    # -5 counts in the first bin and 9 in the last; NaN and infinity are not finite and are left out.
    assert bin_counts(np, values, edges) == [3, 1, 3]


def test_bin_counts_ignores_non_numeric():
    assert bin_counts(np, np.array(["a"]), [0.0, 1.0]) is None
    assert bin_counts(np, [{"a": 1.0}], [0.0, 1.0]) is None


def tracker_with(reference: dict, session_rows) -> DriftTracker:
    session = ort.InferenceSession(str(DIGITS), providers=["CPUExecutionProvider"])
    tracker = DriftTracker(reference)
    for rows in session_rows:
        label, probabilities = session.run(None, {"X": rows})
        tracker.observe(np, {"X": rows}, {"label": label, "probabilities": probabilities})
    return tracker


def test_tracker_window_keeps_last_requests():
    reference = digits_reference(digits_inputs())
    shifted = [row + 8 for row in digits_inputs(WINDOW_REQUESTS, seed=5)]
    same = list(digits_inputs()) * (WINDOW_REQUESTS // REFERENCE_COUNT + 1)

    tracker = tracker_with(reference, shifted + same[:WINDOW_REQUESTS])

    # The shifted requests have all left the window, so only the reference-like ones count.
    drift_psi, drift_input_psi = tracker.values()
    assert drift_psi < 0.01
    assert drift_input_psi < 0.01


def test_tracker_without_histogram_is_none():
    reference = digits_reference(digits_inputs())
    reference["outputs"] = {"label": {"skipped": "the value is not a numeric tensor"}}
    del reference["input_stats"]

    tracker = tracker_with(reference, list(digits_inputs()) * 2)

    assert tracker.values() == (None, None)


def serve_rows(port: int, rows) -> None:
    for row in rows:
        status, reply = infer_json(port, row)
        assert status == 200, reply


@pytest.fixture
def digits_server(serve_device, local_server):
    """Activate digits 1.0.0, whose reference comes from digits_inputs(), and start a LocalServer."""
    serve_device.activate(serve_device.stage("1.0.0"))
    return local_server()


def test_served_reference_inputs_no_drift(digits_server):
    serve_rows(digits_server.port, digits_inputs())

    window = digits_server.window_source()

    assert window["requests"] == REFERENCE_COUNT
    assert window["drift_psi"] == pytest.approx(0.0, abs=0.01)
    assert window["drift_input_psi"] == pytest.approx(0.0, abs=0.01)


def test_served_shifted_inputs_drift(digits_server):
    # Pixels brightened by 8 (the digits data spans 0 to 16) push the outputs far from the reference.
    serve_rows(digits_server.port, [row + 8 for row in digits_inputs(2 * MIN_REQUESTS, seed=4)])

    window = digits_server.window_source()

    assert window["drift_psi"] > 0.25
    assert window["drift_input_psi"] > 0.25


def test_drift_null_below_min_requests(digits_server):
    serve_rows(digits_server.port, [row + 8 for row in digits_inputs(MIN_REQUESTS - 1, seed=4)])

    below = digits_server.window_source()
    serve_rows(digits_server.port, [digits_inputs(1, seed=6)[0] + 8])
    reached = digits_server.window_source()

    assert below["drift_psi"] is None
    assert below["drift_input_psi"] is None
    assert reached["drift_psi"] > 0.25


def test_rejected_requests_not_in_drift(digits_server):
    for _ in range(MIN_REQUESTS):
        status, _ = infer_json(digits_server.port, np.zeros((1, 63), dtype=np.float32))
        assert status == 400

    window = digits_server.window_source()

    assert window["errors"] == MIN_REQUESTS
    assert window["drift_psi"] is None


def test_raw_requests_drift_their_output(digits_server):
    for row in digits_inputs(MIN_REQUESTS, seed=4):
        shifted = (row + 8).astype(np.float32)
        status, _, _ = http_call(digits_server.port, "POST", "/v1/infer?shape=1,64&output=label",
                                 shifted.tobytes(), {"Content-Type": "application/octet-stream"})
        assert status == 200

    window = digits_server.window_source()

    assert window["drift_psi"] > 0.25
    assert window["drift_input_psi"] > 0.25
