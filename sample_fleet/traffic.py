"""Inference traffic to every serving device of the fleet, with the switches of faults.json.

One asyncio task per device sends POST /v1/infer to 127.0.0.1:<port from
HOME/.edgetui/telemetry/serve.json> with Poisson arrivals at the device's
rate. Inputs are the release's health samples plus small Gaussian noise, sent
raw (application/octet-stream), because a JSON list of 150528 floats costs the
server far more to parse than the inference itself.

Switches, read from DIR/<name>/faults.json every second:
- latency_spike_ms: during a request the server is paused with SIGSTOP for
  that long, then resumed with SIGCONT, so the latency it measures rises.
- error_rate: that fraction of requests has a body shorter than its declared
  shape, which the server rejects with 400 bad_input.
- drift: inputs become x * (1 + drift) + drift, so the outputs' distribution moves.
- traffic_rate: requests per second for this device (0 stops them).
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import signal
import time
from dataclasses import dataclass

import httpx
import numpy as np

from sample_fleet.device import LISTEN_HOST, SimulatedDevice
from sample_fleet.faults import Faults
from sample_fleet.serve_processes import send_signal, serve_pid, serve_port

logger = logging.getLogger("sample_fleet")

DEFAULT_RATE = 2.0
NOISE_STD = 0.05
SWITCH_READ_S = 1.0
# Requests of one device that may wait for a reply at once. More are skipped and counted,
# so a paused or overloaded server never piles up requests.
MAX_IN_FLIGHT = 4
REQUEST_TIMEOUT_S = 15.0
# At most this many latency-spike pauses per second and device, whatever the rate.
MAX_PAUSES_PER_S = 4.0
# Delay from sending a request to its pause: the first value and the bounds of its adjustment, in seconds.
_PAUSE_DELAY_START_S = 0.002
_PAUSE_DELAY_MIN_S = 0.0005
_PAUSE_DELAY_MAX_S = 0.05


@dataclass
class TrafficCounts:
    """Requests of one device since the generator started."""

    sent: int = 0
    ok: int = 0
    # Rejected with HTTP 400, as the error-rate switch intends.
    rejected: int = 0
    # Failed with another HTTP status, or with no reply (connection refused, timeout).
    failed: int = 0
    # Not sent because MAX_IN_FLIGHT requests were still waiting.
    skipped: int = 0
    pauses: int = 0
    # The latency the client measured for the last 200 reply, in milliseconds.
    last_latency_ms: float | None = None


class TrafficGenerator:
    """Send inference requests to the model server of each device; see the module docstring."""

    def __init__(self, devices: list[SimulatedDevice], samples: np.ndarray, rate: float = DEFAULT_RATE,
                 input_name: str = "x") -> None:
        if not (math.isfinite(rate) and rate >= 0):
            raise ValueError(f"invalid traffic rate {rate!r}: give requests per second, 0 or more")
        self.rate = rate
        self.counts = {device.name: TrafficCounts() for device in devices}
        self._devices = devices
        # One sample without its leading samples axis has the model's input shape, such as (1, 3, 224, 224).
        self._samples = [np.ascontiguousarray(sample, dtype=np.float32) for sample in samples]
        self._input_name = input_name
        self._tasks: list[asyncio.Task] = []
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        """Start one task per device."""
        connections = max(2, len(self._devices) * 2)
        self._client = httpx.AsyncClient(
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            timeout=httpx.Timeout(REQUEST_TIMEOUT_S, connect=5.0),
            trust_env=False,
        )
        for device in self._devices:
            worker = _DeviceTraffic(device, self, self.counts[device.name])
            self._tasks.append(asyncio.create_task(worker.run(), name=f"traffic-{device.name}"))
        logger.info("traffic generator started: %d devices, %g requests/s each", len(self._devices), self.rate)

    async def stop(self) -> None:
        """Cancel the tasks (each resumes a server it paused) and close the connections."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        for name, counts in self.counts.items():
            logger.info("%s: traffic stopped: %d sent, %d ok, %d rejected (400), %d failed, %d skipped",
                        name, counts.sent, counts.ok, counts.rejected, counts.failed, counts.skipped)

    def make_body(self, rng: np.random.Generator, faults: Faults) -> tuple[bytes, str]:
        """Return a request body and the shape it declares, with noise, drift and malformed bodies applied."""
        sample = self._samples[int(rng.integers(len(self._samples)))]
        values = sample + rng.standard_normal(sample.shape, dtype=np.float32) * np.float32(NOISE_STD)
        if faults.drift:
            values = values * np.float32(1 + faults.drift) + np.float32(faults.drift)
        body = values.astype(np.float32).tobytes()
        if faults.error_rate and rng.random() < faults.error_rate:
            # Half the bytes of the declared shape: the server cannot build the tensor and rejects it with 400.
            body = body[: len(body) // 2]
        return body, ",".join(str(size) for size in sample.shape)

    @property
    def client(self) -> httpx.AsyncClient:
        assert self._client is not None, "start() the generator first"
        return self._client

    @property
    def input_name(self) -> str:
        return self._input_name


class _DeviceTraffic:
    """The request loop of one device."""

    def __init__(self, device: SimulatedDevice, generator: TrafficGenerator, counts: TrafficCounts) -> None:
        self.device = device
        self.generator = generator
        self.counts = counts
        self.faults = Faults()
        self.port: int | None = None
        self.in_flight: set[asyncio.Task] = set()
        self.rng = np.random.default_rng()
        self.arrivals = random.Random()
        self.pause_delay_s = _PAUSE_DELAY_START_S
        self.next_pause_at = 0.0
        self.pausing = False
        self.failing = False

    async def run(self) -> None:
        next_read = 0.0
        try:
            while True:
                now = time.monotonic()
                if now >= next_read:
                    self.faults = self.device.faults.current()
                    self._find_port()
                    next_read = now + SWITCH_READ_S
                rate = self.faults.traffic_rate if self.faults.traffic_rate is not None else self.generator.rate
                if rate <= 0 or self.port is None:
                    await asyncio.sleep(max(0.0, next_read - time.monotonic()))
                    continue
                self._launch()
                # Poisson arrivals, but the switches are read again at least once a second.
                await asyncio.sleep(min(self.arrivals.expovariate(rate), SWITCH_READ_S))
        finally:
            for task in self.in_flight:
                task.cancel()
            await asyncio.gather(*self.in_flight, return_exceptions=True)

    def _find_port(self) -> None:
        port = serve_port(self.device)
        if port != self.port:
            if port is None:
                logger.info("%s: traffic paused: no model server listens (no telemetry/serve.json)", self.device.name)
            else:
                logger.info("%s: traffic to 127.0.0.1:%d", self.device.name, port)
            self.port = port

    def _launch(self) -> None:
        if len(self.in_flight) >= MAX_IN_FLIGHT:
            self.counts.skipped += 1
            return
        task = asyncio.create_task(self._request(self.faults, self.port))
        self.in_flight.add(task)
        task.add_done_callback(self.in_flight.discard)

    async def _request(self, faults: Faults, port: int) -> None:
        body, shape = self.generator.make_body(self.rng, faults)
        params = {"shape": shape, "dtype": "float32", "input": self.generator.input_name}
        url = f"http://{LISTEN_HOST}:{port}/v1/infer"
        headers = {"Content-Type": "application/octet-stream"}
        self.counts.sent += 1
        started = time.monotonic()
        post = asyncio.create_task(self.generator.client.post(url, content=body, params=params, headers=headers))
        paused_ms = None
        try:
            if faults.latency_spike_ms and self._may_pause():
                paused_ms = await self._pause_during(post, faults.latency_spike_ms)
            response = await post
        except httpx.HTTPError as exc:
            self._record_failure(f"{type(exc).__name__}: {exc}")
            return
        finally:
            if not post.done():
                post.cancel()
        client_ms = (time.monotonic() - started) * 1000
        if response.status_code == 200:
            self.counts.ok += 1
            self.counts.last_latency_ms = client_ms
            self._recovered()
        elif response.status_code == 400:
            self.counts.rejected += 1
        else:
            self._record_failure(f"HTTP {response.status_code}: {response.text[:200]}")
        if paused_ms is not None:
            self._adjust_pause_delay(paused_ms, client_ms, response.headers.get("X-Latency-Ms"))

    def _may_pause(self) -> bool:
        now = time.monotonic()
        if self.pausing or now < self.next_pause_at:
            return False
        self.next_pause_at = now + 1 / MAX_PAUSES_PER_S
        return True

    async def _pause_during(self, post: asyncio.Task, spike_ms: int) -> float | None:
        """Pause the server shortly after the request went out; return the pause in ms, or None when skipped."""
        await asyncio.sleep(self.pause_delay_s)
        pid = serve_pid(self.device)
        if post.done() or pid is None:
            if post.done():
                # The reply came before the pause: pause sooner next time.
                self.pause_delay_s = max(_PAUSE_DELAY_MIN_S, self.pause_delay_s / 2)
            return None
        self.pausing = True
        try:
            send_signal(pid, signal.SIGSTOP)
            self.counts.pauses += 1
            await asyncio.sleep(spike_ms / 1000)
        finally:
            # Always resume, also when the generator stops or the switch was cleared meanwhile.
            send_signal(pid, signal.SIGCONT)
            self.pausing = False
        return float(spike_ms)

    def _adjust_pause_delay(self, paused_ms: float, client_ms: float, server_latency: str | None) -> None:
        """Move the pause so that it lands while the server measures the request.

        The server's clock may start only once it has read the request; a pause
        before that delays the reply without raising the latency it reports.
        """
        try:
            server_ms = float(server_latency) if server_latency is not None else None
        except ValueError:
            server_ms = None
        if server_ms is None or server_ms >= paused_ms / 2:
            return
        if client_ms >= paused_ms / 2:
            self.pause_delay_s = min(_PAUSE_DELAY_MAX_S, self.pause_delay_s + 0.001)

    def _record_failure(self, error: str) -> None:
        self.counts.failed += 1
        if not self.failing:
            logger.warning("%s: inference request failed: %s; later failures are counted until one succeeds",
                           self.device.name, error)
            self.failing = True
        # The server may have restarted on another port.
        self.port = serve_port(self.device)

    def _recovered(self) -> None:
        if self.failing:
            logger.info("%s: inference requests succeed again (%d failed so far)", self.device.name, self.counts.failed)
            self.failing = False

