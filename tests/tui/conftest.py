"""Fixtures for the TUI tests: a fleet database with fixed data, and settings under tmp_path."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from edgetui.service import Fleet
from edgetui.settings import Settings
from edgetui.tui.app import EdgetuiApp, create_app
from tui.fleet_data import fill_store, fixed_clock


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
