"""Fixtures for the release command tests: a device home under tmp_path with a trusted key."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from shim_release_helpers import Device, Signer, make_manifest, stage_request, vad_files


@pytest.fixture
def device(tmp_path) -> Iterator[Device]:
    """Yield a device home; every process started against it is ended at teardown."""
    simulated = Device(tmp_path / "home")
    yield simulated
    simulated.stop_processes()


@pytest.fixture
def signer(device: Device) -> Signer:
    """Return a signing key that the device trusts."""
    key = Signer()
    status, reply = device.run("trust", {"name": key.name, "public_key": key.public_hex})
    assert status == 0, reply
    return key


@pytest.fixture
def staged(device: Device, signer: Signer) -> Callable[..., str]:
    """Return a function that stages a working VAD release of a version and returns its id."""

    def stage(version: str = "1.0.0", files: dict | None = None, **overrides) -> str:
        manifest = make_manifest(device, files or vad_files(), version=version, **overrides)
        status, reply = device.run("stage", stage_request(signer, manifest))
        assert status == 0, reply
        return reply["release"]

    return stage
