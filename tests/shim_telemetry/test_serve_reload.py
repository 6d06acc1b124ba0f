"""serve reloads on activation (SIGHUP) and on a switch of `current`, and keeps the old release when loading fails."""

from __future__ import annotations

import os
import signal

import numpy as np
from serve_fixtures import DIGITS, http_json, infer_json, serve_device, wait_until  # noqa: F401

from device_shim.release.files import switch_link
from device_shim.release.paths import Layout

ROW = np.zeros((1, 64), dtype=np.float32)


def health_of(port: int) -> dict:
    status, health = http_json(port, "GET", "/v1/health")
    assert status == 200
    return health


def serving_release(port: int, release: str | None):
    """Return a condition that is true once /v1/health names release."""
    return lambda: health_of(port)["release"] == release


def test_activation_reloads_serve(serve_device):
    first = serve_device.stage("1.0.0")
    second = serve_device.stage("2.0.0")
    serve_device.activate(first)
    process = serve_device.start_serve()
    port = serve_device.wait_serving(process)["port"]
    before = infer_json(port, ROW)[1]["release"]

    activated = serve_device.activate(second)

    assert before == first
    assert activated["server"] == {"server": "signalled", "pid": process.pid}
    assert wait_until(serving_release(port, second))
    assert infer_json(port, ROW)[1]["release"] == second
    assert wait_until(lambda: serve_device.serve_state()["release"] == second)
    assert health_of(port)["error"] is None


def test_current_switch_reloads_without_signal(serve_device):
    first = serve_device.stage("1.0.0")
    second = serve_device.stage("2.0.0")
    serve_device.activate(first)
    process = serve_device.start_serve()
    port = serve_device.wait_serving(process)["port"]

    # No SIGHUP: only the once-a-second check of the link can notice this switch.
    switch_link(Layout(str(serve_device.home)), "current", second)

    assert wait_until(serving_release(port, second))
    assert infer_json(port, ROW)[1]["release"] == second


def test_removed_current_stops_serving(serve_device):
    serve_device.activate(serve_device.stage("1.0.0"))
    process = serve_device.start_serve()
    port = serve_device.wait_serving(process)["port"]

    switch_link(Layout(str(serve_device.home)), "current", None)

    assert wait_until(serving_release(port, None))
    status, reply = infer_json(port, ROW)
    assert status == 503
    assert reply["code"] == "no_release"
    assert wait_until(lambda: serve_device.serve_state()["release"] is None)


def test_broken_release_then_sighup(serve_device):
    good = serve_device.stage("1.0.0")
    broken = serve_device.stage("2.0.0", model=b"this is not an ONNX model")
    serve_device.activate(good)
    process = serve_device.start_serve()
    port = serve_device.wait_serving(process)["port"]

    serve_device.activate(broken)
    failed = wait_until(lambda: health_of(port)["error"])
    old_status, old_reply = infer_json(port, ROW)

    assert broken in failed
    assert "did not load" in failed
    assert health_of(port)["release"] == good
    assert old_status == 200
    assert old_reply["release"] == good
    assert serve_device.serve_state()["release"] == good

    # Repair the release in place (a new file, because staged files are hard links
    # to the artifacts) and ask for a reload: current is unchanged, so only SIGHUP
    # makes serve load it.
    model = serve_device.release_dir(broken) / "model.onnx"
    model.unlink()
    model.write_bytes(DIGITS.read_bytes())
    os.kill(process.pid, signal.SIGHUP)

    assert wait_until(serving_release(port, broken))
    assert health_of(port)["error"] is None
    assert infer_json(port, ROW)[1]["release"] == broken
    assert process.poll() is None
