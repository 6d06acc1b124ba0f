"""Recorded-stream mode: serve the shim's `stream` sessions from a recording, for hundreds of devices.

A real model server per device does not fit one laptop at 200 devices, so with
`sample-fleet up --recorded FILE` no server runs. Every device makes one
sample per second from FILE's sample lines (cycled, each device starting at
its own offset) with its own stream id, its own seq and the current time as
device ts, and keeps them in an in-memory spool. A session whose command runs
the shim's `stream` gets what the real command prints: the hello line, the
replay of the spool after --after, then each new sample.

FILE contains JSON lines recorded from a real shim's stream, such as those
`sample-fleet record` writes; lines other than samples are ignored.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import re
import secrets
import shlex
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

import device_shim
from sample_fleet.device import SimulatedDevice

logger = logging.getLogger("sample_fleet")

SAMPLE_INTERVAL_S = 1.0
# The shim's default spool bound: 24 hours at 1 Hz.
SPOOL_MAX_SAMPLES = 86400
HEARTBEAT_AFTER_S = 5.0
SHIM_VERSION = f"{device_shim.__version__} (sample-fleet recorded)"
# The end of the console's launch line for the stream command: `... shim.pyz stream [OPTIONS]`.
_STREAM_COMMAND = re.compile(r"shim\.pyz'?\s+'?stream'?((?:\s.*)?)$")
_CHANNEL_ERRORS = (BrokenPipeError, ConnectionError, asyncssh.Error)
# Exit status of the shim for an invalid command line.
_USAGE_STATUS = 2


class RecordingError(ValueError):
    """The recording file is missing, unreadable or contains no sample line."""


def stream_arguments(command: str | None) -> list[str] | None:
    """Return the arguments after `stream` when an exec command line runs the shim's stream, else None."""
    if command is None:
        return None
    match = _STREAM_COMMAND.search(command.strip())
    if match is None:
        return None
    try:
        return shlex.split(match.group(1))
    except ValueError:
        return None


@dataclass(frozen=True)
class Recording:
    """The sample lines of a recording, without the fields each device replaces."""

    samples: list[dict]
    path: Path

    @classmethod
    def load(cls, path: Path) -> Recording:
        """Read a JSON-lines recording; raise RecordingError naming the file and the line at fault."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RecordingError(f"cannot read the recording {path}: {exc}") from exc
        samples = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError as exc:
                raise RecordingError(f"invalid JSON on line {number} of the recording {path}: {exc}") from exc
            if isinstance(item, dict) and item.get("type") == "sample":
                samples.append({key: value for key, value in item.items() if key not in ("stream", "seq", "ts")})
        if not samples:
            raise RecordingError(
                f"the recording {path} contains no sample line; record one with `sample-fleet record`"
            )
        logger.info("loaded %d recorded samples from %s", len(samples), path)
        return cls(samples, Path(path))


@dataclass
class _DeviceStream:
    """The telemetry state of one recorded device: stream id, next seq, spool and live sessions."""

    name: str
    offset: int
    stream: str = field(default_factory=lambda: secrets.token_hex(8))
    next_seq: int = 1
    dropped_total: int = 0
    spool: collections.deque = field(default_factory=lambda: collections.deque(maxlen=SPOOL_MAX_SAMPLES))
    listeners: set = field(default_factory=set)

    @property
    def oldest_seq(self) -> int | None:
        return self.spool[0][0] if self.spool else None

    def append(self, sample: dict, now: float) -> None:
        line = dict(sample, type="sample", stream=self.stream, seq=self.next_seq, ts=round(now, 3))
        text = json.dumps(line, separators=(",", ":"))
        if len(self.spool) == self.spool.maxlen:
            self.dropped_total += 1
        self.spool.append((self.next_seq, text))
        self.next_seq += 1
        for queue in self.listeners:
            queue.put_nowait(self.spool[-1])


class RecordedStreams:
    """The recorded telemetry of every device of the fleet, and the sessions that stream it."""

    def __init__(self, devices: list[SimulatedDevice], recording: Recording) -> None:
        self.recording = recording
        count = len(recording.samples)
        # A stable offset per name, so that devices do not all show the same sample at once.
        self.streams = {
            device.name: _DeviceStream(device.name, zlib.crc32(device.name.encode()) % count) for device in devices
        }
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        """Start the one task that appends a sample to every device's spool each second."""
        self._task = asyncio.create_task(self._tick(), name="sample-fleet-recorded")
        logger.info("recorded mode: %d devices replay %s", len(self.streams), self.recording.path)

    async def stop(self) -> None:
        """Stop making samples."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
            logger.info("recorded mode stopped")

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        tick = 0
        samples = self.recording.samples
        while True:
            now = time.time()
            for stream in self.streams.values():
                stream.append(samples[(stream.offset + tick) % len(samples)], now)
            tick += 1
            next_at += SAMPLE_INTERVAL_S
            await asyncio.sleep(max(0.0, next_at - loop.time()))

    async def serve_session(self, device: SimulatedDevice, process: asyncssh.SSHServerProcess,
                            arguments: list[str]) -> None:
        """Serve one `stream` session as the shim does, until stdin reaches EOF or the channel closes."""
        stream = self.streams[device.name]
        try:
            after, requested_stream = _parse_options(arguments)
        except ValueError as exc:
            logger.info("%s: recorded stream rejected: %s", device.name, exc)
            _finish(process, _USAGE_STATUS, json.dumps({"error": str(exc)}) + "\n")
            return
        logger.info("%s: recorded stream session start (after %s, stream %s)", device.name, after, requested_stream)

        queue: asyncio.Queue = asyncio.Queue()
        stream.listeners.add(queue)
        stdin_closed = asyncio.create_task(_wait_for_eof(process))
        try:
            last_seq = await self._send_start(process, stream, after, requested_stream)
            await self._follow(process, queue, stdin_closed, last_seq)
        except _CHANNEL_ERRORS as exc:
            logger.info("%s: recorded stream session ended: %s", device.name, exc)
        finally:
            stream.listeners.discard(queue)
            stdin_closed.cancel()
        logger.info("%s: recorded stream session exit", device.name)
        _finish(process, 0, None)

    async def _send_start(self, process: asyncssh.SSHServerProcess, stream: _DeviceStream, after: int | None,
                          requested_stream: str | None) -> int:
        """Write the hello line and the replay; return the last seq written (0 when none)."""
        hello = {
            "type": "hello", "stream": stream.stream, "next_seq": stream.next_seq, "oldest_seq": stream.oldest_seq,
            "dropped_total": stream.dropped_total, "device_ts": round(time.time(), 3), "shim": SHIM_VERSION,
        }
        await _write_line(process, json.dumps(hello, separators=(",", ":")))
        if requested_stream != stream.stream or after is None:
            after = 0
        spooled = list(stream.spool)
        oldest = spooled[0][0] if spooled else stream.next_seq
        if after + 1 < oldest:
            dropped = {"type": "dropped", "stream": stream.stream, "first_seq": after + 1,
                       "last_seq": oldest - 1, "count": oldest - 1 - after}
            await _write_line(process, json.dumps(dropped, separators=(",", ":")))
        last_seq = after
        for seq, text in spooled:
            if seq > after:
                await _write_line(process, text)
                last_seq = seq
        return last_seq

    async def _follow(self, process: asyncssh.SSHServerProcess, queue: asyncio.Queue,
                      stdin_closed: asyncio.Task, last_seq: int) -> None:
        while not stdin_closed.done():
            getter = asyncio.ensure_future(queue.get())
            done, _pending = await asyncio.wait({getter, stdin_closed}, timeout=HEARTBEAT_AFTER_S,
                                                return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                if not done:
                    heartbeat = {"type": "heartbeat", "device_ts": round(time.time(), 3)}
                    await _write_line(process, json.dumps(heartbeat, separators=(",", ":")))
                continue
            seq, text = getter.result()
            # Lines that arrived while the replay was written are in the queue as well.
            if seq > last_seq:
                await _write_line(process, text)
                last_seq = seq


def _parse_options(arguments: list[str]) -> tuple[int | None, str | None]:
    """Return (--after, --stream) of the shim's stream command line; --home is accepted and ignored."""
    options: dict[str, str] = {}
    index = 0
    while index < len(arguments):
        name, has_value, value = arguments[index].partition("=")
        if name not in ("--after", "--stream", "--home"):
            raise ValueError(f"unknown option: {arguments[index]}")
        if not has_value:
            index += 1
            if index >= len(arguments):
                raise ValueError(f"option {name} requires a value")
            value = arguments[index]
        options[name] = value
        index += 1
    after = options.get("--after")
    if after is not None and not after.isdigit():
        raise ValueError(f"--after must be a whole number, not {after!r}")
    return (int(after) if after is not None else None), options.get("--stream")


async def _write_line(process: asyncssh.SSHServerProcess, text: str) -> None:
    process.stdout.write(text.encode() + b"\n")
    await process.stdout.drain()


async def _wait_for_eof(process: asyncssh.SSHServerProcess) -> None:
    try:
        while await process.stdin.read(4096):
            pass
    except asyncssh.Error:
        pass
    except _CHANNEL_ERRORS:
        pass


def _finish(process: asyncssh.SSHServerProcess, status: int, message: str | None) -> None:
    if process.is_closing():
        return
    try:
        if message:
            process.stdout.write(message.encode())
        process.exit(status)
    except _CHANNEL_ERRORS:
        pass
