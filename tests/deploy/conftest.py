"""Fixtures for the deploy tests: signed artifacts built once per session, and a sample fleet per test.

The artifacts are made from the vendored silero VAD model through the
artifacts API. They live in a session data folder that each test copies into
its own tmp_path, so a test changes only its own database and blobs.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from edgetui.service import Fleet
from release_fixtures import PROFILE, build_artifacts
from sample_fleet import SampleFleet


@dataclass(frozen=True)
class ArtifactSet:
    """The session's data folder, holding the fleet database, the signing key and the artifact blobs."""

    data_dir: Path


@pytest.fixture(scope="session")
def artifact_set(tmp_path_factory) -> ArtifactSet:
    """Build three signed artifacts of the sample model in a session data folder."""
    root = tmp_path_factory.mktemp("deploy-artifacts")
    data_dir = root / "data"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_DATA_HOME", str(data_dir))
        build_artifacts(data_dir, root)
    return ArtifactSet(data_dir=data_dir)


@pytest.fixture
def data_dir(tmp_path, monkeypatch, artifact_set) -> Path:
    """Point the data and config folders at tmp_path, with a copy of the session's artifacts."""
    data = tmp_path / "data"
    shutil.copytree(artifact_set.data_dir, data)
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("EDGETUI_DB", raising=False)
    monkeypatch.delenv("EDGETUI_SIGNING_KEY_PASSPHRASE", raising=False)
    return data


@pytest.fixture
def db_path(data_dir) -> Path:
    """Return the test's fleet database, which already records the artifacts."""
    return data_dir / "edgetui" / "fleet.db"


@pytest.fixture
async def sample(tmp_path) -> AsyncIterator[SampleFleet]:
    """Run three simulated rpi4-aarch64 devices in this process."""
    async with SampleFleet(tmp_path / "sample", devices=3, profiles=[PROFILE]) as running:
        yield running


@pytest.fixture
async def fleet(db_path, sample) -> AsyncIterator[Fleet]:
    """Open the fleet database with the sample fleet imported."""
    opened = Fleet.open(db_path, connect_timeout=5.0)
    opened.import_inventory(sample.inventory_path)
    yield opened
    await opened.aclose()
