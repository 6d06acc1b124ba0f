"""Fixtures for the artifact and audit tests: an isolated data folder, a store, blobs and a key."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgetui.artifacts import ArtifactStore
from edgetui.artifacts.signing import SigningKey
from edgetui.store import FleetStore

from artifact_models import DIGITS_MODEL, REPO, VAD_MODEL  # noqa: E402,F401


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Keep the data, config and log folders under tmp_path, and drop log handlers main() adds."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("EDGETUI_DB", raising=False)
    monkeypatch.delenv("EDGETUI_SIGNING_KEY_PASSPHRASE", raising=False)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[FleetStore]:
    """Open a fleet database under tmp_path."""
    with FleetStore(tmp_path / "fleet.db") as opened:
        yield opened


@pytest.fixture
def blobs(tmp_path: Path) -> ArtifactStore:
    """Return an artifact store under tmp_path."""
    return ArtifactStore(tmp_path / "artifacts")


@pytest.fixture
def key(tmp_path: Path) -> SigningKey:
    """Return a signing key created under tmp_path."""
    return SigningKey.load_or_create(tmp_path / "keys" / "release_ed25519")
