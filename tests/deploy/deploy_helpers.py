"""Helpers of the deploy tests: fast settings, faults, and reading a simulated device's state."""

from __future__ import annotations

import json
from pathlib import Path

from sample_fleet import SampleFleet
from sample_fleet.cli import main as sample_fleet_main

REPO = Path(__file__).resolve().parents[2]
MODEL = "sample_models/silero_vad_openvino_16k.onnx"
PROFILE = REPO / "sample_fleet" / "profiles" / "rpi4-aarch64"
DEVICE_NAMES = ["rpi4-aarch64", "rpi4-aarch64-2", "rpi4-aarch64-3"]
# Versions of the same model: v1 and v2 pass their health check; "slow" has a
# p95 budget no inference meets, so it fails it.
GOOD_V1 = "vad:1.0.0"
GOOD_V2 = "vad:2.0.0"
SLOW = "vad:3.0.0-slow"


# Short retry delays keep the suite fast; the watchdog stays long, so only the
# console, never the watchdog, decides in these tests.
FAST = {"retry_delay_s": 0.05, "health_timeout_s": 60.0}


def set_fault(sample: SampleFleet, name: str, *options: str) -> None:
    """Set fault switches on a simulated device with `sample-fleet fault`."""
    assert sample_fleet_main(["fault", "--state-dir", str(sample.state_dir), name, *options]) == 0


def home(sample: SampleFleet, name: str) -> Path:
    """Return the simulated device's home folder."""
    return sample.state_dir / name / "home"


def link(sample: SampleFleet, name: str, which: str) -> str | None:
    """Return the release a link (current, known_good, previous) points to on the device, or None."""
    path = home(sample, name) / ".edgetui" / which
    if not path.is_symlink():
        return None
    return Path(str(path.readlink())).name


def part_files(sample: SampleFleet, name: str) -> list[Path]:
    """Return the partial uploads left in the device's artifact folder."""
    folder = home(sample, name) / ".edgetui" / "artifacts"
    return sorted(folder.glob("*.part")) if folder.is_dir() else []


def journal(sample: SampleFleet, name: str) -> list[dict]:
    """Return the device's shim journal entries."""
    path = home(sample, name) / ".edgetui" / "journal.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
