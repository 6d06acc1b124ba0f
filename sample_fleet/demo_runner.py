"""The demo services of a fleet that is not bare: demo release, model servers and traffic.

They start in the background once every device listens, so the inventory is
written at once and a console can connect while devices are still installing.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import numpy as np

from edgetui.shim_bundle import build_shim_bundle
from sample_fleet.demo_install import ServeInfo, ServeUnavailable, ShimCommandError, install_demo_release, start_serve
from sample_fleet.demo_release import DemoRelease, build_demo_release
from sample_fleet.device import SimulatedDevice
from sample_fleet.traffic import TrafficGenerator

logger = logging.getLogger("sample_fleet")

# Devices installed at once: each install runs onnxruntime for the health check,
# and two at a time keep a two-core laptop responsive.
INSTALL_CONCURRENCY = 2


class DemoServices:
    """Install the demo release on every device with python3, start its server, then send traffic."""

    def __init__(self, state_dir: Path, devices: list[SimulatedDevice], traffic_rate: float) -> None:
        self.state_dir = state_dir
        self.devices = devices
        self.traffic_rate = traffic_rate
        self.release: DemoRelease | None = None
        # Per device: "installed", "unchanged", "other_release", "no_python3" or "failed: <error>".
        self.outcomes: dict[str, str] = {}
        self.servers: dict[str, ServeInfo] = {}
        self.traffic: TrafficGenerator | None = None
        # Why no server runs at all, such as a shim without the serve command; None otherwise.
        self.serve_error: str | None = None
        self.ready = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        """Start the background task; `ready` is set when it has finished, successfully or not."""
        self._task = asyncio.create_task(self._run(), name="sample-fleet-demo")

    async def stop(self) -> None:
        """Cancel an install in progress and stop the traffic; the fleet stops the servers afterwards."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self.traffic is not None:
            await self.traffic.stop()
            self.traffic = None

    def server_pids(self) -> dict[str, int]:
        """Return the PID of each model server this fleet started or found, by device name."""
        return {name: info.pid for name, info in self.servers.items()}

    async def _run(self) -> None:
        try:
            self.release = await asyncio.to_thread(build_demo_release, self.state_dir)
            bundle = await asyncio.to_thread(build_shim_bundle)
            limit = asyncio.Semaphore(INSTALL_CONCURRENCY)
            await asyncio.gather(*(self._prepare(device, bundle, limit) for device in self.devices))
            serving = [device for device in self.devices if device.name in self.servers]
            if serving:
                input_name, samples = _traffic_samples(self.release)
                self.traffic = TrafficGenerator(serving, samples, self.traffic_rate, input_name)
                await self.traffic.start()
            logger.info("demo ready: release %s, %d of %d devices serving", self.release.release_id,
                        len(serving), len(self.devices))
        except asyncio.CancelledError:
            logger.info("demo setup cancelled")
            raise
        except Exception as exc:  # noqa: BLE001 - the fleet keeps serving SSH without the demo
            logger.error("demo setup failed, the fleet runs without a demo release: %s: %s", type(exc).__name__, exc)
            self.serve_error = self.serve_error or f"{type(exc).__name__}: {exc}"
        finally:
            self.ready.set()

    async def _prepare(self, device: SimulatedDevice, bundle, limit: asyncio.Semaphore) -> None:
        if not device.profile.python:
            logger.info("%s: the profile has no python3, so the device gets no demo release", device.name)
            self.outcomes[device.name] = "no_python3"
            return
        async with limit:
            try:
                self.outcomes[device.name] = await install_demo_release(device, self.release, bundle)
            except ShimCommandError as exc:
                logger.error("%s: demo release not installed: %s", device.name, exc)
                self.outcomes[device.name] = f"failed: {exc}"
                return
            if self.serve_error is not None:
                return
            try:
                self.servers[device.name] = await start_serve(device, bundle)
            except ServeUnavailable as exc:
                # The same shim runs on every device, so the others are not tried.
                self.serve_error = str(exc)
                logger.warning("no model server started: %s", exc)
            except ShimCommandError as exc:
                logger.error("%s: model server did not start: %s", device.name, exc)


def _traffic_samples(release: DemoRelease) -> tuple[str, np.ndarray]:
    """Return the input name and the health samples of the release (first axis: samples)."""
    with np.load(release.samples_path, allow_pickle=False) as archive:
        if len(archive.files) != 1:
            raise ValueError(f"{release.samples_path} has inputs {archive.files}; the traffic generator sends one input")
        name = archive.files[0]
        return name, archive[name]
