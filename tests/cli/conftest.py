"""Fixtures for the CLI tests: a running sample fleet and an isolated environment."""

import pytest

from sample_fleet import SampleFleet


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Keep the data, config and log folders under tmp_path, away from the real user's."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("EDGETUI_DB", raising=False)


@pytest.fixture
async def sample_fleet(tmp_path):
    """Start three simulated devices and return the fleet's state folder."""
    state = tmp_path / "fleet"
    async with SampleFleet(state, devices=3) as fleet:
        yield fleet
