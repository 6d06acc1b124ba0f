"""Fixtures for the telemetry store tests: a real fleet database file and stream lines built as JSON text."""

import json
from pathlib import Path

import pytest

from edgetui.domain import Device
from edgetui.store import FleetStore
from edgetui.telemetry import TelemetryStore, parse_line

STREAM = "0123456789abcdef"
# 2025-12-05 00:00:00 UTC, the start of a minute.
T0 = 1764892800.0


def sample_text(seq: int, ts: float, stream: str = STREAM, **fields) -> str:
    """Return one sample line as the device's `stream` command prints it; ``fields`` override the defaults."""
    data = {
        "type": "sample", "stream": stream, "seq": seq, "ts": ts, "interval_s": 1.0,
        "requests": 10, "errors": 0,
        "latency_ms_p50": 3.0, "latency_ms_p95": 5.0, "latency_ms_p99": 7.0,
        "cpu_percent": 20.0, "mem_used_mb": 600.0, "mem_total_mb": 3792.0, "temp_c": 45.0,
        "disk_free_mb": 10240.0, "disk_used_percent": 40.0,
        "release": "demo-1.0.0", "serving": True, "drift_psi": 0.01, "drift_input_psi": 0.02,
    }
    data.update(fields)
    return json.dumps(data)


def sample(seq: int, ts: float, stream: str = STREAM, **fields):
    """Return a Sample parsed from a real JSON line."""
    return parse_line(sample_text(seq, ts, stream, **fields))


def samples(seqs, start_ts: float = T0, stream: str = STREAM, **fields):
    """Return samples for each seq, one second apart, the first at start_ts + seq."""
    return [sample(seq, start_ts + seq, stream, **fields) for seq in seqs]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "fleet.db"


@pytest.fixture
def fleet(db_path: Path):
    with FleetStore(db_path) as fleet_store:
        for name in ("rpi-a", "rpi-b", "jetson-c"):
            fleet_store.upsert_device(Device(name=name, host="127.0.0.1", port=22))
        yield fleet_store


@pytest.fixture
def store(fleet) -> TelemetryStore:
    return TelemetryStore(fleet)
