"""Fixtures: a simulated device behind a TCP relay, an SSH pool and a telemetry store under tmp_path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from collect_helpers import TcpRelay, make_pool
from edgetui.domain import Device
from edgetui.shim_client import ShimClient
from edgetui.ssh import SSHPool
from edgetui.telemetry import TelemetryStore
from sample_fleet import SampleFleet
from sample_fleet.profiles import BUNDLED_PROFILES_DIR
from sshd import MemoryHostKeyStore

PROFILE = BUNDLED_PROFILES_DIR / "rpi4-aarch64"


@dataclass
class Rig:
    """Simulated devices reached through relays, with the pool, shim client and store the collector uses."""

    sample: SampleFleet
    relays: dict[str, TcpRelay]
    devices: list[Device]
    pool: SSHPool
    shim: ShimClient
    store: TelemetryStore
    home: dict[str, Path]


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    """Run two simulated rpi4 devices, each reached through its own TcpRelay."""
    host_keys = MemoryHostKeyStore()
    relays: dict[str, TcpRelay] = {}
    devices = []
    async with SampleFleet(tmp_path / "sample", devices=2, profiles=[PROFILE]) as sample:
        for simulated in sample.devices:
            relay = TcpRelay(simulated.port)
            await relay.start()
            relays[simulated.name] = relay
            host_keys.remember_host_key("127.0.0.1", relay.port, simulated.host_key_line)
            devices.append(Device(name=simulated.name, host="127.0.0.1", port=relay.port,
                                  user=simulated.profile.user, key_file=str(simulated.client_key_path)))
        pool = make_pool(host_keys, keepalive_interval=1.0, keepalive_count_max=2, connect_timeout=5.0)
        store = TelemetryStore(tmp_path / "fleet.db")
        try:
            yield Rig(sample, relays, devices, pool, ShimClient(pool), store,
                      {simulated.name: simulated.home for simulated in sample.devices})
        finally:
            await pool.close()
            for relay in relays.values():
                await relay.close()
            store.close()
