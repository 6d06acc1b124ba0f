"""Fixtures for the fleet store tests: a fresh database file per test."""

import hashlib
from pathlib import Path

import pytest

from edgetui.store import FleetStore


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "fleet.db"


@pytest.fixture
def store(db_path: Path):
    with FleetStore(db_path) as fleet_store:
        yield fleet_store


def sha256_of(path: Path) -> str:
    """Return the hex sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
