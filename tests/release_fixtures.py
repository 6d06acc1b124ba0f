"""Release fixtures shared by the deploy and TUI tests: signed VAD artifacts, device names, faults."""

from __future__ import annotations

import subprocess
from pathlib import Path

from edgetui.artifacts.package import AddOptions, add_artifact
from edgetui.artifacts.signing import SigningKey
from edgetui.artifacts.store import ArtifactStore
from edgetui.store import FleetStore
from sample_fleet import SampleFleet
from sample_fleet.cli import main as sample_fleet_main

REPO = Path(__file__).resolve().parents[1]
MODEL = "sample_models/silero_vad_openvino_16k.onnx"
PROFILE = REPO / "sample_fleet" / "profiles" / "rpi4-aarch64"
DEVICE_NAMES = ["rpi4-aarch64", "rpi4-aarch64-2", "rpi4-aarch64-3"]
# Versions of the same model: v1 and v2 pass their health check; "slow" has a
# p95 budget no inference meets, so it fails it and the device rolls back.
GOOD_V1 = "vad:1.0.0"
GOOD_V2 = "vad:2.0.0"
SLOW = "vad:3.0.0-slow"

# Short retry delays keep the suites fast; the watchdog stays long, so only the
# console, never the watchdog, decides in these tests.
FAST = {"retry_delay_s": 0.05, "health_timeout_s": 60.0}


def model_file(folder: Path) -> Path:
    """Return the sample model, taken from git's HEAD when the working tree lacks the file."""
    path = REPO / MODEL
    if path.is_file():
        return path
    copy = folder / Path(MODEL).name
    # Read-only git command: the model is vendored in the repository.
    copy.write_bytes(subprocess.run(["git", "-C", str(REPO), "cat-file", "blob", f"HEAD:{MODEL}"],
                                    check=True, capture_output=True).stdout)
    return copy


def build_artifacts(data_dir: Path, work: Path) -> None:
    """Record GOOD_V1, GOOD_V2 and SLOW in data_dir's fleet database; XDG_DATA_HOME must point at data_dir."""
    model = model_file(work)
    key = SigningKey.load_or_create()
    with FleetStore(data_dir / "edgetui" / "fleet.db") as store:
        blobs = ArtifactStore()
        for ref, budget in ((GOOD_V1, None), (GOOD_V2, None), (SLOW, 0.000001)):
            name, version = ref.split(":")
            add_artifact(model, AddOptions(name=name, version=version, max_p95_ms=budget),
                         store=store, blobs=blobs, key=key)


def set_fault(sample: SampleFleet, name: str, *options: str) -> None:
    """Set fault switches on a simulated device with `sample-fleet fault`."""
    assert sample_fleet_main(["fault", "--state-dir", str(sample.state_dir), name, *options]) == 0
