"""`edgetui optimize --for DEVICE` against the real sample fleet: upload, benchmark, recommend.

The fleet's SSH servers live on the test's event loop, so the command runs in a
worker thread, where its own event loop talks to them over 127.0.0.1.
"""

import asyncio

import numpy as np
import pytest
from optimize_helpers import FAST, check_recommendations_within_budget, check_report_shape

from edgetui.cli import main
from sample_fleet import SampleFleet
from sample_fleet.profiles import BUNDLED_PROFILES_DIR

DEVICE = "rpi4-aarch64"
NO_PYTHON = "openwrt-busybox"


@pytest.fixture
async def fleet(tmp_path):
    """Run one device with python3 (the console's, with onnxruntime) and one without python3."""
    profiles = [BUNDLED_PROFILES_DIR / DEVICE, BUNDLED_PROFILES_DIR / NO_PYTHON]
    async with SampleFleet(tmp_path / "fleet", devices=2, profiles=profiles) as running:
        yield running


@pytest.fixture
def digits_data(tmp_path):
    path = tmp_path / "digits.npz"
    np.savez(path, X=np.random.default_rng(1).uniform(0, 16, size=(8, 64)).astype(np.float32))
    return path


async def run_in_thread(capsys, db, *argv):
    """Run `edgetui optimize ... --json` in a worker thread; return status, JSON and stderr."""
    import json

    status = await asyncio.to_thread(main, ["--db", str(db), "optimize", *argv, *FAST, "--json"])
    captured = capsys.readouterr()
    return status, json.loads(captured.out), captured.err


def bench_files(fleet, name):
    home = fleet.state_dir / name / "home" / ".edgetui" / "bench"
    return {path.name: path.stat().st_mtime_ns for path in home.iterdir()} if home.is_dir() else {}


async def test_benchmark_on_device(tmp_path, capsys, fleet, sample_models, digits_data):
    db = tmp_path / "fleet.db"
    assert main(["--db", str(db), "fleet", "import", str(fleet.inventory_path)]) == 0
    capsys.readouterr()
    argv = [str(sample_models / "digits_mlp.onnx"), "--for", DEVICE, "--calibration", str(digits_data),
            "--kinds", "fp32-optimized", "pruned"]

    status, report, err = await run_in_thread(capsys, db, *argv)

    assert status == 0, err
    check_report_shape(report)
    check_recommendations_within_budget(report)
    assert DEVICE in report["reference"]["device_latency"]
    measured = [v for v in report["variants"] if DEVICE in v["device_latency"]]
    assert "fp32-optimized" in [v["kind"] for v in measured]
    for variant in measured:
        latency = variant["device_latency"][DEVICE]
        assert latency["p50_ms"] > 0
        assert latency["p95_ms"] >= latency["p50_ms"]
        assert latency["onnxruntime"]
    # The kind may be None when nothing beat the original FP32 model there.
    assert "measured on the device" in report["reasons"][DEVICE]
    uploaded = bench_files(fleet, DEVICE)
    assert any(name.endswith(".npz") for name in uploaded)
    assert len([name for name in uploaded if name.endswith(".onnx")]) == 1 + len(measured)

    status, _, err = await run_in_thread(capsys, db, *argv)

    assert status == 0, err
    # Files already on the device under their sha256 are not uploaded again.
    assert bench_files(fleet, DEVICE) == uploaded


async def test_device_without_onnxruntime_uses_laptop_numbers(tmp_path, capsys, fleet, sample_models):
    db = tmp_path / "fleet.db"
    assert main(["--db", str(db), "fleet", "import", str(fleet.inventory_path)]) == 0
    capsys.readouterr()

    status, report, err = await run_in_thread(
        capsys, db, str(sample_models / "digits_mlp.onnx"), "--for", NO_PYTHON, "--random-inputs",
        "--kinds", "fp32-optimized",
    )

    assert status == 0, err
    check_recommendations_within_budget(report)
    assert "no onnxruntime" in report["reasons"][NO_PYTHON]
    assert "these are laptop numbers" in report["reasons"][NO_PYTHON]
    assert report["variants"][0]["device_latency"] == {}


async def test_unreachable_device_exits_1(tmp_path, capsys, fleet, sample_models):
    db = tmp_path / "fleet.db"
    assert main(["--db", str(db), "fleet", "import", str(fleet.inventory_path)]) == 0
    capsys.readouterr()
    await fleet.stop()

    status, report, err = await run_in_thread(
        capsys, db, str(sample_models / "digits_mlp.onnx"), "--for", DEVICE, "--random-inputs",
        "--kinds", "fp32-optimized", "--connect-timeout", "3",
    )

    assert status == 1
    assert DEVICE in report["device_errors"]
    assert f"device benchmark on {DEVICE} failed" in err
    # The laptop's numbers still give a recommendation, with the caveat.
    check_recommendations_within_budget(report)
    assert "measured on the laptop" in report["reasons"][DEVICE]
    assert "laptop numbers do not carry over" in report["reasons"][DEVICE]
