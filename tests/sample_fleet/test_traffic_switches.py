"""Traffic switches: faults.json fields, the `fault` options, and the request bodies they produce."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sample_fleet.cli import main
from sample_fleet.faults import FaultFileError, Faults, read_faults
from sample_fleet.traffic import TrafficGenerator

SHAPE = (1, 3, 4, 4)


def write_inventory(state: Path, name: str) -> None:
    state.mkdir(parents=True)
    (state / name).mkdir()
    (state / "inventory.toml").write_text(f'[[device]]\nname = "{name}"\n')


def generator() -> TrafficGenerator:
    samples = np.zeros((2, *SHAPE), dtype=np.float32)
    return TrafficGenerator([], samples, rate=1.0)


def test_fault_sets_traffic_switches(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_inventory(tmp_path / "state", "dev")

    status = main(["fault", "--state-dir", str(tmp_path / "state"), "dev", "--latency-spike-ms", "200",
                   "--error-rate", "0.25", "--drift", "0.5", "--traffic-rate", "5"])

    assert status == 0
    assert read_faults(tmp_path / "state" / "dev") == Faults(
        latency_spike_ms=200, error_rate=0.25, drift=0.5, traffic_rate=5.0
    )
    assert "latency-spike 200 ms, error-rate 0.25, drift 0.5, traffic-rate 5/s" in capsys.readouterr().out


def test_fault_clear_removes_traffic_switches(tmp_path: Path) -> None:
    write_inventory(tmp_path / "state", "dev")
    main(["fault", "--state-dir", str(tmp_path / "state"), "dev", "--drift", "1"])

    status = main(["fault", "--state-dir", str(tmp_path / "state"), "dev", "--clear"])

    assert status == 0
    assert read_faults(tmp_path / "state" / "dev") == Faults()


@pytest.mark.parametrize("option, value", [
    ("--error-rate", "1.5"), ("--drift", "-1"), ("--traffic-rate", "-2"), ("--latency-spike-ms", "0"),
    ("--traffic-rate", "nan"),
])
def test_fault_rejects_invalid_switch(tmp_path: Path, option: str, value: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    write_inventory(tmp_path / "state", "dev")

    status = main(["fault", "--state-dir", str(tmp_path / "state"), "dev", option, value])

    assert status == 2
    assert "invalid value" in capsys.readouterr().err


def test_faults_file_rejects_invalid_rate() -> None:
    with pytest.raises(FaultFileError, match="error_rate"):
        Faults.from_json('{"error_rate": 2}')


def test_body_has_declared_shape() -> None:
    body, shape = generator().make_body(np.random.default_rng(0), Faults())

    assert shape == "1,3,4,4"
    assert len(body) == 4 * int(np.prod(SHAPE))


def test_body_drift_shifts_inputs() -> None:
    rng = np.random.default_rng(0)
    body, _shape = generator().make_body(rng, Faults(drift=2.0))
    values = np.frombuffer(body, dtype=np.float32)

    # Zero samples plus noise of std 0.05, scaled by 3 and shifted by 2.
    assert abs(values.mean() - 2.0) < 0.1


def test_body_error_rate_one_always_malformed() -> None:
    rng = np.random.default_rng(0)
    bodies = [generator().make_body(rng, Faults(error_rate=1.0))[0] for _ in range(5)]

    assert all(len(body) == 2 * int(np.prod(SHAPE)) for body in bodies)


def test_generator_rejects_negative_rate() -> None:
    with pytest.raises(ValueError, match="invalid traffic rate"):
        TrafficGenerator([], np.zeros((1, *SHAPE), dtype=np.float32), rate=-1)
