"""Fixtures for the optimize pipeline tests: an isolated home and the real sample models."""

from pathlib import Path

import pytest

SAMPLE_MODELS = Path(__file__).resolve().parents[3] / "sample_models"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Keep the data folder (artifact store, database, log) and config under tmp_path."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("EDGETUI_DB", raising=False)


@pytest.fixture
def sample_models() -> Path:
    """Return the folder of the vendored sample models and their data."""
    return SAMPLE_MODELS
