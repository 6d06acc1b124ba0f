"""The window source that the sampler reads each interval: counts since the last call, then a new window."""

from __future__ import annotations

import numpy as np
from serve_fixtures import digits_inputs, http_json, infer_json, local_server, serve_device  # noqa: F401

from device_shim.telemetry.requests_stats import MAX_WINDOW_LATENCIES, RequestStats

WINDOW_KEYS = {"requests", "errors", "latencies_ms", "release", "serving", "drift_psi", "drift_input_psi"}


def test_window_counts_and_resets(serve_device, local_server):
    release = serve_device.stage("1.0.0")
    serve_device.activate(release)
    server = local_server()
    rows = digits_inputs(1, seed=3).reshape(1, 64)
    for _ in range(5):
        assert infer_json(server.port, rows)[0] == 200
    for _ in range(2):
        assert http_json(server.port, "POST", "/v1/infer", {"inputs": {"X": {"data": [1.0]}}})[0] == 400
    http_json(server.port, "GET", "/v1/health")

    first = server.window_source()
    second = server.window_source()

    assert set(first) == WINDOW_KEYS
    assert first["requests"] == 7
    assert first["errors"] == 2
    assert len(first["latencies_ms"]) == 7
    assert all(latency > 0 for latency in first["latencies_ms"])
    assert first["release"] == release
    assert first["serving"] is True
    assert first["drift_psi"] is None
    assert second["requests"] == 0
    assert second["errors"] == 0
    assert second["latencies_ms"] == []
    assert second["release"] == release


def test_window_without_release(serve_device, local_server):
    server = local_server()
    assert infer_json(server.port, np.zeros((1, 64), dtype=np.float32))[0] == 503

    window = server.window_source()

    assert window["requests"] == 1
    assert window["errors"] == 1
    assert window["release"] is None
    assert window["serving"] is False
    assert window["drift_psi"] is None
    assert window["drift_input_psi"] is None


def test_window_latencies_bounded():
    stats = RequestStats()
    for _ in range(MAX_WINDOW_LATENCIES + 5):
        stats.record(1.0, error=False)

    requests, errors, latencies = stats.take_window()

    assert requests == MAX_WINDOW_LATENCIES + 5
    assert errors == 0
    assert len(latencies) == MAX_WINDOW_LATENCIES
    assert stats.totals()["requests"] == MAX_WINDOW_LATENCIES + 5
