"""Collector: one long-lived telemetry stream per device, parsed, deduplicated and stored.

Each device gets a task that runs the shim's `stream --after SEQ --stream ID`
on a long-lived SSH channel, parses each line, and queues new samples for the
TelemetryWriter, which stores them in a worker thread. When the channel closes,
the connection drops or the device goes silent, the device counts as offline
and the task reconnects with exponential backoff. The device then replays what
its spool kept since SEQ, and the (device, stream, seq) key drops repeats.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import asyncssh

from edgetui.domain import Device
from edgetui.errors import DeviceError
from edgetui.shim_client import PythonMissing, ShimClient, ShimStream
from edgetui.ssh import CommandTimeout, ConnectionLost, ConnectTimeout, SSHPool, Unreachable
from edgetui.telemetry.collector_writer import TelemetryWriter, WriteResult
from edgetui.telemetry.link_state import UNSUPPORTED_RETRY_S, Backoff, LinkState
from edgetui.telemetry.samples import GarbageLine, Sample, StreamNotice, excerpt, parse_line

logger = logging.getLogger("edgetui.telemetry.collector")

# Tests replace the shim's stream command with a scripted emitter:
# command_factory(device, after_seq, stream_id) returns the command line to run.
CommandFactory = Callable[[Device, "int | None", "str | None"], str]

# Failures that mean the device or its link is down; the device is "offline".
OFFLINE_ERRORS = (Unreachable, ConnectTimeout, ConnectionLost, CommandTimeout, asyncssh.Error, OSError)

# Garbage lines logged in full per connection before only every GARBAGE_LOG_EVERY-th is.
GARBAGE_LOGGED_PER_CONNECTION = 5
GARBAGE_LOG_EVERY = 100

# Connections beyond one per streaming device, for jump hosts and other devices' operations.
EXTRA_CONNECTIONS = 4


class StreamEnded(Exception):
    """The device's stream ended, or sent nothing for longer than the idle timeout."""


class ShimReplyError(Exception):
    """The device's shim replied with an error instead of telemetry."""


@dataclass(eq=False)
class _Link:
    """The collector's working state for one device."""

    device: Device
    log: logging.Logger
    backoff: Backoff
    state: LinkState = field(default_factory=LinkState)
    # Highest seq received per stream id, the resume point for --after.
    last_seq: dict[str, int] = field(default_factory=dict)
    stream_id: str | None = None
    clock_offset_s: float | None = None
    resume_loaded: bool = False
    streaming_since: float | None = None
    garbage_this_connection: int = 0
    handle: ShimStream | None = None
    task: asyncio.Task | None = None


class Collector:
    """Streams telemetry from devices into a TelemetryStore until stopped.

    ``on_sample(device, sample)`` runs for every new sample, and
    ``on_state(device, link_state)`` whenever a device's state, error or
    reconnect count changes; ``on_alert(change)`` for every alert that opens or
    resolves. All three run on the event loop thread. The intervals and timeouts
    are keyword options so that tests can shorten them.
    """

    def __init__(
        self,
        store: Any,
        pool: SSHPool,
        shim: ShimClient,
        devices: Iterable[Device],
        *,
        on_sample: Callable[[str, Sample], None] | None = None,
        on_state: Callable[[str, LinkState], None] | None = None,
        on_alert: Callable[[Any], None] | None = None,
        retention: tuple[float, float] = (86400.0, 30 * 86400.0),
        command_factory: CommandFactory | None = None,
        flush_interval: float = 0.5,
        alert_interval: float = 5.0,
        prune_interval: float = 3600.0,
        idle_timeout: float = 20.0,
        first_line_timeout: float = 90.0,
        healthy_after: float = 60.0,
        backoff: tuple[float, float] = (0.5, 30.0),
        unsupported_retry: float = UNSUPPORTED_RETRY_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._pool = pool
        self._shim = shim
        self._on_sample = on_sample
        self._on_state = on_state
        self._command_factory = command_factory
        # The shim's stream sends a heartbeat after 5 s of silence, so a longer
        # silence means a stalled device or a dead link.
        self._idle_timeout = idle_timeout
        self._first_line_timeout = first_line_timeout
        self._healthy_after = healthy_after
        self._unsupported_retry = unsupported_retry
        self._clock = clock
        self._links: dict[str, _Link] = {}
        for device in devices:
            if device.name in self._links:
                raise ValueError(f"Device {device.name} is listed twice; each device gets one telemetry stream")
            self._links[device.name] = _Link(device, logger.getChild(device.name), Backoff(*backoff))
        self._writer = TelemetryWriter(
            store,
            online=self._last_received,
            on_written=self._count_written,
            on_alert=on_alert,
            retention=retention,
            flush_interval=flush_interval,
            alert_interval=alert_interval,
            prune_interval=prune_interval,
            clock=clock,
        )
        self._writer_task: asyncio.Task | None = None
        self._started = False
        self._stopping = False

    @property
    def writer(self) -> TelemetryWriter:
        """The writer that stores what the streams deliver."""
        return self._writer

    def status(self, name: str) -> LinkState:
        """Return the link state of one device; an unknown name raises KeyError."""
        return self._links[name].state

    def states(self) -> dict[str, LinkState]:
        """Return the link state of every device, by name."""
        return {name: link.state for name, link in self._links.items()}

    async def start(self) -> None:
        """Start the writer and one stream task per device; returns at once."""
        if self._started:
            raise RuntimeError("this Collector is already started")
        self._started = True

        # A stream keeps its connection in use for as long as it runs, so with fewer
        # slots than devices the devices beyond the limit would wait forever.
        needed = len(self._links) + EXTRA_CONNECTIONS
        if self._pool.max_connections < needed:
            logger.info(
                "Raising the SSH pool's max_connections from %d to %d so that every device's stream keeps a connection",
                self._pool.max_connections, needed,
            )
            self._pool.max_connections = needed

        self._writer_task = asyncio.create_task(self._writer.run(), name="telemetry-writer")
        for name, link in self._links.items():
            link.task = asyncio.create_task(self._run(link), name=f"telemetry-{name}")
        logger.info("Collecting telemetry from %d devices", len(self._links))

    async def stop(self) -> None:
        """Close every stream, wait for the device tasks and store what was still queued."""
        if not self._started or self._stopping:
            return
        self._stopping = True

        for link in self._links.values():
            if link.handle is not None:
                link.handle.write_eof()
                link.handle.close()
        tasks = [link.task for link in self._links.values() if link.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

        if self._writer_task is not None:
            self._writer_task.cancel()
            await asyncio.gather(self._writer_task, return_exceptions=True)
        await self._writer.flush()
        logger.info("Stopped collecting telemetry from %d devices", len(self._links))

    # One device

    async def _run(self, link: _Link) -> None:
        """Stream from one device, reconnecting after each failure until the task is cancelled."""
        name = link.device.name
        link.log.info("Starting the telemetry stream of device %s", name)
        while True:
            # An unsupported device keeps its state while the rare retry runs, so the TUI does not flicker.
            if link.state.state != "unsupported":
                self._update(link, state="connecting")
            try:
                await self._stream_once(link)
            except PythonMissing as exc:
                # No backoff and no warning: retrying soon cannot help until python3 is installed.
                if self._stopping:
                    return
                await self._wait_unsupported(link, _reason(exc))
                continue
            except (StreamEnded, *OFFLINE_ERRORS) as exc:
                state, reason = "offline", _reason(exc)
            except (ShimReplyError, DeviceError) as exc:
                state, reason = "error", _reason(exc)
            except Exception as exc:
                # Any other failure is a bug; the device keeps being retried so one bad line cannot stop collection.
                link.log.exception("Telemetry stream of device %s failed unexpectedly", name)
                state, reason = "error", _reason(exc)
            finally:
                link.handle = None
            if self._stopping:
                return

            if link.streaming_since is not None and time.monotonic() - link.streaming_since >= self._healthy_after:
                link.backoff.reset()
            link.streaming_since = None
            delay = link.backoff.next_delay()
            reconnects = link.state.reconnects + 1
            self._update(link, state=state, last_error=reason, reconnects=reconnects)
            link.log.warning(
                "Telemetry stream of device %s is %s: %s. Reconnect %d in %.1f s", name, state, reason, reconnects, delay
            )
            await asyncio.sleep(delay)

    async def _wait_unsupported(self, link: _Link, reason: str) -> None:
        """Mark the device "unsupported", log that once at INFO, and wait the long unsupported_retry delay."""
        name = link.device.name
        if link.state.state != "unsupported":
            link.log.info(
                "Device %s cannot stream telemetry: %s Checking again every %.0f s", name, reason,
                self._unsupported_retry,
            )
        else:
            link.log.debug("Device %s still has no python3; checking again in %.0f s", name, self._unsupported_retry)
        link.streaming_since = None
        link.backoff.reset()
        self._update(link, state="unsupported", last_error=reason)
        await asyncio.sleep(self._unsupported_retry)

    async def _stream_once(self, link: _Link) -> None:
        """Open the stream, then handle its lines until it ends; always raises when it ends."""
        await self._load_resume_point(link)
        after = link.last_seq.get(link.stream_id) if link.stream_id is not None else None
        handle = await self._open(link, after)
        link.handle = handle
        link.garbage_this_connection = 0
        if self._stopping:
            handle.close()
            raise StreamEnded("the collector is stopping")
        link.log.info("Stream of device %s opened (stream %s, after seq %s)", link.device.name, link.stream_id, after)

        try:
            while True:
                try:
                    line = await asyncio.wait_for(handle.readline(), self._idle_timeout)
                except TimeoutError as exc:
                    raise StreamEnded(f"no line for {self._idle_timeout:g} s, not even a heartbeat") from exc
                if not line:
                    raise StreamEnded(await _ending(handle))
                if not line.endswith(b"\n"):
                    # A line cut off by a closing channel: the replay after the reconnect sends it whole.
                    link.log.debug("Discarded the incomplete last line of device %s: %r", link.device.name, line[:80])
                    raise StreamEnded(await _ending(handle))
                await self._handle_line(link, line, self._clock())
        finally:
            handle.write_eof()
            handle.close()

    async def _load_resume_point(self, link: _Link) -> None:
        """Read the device's latest stream id and its last stored seq, once per collector."""
        if link.resume_loaded:
            return
        name = link.device.name
        latest = await asyncio.to_thread(self._store.latest, name)
        stream = latest.get("stream") if latest else None
        if stream:
            last = await asyncio.to_thread(self._store.last_seq, name, stream)
            link.stream_id = stream
            if last is not None:
                link.last_seq[stream] = last
        link.resume_loaded = True

    async def _open(self, link: _Link, after: int | None) -> ShimStream:
        """Start the stream command: the shim's `stream`, or the test emitter of command_factory."""
        if self._command_factory is not None:
            command = self._command_factory(link.device, after, link.stream_id)
            process = await self._pool.start_process(link.device, command)
            return ShimStream(process, None)
        args: list[str] = []
        if link.stream_id is not None and after is not None:
            args = ["--after", str(after), "--stream", link.stream_id]
        return await self._shim.open_stream(link.device, "stream", args, first_line_timeout=self._first_line_timeout)

    # Lines

    async def _handle_line(self, link: _Link, line: bytes, received_at: float) -> None:
        """Parse one line and act on it; garbage is counted and skipped."""
        try:
            item = parse_line(line)
        except GarbageLine as exc:
            error_reply = _shim_error_reply(line)
            if error_reply is not None:
                raise ShimReplyError(f"the device shim replied with an error instead of telemetry: {error_reply}") from exc
            self._count_garbage(link, exc)
            return

        if link.state.state != "streaming":
            link.streaming_since = time.monotonic()
            self._update(link, state="streaming", last_error=None)
        if isinstance(item, Sample):
            self._handle_sample(link, item, received_at)
        else:
            await self._handle_notice(link, item, received_at)

    def _handle_sample(self, link: _Link, sample: Sample, received_at: float) -> None:
        """Queue a new sample for the store and report it; count a repeated one as a duplicate."""
        name = link.device.name
        last = link.last_seq.get(sample.stream)
        if last is not None and sample.seq <= last:
            self._update(link, duplicates=link.state.duplicates + 1, last_received_at=received_at)
            return
        link.last_seq[sample.stream] = sample.seq

        offset = link.clock_offset_s
        if offset is None or sample.stream != link.stream_id:
            # Without a hello for this stream there is no offset to apply.
            offset = 0.0
        self._writer.add_sample(name, sample, received_at, offset)
        self._update(link, samples=link.state.samples + 1, last_received_at=received_at)
        if self._on_sample is not None:
            try:
                self._on_sample(name, sample)
            except Exception:
                link.log.exception("The on_sample callback failed for device %s", name)

    async def _handle_notice(self, link: _Link, notice: StreamNotice, received_at: float) -> None:
        """Apply a hello (stream id, clock offset), a dropped notice or a heartbeat."""
        name = link.device.name
        if notice.type == "hello":
            assert notice.stream is not None and notice.device_ts is not None
            if notice.stream != link.stream_id:
                if link.stream_id is not None:
                    link.log.info("Device %s started a new stream %s (was %s)", name, notice.stream, link.stream_id)
                link.stream_id = notice.stream
                if notice.stream not in link.last_seq:
                    last = await asyncio.to_thread(self._store.last_seq, name, notice.stream)
                    if last is not None:
                        link.last_seq[notice.stream] = last
            link.clock_offset_s = received_at - notice.device_ts
            self._writer.add_notice(name, notice, received_at, notice.stream)
            link.log.info(
                "Device %s streams %s from seq %s; its clock is %+.3f s off this computer's",
                name, notice.stream, notice.next_seq, -link.clock_offset_s,
            )
            self._update(
                link, stream=notice.stream, clock_offset_s=link.clock_offset_s, last_received_at=received_at
            )
            return

        if notice.type == "dropped":
            assert notice.count is not None
            link.log.warning(
                "Device %s dropped %d samples (seq %s to %s) from its spool before the console read them",
                name, notice.count, notice.first_seq, notice.last_seq,
            )
            # The store counts the dropped samples once, even when a replay reports them again.
            self._writer.add_notice(name, notice, received_at, notice.stream)
            self._update(link, last_received_at=received_at)
            return

        # A heartbeat only shows that the device and the link are alive.
        self._writer.add_notice(name, notice, received_at, link.stream_id)
        self._update(link, last_received_at=received_at)

    def _count_garbage(self, link: _Link, exc: GarbageLine) -> None:
        """Count a line that is not telemetry and log it, fully for the first few of each connection."""
        garbage = link.state.garbage + 1
        link.garbage_this_connection += 1
        self._update(link, garbage=garbage)
        self._writer.add_garbage(link.device.name, link.stream_id)
        if link.garbage_this_connection <= GARBAGE_LOGGED_PER_CONNECTION or garbage % GARBAGE_LOG_EVERY == 0:
            link.log.warning(
                "Skipped a line from device %s that is not telemetry (%d so far): %s; line: %r",
                link.device.name, garbage, exc.reason, exc.excerpt,
            )

    # State

    def _update(self, link: _Link, **changes: Any) -> None:
        """Replace the device's LinkState and report a change of state, error or reconnect count."""
        before = link.state
        link.state = dataclasses.replace(before, **changes)
        after = link.state
        changed = (before.state, before.last_error, before.reconnects) != (after.state, after.last_error, after.reconnects)
        if changed and self._on_state is not None:
            try:
                self._on_state(link.device.name, after)
            except Exception:
                link.log.exception("The on_state callback failed for device %s", link.device.name)

    def _last_received(self) -> dict[str, float | None]:
        return {name: link.state.last_received_at for name, link in self._links.items()}

    def _count_written(self, device: str, result: WriteResult) -> None:
        """Add what the store counted: samples it already had, gaps in seq, and newly dropped samples."""
        link = self._links.get(device)
        if link is None or not (result.duplicates or result.gaps or result.dropped):
            return
        self._update(
            link,
            duplicates=link.state.duplicates + result.duplicates,
            gaps=link.state.gaps + result.gaps,
            dropped=link.state.dropped + result.dropped,
        )


async def _ending(handle: ShimStream) -> str:
    """Describe why a stream's output ended: the exit status and stderr of its command, when known."""
    process = handle.process
    try:
        await asyncio.wait_for(process.wait_closed(), 2.0)
    except TimeoutError:
        return "the stream's output ended"
    try:
        stderr = await asyncio.wait_for(process.stderr.read(2000), 1.0)
    except (TimeoutError, asyncssh.Error, OSError):
        stderr = b""
    text = stderr.decode("utf-8", errors="replace") if isinstance(stderr, bytes) else str(stderr)
    detail = f"; stderr: {excerpt(text)!r}" if text.strip() else ""
    if process.exit_signal:
        return f"the stream command was ended by signal {process.exit_signal[0]}{detail}"
    if process.exit_status is not None:
        return f"the stream command exited with status {process.exit_status}{detail}"
    return f"the channel closed{detail}"


def _shim_error_reply(line: bytes) -> str | None:
    """Return the error of a shim reply such as {"ok": false, "error": ...}, or None for other lines."""
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict) or "type" in data or ("error" not in data and data.get("ok") is not False):
        return None
    code = data.get("code")
    error = data.get("error", "no error text")
    return f"{code}: {error}" if code else str(error)


def _reason(exc: BaseException) -> str:
    """Return an error's message, or its class name when it has none."""
    return str(exc) or type(exc).__name__
