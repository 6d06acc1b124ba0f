"""Helpers of the deploy tests: the shared release fixtures, and reading a simulated device's state."""

from __future__ import annotations

import json
from pathlib import Path

from release_fixtures import (  # noqa: F401 - re-exported for the deploy tests
    DEVICE_NAMES,
    FAST,
    GOOD_V1,
    GOOD_V2,
    SLOW,
    set_fault,
)
from sample_fleet import SampleFleet


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
