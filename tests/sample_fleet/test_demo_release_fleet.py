"""The sample fleet's demo release, model servers and traffic switches, with the real shim and onnxruntime.

One fleet of three devices with different profiles serves the whole module,
because installing the release runs a real health check on every device.
"""

from __future__ import annotations

import asyncio
import json
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from sample_fleet_helpers import profile_path, wait_until_ended

from sample_fleet import SampleFleet
from sample_fleet.cli import main
from sample_fleet.demo_release import DEMO_DIR, KEY_FILE
from sample_fleet.device import SimulatedDevice
from sample_fleet.serve_processes import serve_pid, serve_port

PROFILES = ["rpi4-aarch64", "x86_64-nuc-ipc", "riscv-visionfive2-jh7110"]
# Bound of the background install: a real health check per device, two at a time.
READY_TIMEOUT_S = 300
# Bound of each wait for a condition that the traffic makes true.
CONDITION_TIMEOUT_S = 90

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def demo_fleet(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SampleFleet]:
    """Run three devices with the demo release and traffic, and wait until the setup finished."""
    state = tmp_path_factory.mktemp("demo") / "state"
    profiles = [profile_path(name) for name in PROFILES]
    async with SampleFleet(state, devices=3, profiles=profiles, demo_release=True) as fleet:
        await asyncio.wait_for(fleet.demo.ready.wait(), READY_TIMEOUT_S)
        yield fleet


def device(fleet: SampleFleet, name: str) -> SimulatedDevice:
    return next(item for item in fleet.devices if item.name == name)


def set_fault(fleet: SampleFleet, name: str, *options: str) -> None:
    assert main(["fault", "--state-dir", str(fleet.state_dir), name, *options]) == 0


async def get_json(target: SimulatedDevice, path: str) -> dict:
    port = serve_port(target)
    assert port is not None, f"{target.name} has no telemetry/serve.json"
    async with httpx.AsyncClient(trust_env=False) as client:
        response = await client.get(f"http://127.0.0.1:{port}{path}", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def spooled_samples(target: SimulatedDevice) -> list[dict]:
    """Return the sample lines of the device's telemetry spool, in seq order."""
    samples = []
    for segment in sorted((target.home / ".edgetui" / "telemetry" / "spool").glob("*.jsonl")):
        for line in segment.read_text().splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if item.get("type") == "sample":
                samples.append(item)
    return sorted(samples, key=lambda item: item["seq"])


async def wait_for(condition, what: str) -> None:
    """Poll `condition` (a coroutine function returning bool) every 0.5 s, failing after CONDITION_TIMEOUT_S."""
    for _ in range(int(CONDITION_TIMEOUT_S / 0.5)):
        if await condition():
            return
        await asyncio.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


async def test_demo_release_serves_on_every_profile(demo_fleet: SampleFleet) -> None:
    release = demo_fleet.demo.release

    assert demo_fleet.demo.serve_error is None
    assert release.manifest["target"]["arch"] is None
    for name in PROFILES:
        assert demo_fleet.demo.outcomes[name] == "installed"
        health = await get_json(device(demo_fleet, name), "/v1/health")
        assert health["release"] == release.release_id
        assert health["model_loaded"] is True


async def test_demo_key_private_to_user(demo_fleet: SampleFleet) -> None:
    key = demo_fleet.state_dir / DEMO_DIR / KEY_FILE

    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert demo_fleet.demo.release.key_name in {
        path.stem for path in (device(demo_fleet, PROFILES[0]).home / ".edgetui" / "trusted_keys").iterdir()
    }


async def test_demo_restart_leaves_device_alone(demo_fleet: SampleFleet) -> None:
    from edgetui.shim_bundle import build_shim_bundle
    from sample_fleet.demo_install import install_demo_release

    outcome = await install_demo_release(device(demo_fleet, PROFILES[0]), demo_fleet.demo.release, build_shim_bundle())

    assert outcome == "unchanged"


async def test_demo_traffic_raises_request_count(demo_fleet: SampleFleet) -> None:
    target = device(demo_fleet, PROFILES[1])
    before = (await get_json(target, "/v1/metrics"))["requests"]

    async def grew() -> bool:
        return (await get_json(target, "/v1/metrics"))["requests"] >= before + 3

    await wait_for(grew, f"the request count of {target.name} to rise above {before}")


async def test_demo_error_rate_raises_errors(demo_fleet: SampleFleet) -> None:
    target = device(demo_fleet, PROFILES[2])
    before = (await get_json(target, "/v1/metrics"))["errors"]
    set_fault(demo_fleet, target.name, "--error-rate", "0.5")
    try:
        async def errors_rose() -> bool:
            return (await get_json(target, "/v1/metrics"))["errors"] >= before + 3

        await wait_for(errors_rose, f"errors of {target.name} to rise above {before}")
    finally:
        set_fault(demo_fleet, target.name, "--clear")
    assert demo_fleet.demo.traffic.counts[target.name].rejected >= 3


async def test_demo_drift_raises_drift_psi(demo_fleet: SampleFleet) -> None:
    drifting = device(demo_fleet, PROFILES[0])
    steady = device(demo_fleet, PROFILES[1])
    set_fault(demo_fleet, drifting.name, "--drift", "2", "--traffic-rate", "10")
    set_fault(demo_fleet, steady.name, "--traffic-rate", "10")
    try:
        async def drifted() -> bool:
            samples = spooled_samples(drifting)
            return bool(samples) and (samples[-1].get("drift_psi") or 0) > 0.25

        await wait_for(drifted, f"drift_psi of {drifting.name} to exceed 0.25")

        async def steady_measured() -> bool:
            samples = spooled_samples(steady)
            return bool(samples) and samples[-1].get("drift_psi") is not None

        await wait_for(steady_measured, f"drift_psi of {steady.name} to be measured")
    finally:
        set_fault(demo_fleet, drifting.name, "--clear")
        set_fault(demo_fleet, steady.name, "--clear")
    assert spooled_samples(steady)[-1]["drift_psi"] < spooled_samples(drifting)[-1]["drift_psi"]


async def test_demo_latency_spike_raises_latency(demo_fleet: SampleFleet) -> None:
    target = device(demo_fleet, PROFILES[1])
    set_fault(demo_fleet, target.name, "--latency-spike-ms", "300")
    try:
        async def slow() -> bool:
            samples = spooled_samples(target)
            return bool(samples) and (samples[-1].get("latency_ms_p95") or 0) >= 250

        await wait_for(slow, f"p95 latency of {target.name} to reach 250 ms")
    finally:
        set_fault(demo_fleet, target.name, "--clear")
    pid = serve_pid(target)
    assert pid is not None

    async def running() -> bool:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        return state != "T"

    # Clearing the switch ends the pauses, so the server is no longer stopped.
    await wait_for(running, f"model server {pid} of {target.name} to be resumed")
    assert demo_fleet.demo.traffic.counts[target.name].pauses >= 1


async def test_demo_stop_leaves_no_server(tmp_path: Path) -> None:
    fleet = SampleFleet(tmp_path / "state", devices=1, profiles=[profile_path(PROFILES[0])], demo_release=True)
    await fleet.start()
    try:
        await asyncio.wait_for(fleet.demo.ready.wait(), READY_TIMEOUT_S)
        pid = serve_pid(fleet.devices[0])
        assert pid is not None
        set_fault(fleet, fleet.devices[0].name, "--latency-spike-ms", "500")
    finally:
        await fleet.stop()

    assert await wait_until_ended(pid)
    assert serve_pid(fleet.devices[0]) is None
