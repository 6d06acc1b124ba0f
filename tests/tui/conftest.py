"""Fixtures for the TUI tests: fleet databases with fixed, optimized or deploy data, the sample fleet, and settings under tmp_path."""

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from edgetui.service import Fleet
from edgetui.settings import Settings
from edgetui.store import FleetStore
from edgetui.tui.app import EdgetuiApp, create_app
from sample_fleet import SampleFleet
from tui.deploy_data import PROFILE, build_artifacts
from tui.fleet_data import fill_store, fixed_clock
from tui.models_data import DIGITS, FAST


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the config and data folders at tmp_path, so settings.json is written there."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    """Return a Fleet over a database with six fixed devices; it opens no connection."""
    fleet = Fleet(fill_store(tmp_path / "fleet.db"))
    yield fleet
    fleet.store.close()


@pytest.fixture
def app(fleet: Fleet) -> EdgetuiApp:
    """Return the console on the fixed fleet with the fixed clock and default settings."""
    return create_app(fleet, Settings(), clock=fixed_clock)


@pytest.fixture(scope="session")
def optimized_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a fleet database in which the real pipeline optimized digits_mlp.onnx once per session."""
    root = tmp_path_factory.mktemp("optimized")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_DATA_HOME", str(root / "data"))
        patch.setenv("XDG_CONFIG_HOME", str(root / "config"))
        fleet = Fleet(FleetStore(root / "fleet.db"))
        fleet.optimize(DIGITS, **FAST)
        fleet.store.close()
    return root / "fleet.db"


@pytest.fixture
def models_app(optimized_db: Path, tmp_path: Path) -> Iterator[EdgetuiApp]:
    """Return the console on a copy of the optimized database, with the fixed clock."""
    copy = tmp_path / "fleet.db"
    shutil.copyfile(optimized_db, copy)
    fleet = Fleet(FleetStore(copy))
    yield create_app(fleet, Settings(), clock=fixed_clock)
    fleet.store.close()


@pytest.fixture(scope="session")
def deploy_artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a data folder whose fleet database records three signed artifacts of the VAD model."""
    root = tmp_path_factory.mktemp("deploy-artifacts")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_DATA_HOME", str(root / "data"))
        build_artifacts(root / "data", root)
    return root / "data"


@pytest.fixture
async def sample(tmp_path: Path) -> AsyncIterator[SampleFleet]:
    """Run three simulated rpi4-aarch64 devices in this process."""
    async with SampleFleet(tmp_path / "sample", devices=3, profiles=[PROFILE]) as running:
        yield running


@pytest.fixture
async def sample_fleet(isolated_dirs: Path, deploy_artifacts: Path, sample: SampleFleet) -> AsyncIterator[Fleet]:
    """Return a Fleet over a copy of the artifact database, with the sample fleet imported."""
    shutil.copytree(deploy_artifacts, isolated_dirs / "data", dirs_exist_ok=True)
    fleet = Fleet.open(isolated_dirs / "data" / "edgetui" / "fleet.db", connect_timeout=5.0)
    fleet.import_inventory(sample.inventory_path)
    yield fleet
    await fleet.aclose()
