"""Fixtures: a running in-process sample fleet under tmp_path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sample_fleet_helpers import profile_path

from sample_fleet import SampleFleet

# One profile for each behaviour the tests need: captured uname and no lsusb,
# no python3, captured lsusb, and captures that replace the host's free and df.
FLEET_PROFILES = ["rpi4-aarch64", "openwrt-busybox", "coral-edgetpu", "openwrt-busybox-homeware"]


@pytest.fixture
async def fleet(tmp_path: Path) -> AsyncIterator[SampleFleet]:
    """Run one device per profile of FLEET_PROFILES; the device names equal the profile names."""
    profiles = [profile_path(name) for name in FLEET_PROFILES]
    async with SampleFleet(tmp_path / "state", devices=len(profiles), profiles=profiles) as running:
        yield running
