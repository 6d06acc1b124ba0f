"""Fault switches of a simulated device, stored in DIR/<name>/faults.json.

`sample-fleet fault` writes the file from another process. The fleet reads it
when a session or an SFTP write transfer starts, so a switch takes effect at
the next one without any IPC. The fleet clears a one-shot switch when it
triggers. Both sides hold an flock on DIR/<name>/faults.lock while they
change the file, so a trigger and a new setting never overwrite each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fcntl
import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncssh

logger = logging.getLogger("sample_fleet")

FAULTS_FILE = "faults.json"
LOCK_FILE = "faults.lock"
# The device shim reports this many free megabytes instead of measuring the disk.
FAKE_FREE_MB_ENV = "EDGETUI_SHIM_FAKE_FREE_MB"
# The shim appends to this journal (relative to the home folder) as activation starts.
JOURNAL_PATH = Path(".edgetui") / "journal.jsonl"
# An exec command line containing this runs the shim's `activate` command.
ACTIVATE_MARKER = " activate"
BYTES_PER_KB = 1000
# Limits of the traffic switches. A pause of more than 10 s would only time requests out.
# A drift above 10 moves inputs far outside anything the model saw. A rate above 100
# requests/s per device no longer fits the laptop that runs the fleet.
MAX_LATENCY_SPIKE_MS = 10_000
MAX_DRIFT = 10.0
MAX_TRAFFIC_RATE = 100.0

# How often the activation watcher checks whether the journal grew.
_JOURNAL_POLL_SECONDS = 0.01
# Bound of the journal watch; a session normally ends long before.
_JOURNAL_WATCH_LIMIT_SECONDS = 3600.0
# Bytes a throttled link may send at once after being idle, as seconds of its rate.
_BURST_SECONDS = 0.1


class FaultFileError(ValueError):
    """faults.json exists but is not a valid fault file."""


@dataclass(frozen=True)
class Faults:
    """The fault switches of one device; the defaults mean no fault."""

    # One-shot: cut the connection after this many bytes of an SFTP write transfer.
    cut_after_bytes: int | None = None
    # One-shot: SIGKILL the next exec session whose command contains " activate".
    kill_on_activate: bool = False
    # Kill that many milliseconds after the session starts; None: when the journal grows.
    kill_after_ms: int | None = None
    # Persistent: the shim reports no free space and SFTP writes fail.
    disk_full: bool = False
    # Persistent: client-to-device bytes are throttled to this many KB (1000 bytes) per second.
    slow_link_kbps: float | None = None
    # Traffic switches, read by the traffic generator every second (see sample_fleet/traffic.py).
    # Pause the device's model server with SIGSTOP for this many milliseconds during requests.
    latency_spike_ms: int | None = None
    # Fraction of requests sent malformed, which the model server rejects with HTTP 400.
    error_rate: float | None = None
    # Inputs become x * (1 + drift) + drift, so the model's outputs move.
    drift: float | None = None
    # Requests per second to this device, replacing the fleet's --traffic-rate; 0 stops its traffic.
    traffic_rate: float | None = None

    def describe(self) -> str:
        """Return the switches that are set, as a short human-readable list."""
        parts = []
        if self.cut_after_bytes is not None:
            parts.append(f"cut-after-bytes {self.cut_after_bytes} (one-shot)")
        if self.kill_on_activate:
            trigger = "first journal line" if self.kill_after_ms is None else f"after {self.kill_after_ms} ms"
            parts.append(f"kill-on-activate, {trigger} (one-shot)")
        if self.disk_full:
            parts.append("disk-full")
        if self.slow_link_kbps is not None:
            parts.append(f"slow-link {self.slow_link_kbps:g} KB/s")
        if self.latency_spike_ms is not None:
            parts.append(f"latency-spike {self.latency_spike_ms} ms")
        if self.error_rate is not None:
            parts.append(f"error-rate {self.error_rate:g}")
        if self.drift is not None:
            parts.append(f"drift {self.drift:g}")
        if self.traffic_rate is not None:
            parts.append(f"traffic-rate {self.traffic_rate:g}/s")
        return ", ".join(parts) if parts else "no faults"

    def environment(self) -> dict[str, str]:
        """Return the environment variables that a session gets for these faults."""
        return {FAKE_FREE_MB_ENV: "0"} if self.disk_full else {}

    def to_json(self) -> str:
        """Return the faults.json text of these switches."""
        return json.dumps(dataclasses.asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Faults:
        """Parse faults.json text; missing keys take their default. Raises FaultFileError."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FaultFileError(f"invalid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise FaultFileError("expected a JSON object")
        unknown = set(data) - {field.name for field in dataclasses.fields(cls)}
        if unknown:
            raise FaultFileError(f"unknown keys: {', '.join(sorted(unknown))}")
        faults = cls(**data)
        faults.validate()
        return faults

    def validate(self) -> None:
        """Raise FaultFileError when a value has the wrong type or range."""
        if not _is_count(self.cut_after_bytes, minimum=0):
            raise FaultFileError(f"cut_after_bytes must be null or an integer >= 0, not {self.cut_after_bytes!r}")
        if not _is_count(self.kill_after_ms, minimum=0):
            raise FaultFileError(f"kill_after_ms must be null or an integer >= 0, not {self.kill_after_ms!r}")
        for name in ("kill_on_activate", "disk_full"):
            if not isinstance(getattr(self, name), bool):
                raise FaultFileError(f"{name} must be true or false, not {getattr(self, name)!r}")
        rate = self.slow_link_kbps
        if rate is not None and (isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0):
            raise FaultFileError(f"slow_link_kbps must be null or a number > 0, not {rate!r}")
        if not _is_count(self.latency_spike_ms, minimum=1) or (self.latency_spike_ms or 0) > MAX_LATENCY_SPIKE_MS:
            raise FaultFileError(
                f"latency_spike_ms must be null or an integer from 1 to {MAX_LATENCY_SPIKE_MS}, "
                f"not {self.latency_spike_ms!r}"
            )
        if self.error_rate is not None and not (_is_number(self.error_rate) and 0 <= self.error_rate <= 1):
            raise FaultFileError(f"error_rate must be null or a number from 0 to 1, not {self.error_rate!r}")
        if self.drift is not None and not (_is_number(self.drift) and -1 < self.drift <= MAX_DRIFT):
            raise FaultFileError(f"drift must be null or a number above -1 and at most {MAX_DRIFT}, not {self.drift!r}")
        traffic = self.traffic_rate
        if traffic is not None and not (_is_number(traffic) and 0 <= traffic <= MAX_TRAFFIC_RATE):
            raise FaultFileError(
                f"traffic_rate must be null or a number of requests per second from 0 to {MAX_TRAFFIC_RATE}, "
                f"not {traffic!r}"
            )


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_count(value: object, minimum: int) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= minimum)


def read_faults(directory: Path) -> Faults:
    """Read DIR/<name>/faults.json from the device folder `directory`; no file means no faults."""
    try:
        text = (directory / FAULTS_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return Faults()
    return Faults.from_json(text)


def update_faults(directory: Path, change: Callable[[Faults], Faults], keep_current: bool = True) -> Faults:
    """Replace the device's faults with `change(current)` under the lock, and return them.

    With keep_current=False the file is not read and `change` gets no faults,
    so an invalid file can still be replaced. The file is written to a
    temporary name and renamed, so readers without the lock see either the
    old or the new switches. No faults remove the file.
    """
    with _locked(directory):
        new = change(read_faults(directory) if keep_current else Faults())
        new.validate()
        path = directory / FAULTS_FILE
        if new == Faults():
            path.unlink(missing_ok=True)
        else:
            temporary = directory / f".{FAULTS_FILE}.{os.getpid()}.tmp"
            temporary.write_text(new.to_json(), encoding="utf-8")
            os.replace(temporary, path)
        return new


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class TokenBucket:
    """A token bucket that delays data to a rate in bytes per second; no rate means no limit.

    A transfer may take more tokens than the bucket holds: it then waits until
    the debt is paid, so large SFTP packets are throttled as well as small ones.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._rate: float | None = None
        self._tokens = 0.0
        self._updated = clock()

    @property
    def rate(self) -> float | None:
        """Bytes per second, or None for no limit."""
        return self._rate

    def set_rate(self, bytes_per_second: float | None) -> None:
        """Change the rate; a new or changed limit starts with a full bucket."""
        if bytes_per_second == self._rate:
            return
        self._rate = bytes_per_second
        self._tokens = self._capacity()
        self._updated = self._clock()

    def reserve(self, size: int) -> float:
        """Take `size` bytes of tokens and return how many seconds the caller must wait first."""
        if self._rate is None:
            return 0.0
        now = self._clock()
        self._tokens = min(self._capacity(), self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        self._tokens -= size
        return 0.0 if self._tokens >= 0 else -self._tokens / self._rate

    async def consume(self, size: int) -> None:
        """Wait until `size` bytes may pass at the current rate."""
        delay = self.reserve(size)
        if delay > 0:
            await asyncio.sleep(delay)

    def _capacity(self) -> float:
        return 0.0 if self._rate is None else self._rate * _BURST_SECONDS


class DeviceFaults:
    """The fleet's view of one device's fault switches, and the throttle of its link."""

    def __init__(self, name: str, directory: Path) -> None:
        self.name = name
        self.directory = directory
        # One bucket for all connections of the device, as they share one link.
        self.uplink = TokenBucket()
        self._last_description = "no faults"

    def current(self) -> Faults:
        """Read the switches now, apply the link rate, and log when they changed.

        An invalid file is logged and counts as no faults, so a typo made by
        hand never stops the device from serving.
        """
        try:
            faults = read_faults(self.directory)
        except (FaultFileError, OSError) as exc:
            logger.warning("%s: ignoring %s: %s", self.name, self.directory / FAULTS_FILE, exc)
            faults = Faults()
        rate = None if faults.slow_link_kbps is None else faults.slow_link_kbps * BYTES_PER_KB
        self.uplink.set_rate(rate)

        description = faults.describe()
        if description != self._last_description:
            if faults == Faults():
                logger.info("%s: faults cleared", self.name)
            else:
                logger.info("%s: faults now in effect: %s", self.name, description)
            self._last_description = description
        return faults

    def claim(self, field: str) -> bool:
        """Clear the one-shot switch `field` if it is still set, and return whether it was.

        Only the claimant triggers the fault, so two transfers or sessions
        that start together never both fire a one-shot switch.
        """
        claimed = False

        def clear(faults: Faults) -> Faults:
            nonlocal claimed
            claimed = getattr(faults, field) not in (None, False)
            if not claimed:
                return faults
            if field == "kill_on_activate":
                return dataclasses.replace(faults, kill_on_activate=False, kill_after_ms=None)
            return dataclasses.replace(faults, **{field: None})

        try:
            update_faults(self.directory, clear)
        except (FaultFileError, OSError) as exc:
            logger.warning("%s: cannot clear the one-shot fault %s, so it does not trigger: %s", self.name, field, exc)
            return False
        return claimed


class DeviceSFTPServer(asyncssh.SFTPServer):
    """The device's SFTP server: applies disk-full, slow-link and cut-after-bytes to writes.

    A transfer starts at the first write to an open file; the switches are
    read then and kept until the file is closed.
    """

    def __init__(self, channel: asyncssh.SSHServerChannel, faults: DeviceFaults, chroot: bytes) -> None:
        super().__init__(channel, chroot=chroot)
        self._faults = faults
        self._transfers: dict[object, _Transfer] = {}

    async def write(self, file_obj: object, offset: int, data: bytes) -> int:
        """Write `data` unless a fault rejects it, throttles it or cuts the connection first."""
        transfer = self._transfers.get(file_obj)
        if transfer is None:
            transfer = _Transfer(self._faults.current())
            self._transfers[file_obj] = transfer
        if transfer.faults.disk_full:
            if not transfer.rejection_logged:
                logger.info("%s: fault disk-full triggered: SFTP writes to a file rejected", self._faults.name)
                transfer.rejection_logged = True
            raise asyncssh.SFTPNoSpaceOnFilesystem("No space left on device (sample_fleet fault disk-full)")

        await self._faults.uplink.consume(len(data))

        cut_at = transfer.faults.cut_after_bytes
        if cut_at is not None and transfer.received + len(data) >= cut_at and self._faults.claim("cut_after_bytes"):
            prefix_size = cut_at - transfer.received
            written = super().write(file_obj, offset, data[:prefix_size]) if prefix_size > 0 else 0
            logger.info(
                "%s: fault cut-after-bytes triggered: connection cut after %d bytes of an SFTP upload; "
                "the one-shot switch is cleared",
                self._faults.name, cut_at,
            )
            # abort() drops the TCP connection without an SSH disconnect message, as a lost link would.
            self.connection.abort()
            transfer.faults = Faults()
            return written
        transfer.received += len(data)
        return super().write(file_obj, offset, data)

    def close(self, file_obj: object) -> None:
        """Close the file and forget its transfer."""
        self._transfers.pop(file_obj, None)
        super().close(file_obj)


@dataclass
class _Transfer:
    faults: Faults
    received: int = 0
    # Set once the disk-full rejection of this file is logged, so a transfer logs it once.
    rejection_logged: bool = False


def is_activation(command: str | None) -> bool:
    """Return whether an exec command line runs the shim's activate command."""
    return command is not None and ACTIVATE_MARKER in command


class ActivationKiller:
    """The kill-on-activate switch of one activation session.

    The trigger is `armed.kill_after_ms` after the start or, without it, the
    moment the journal grows, which the shim does as its first activation
    step. Create it before the session's process starts, so that the journal
    size it compares with predates anything the session writes.

    NOTE: the journal is checked every 10 ms, so the shim may have switched
    `current` or restarted its server before the kill lands.
    """

    def __init__(self, faults: DeviceFaults, armed: Faults, home: Path) -> None:
        self._faults = faults
        self._armed = armed
        self._journal = home / JOURNAL_PATH
        self._journal_size = _file_size(self._journal)

    async def run(self, kill: Callable[[], None]) -> None:
        """Call `kill` at the trigger if this session claims the switch; run as a task cancelled at session end."""
        if self._armed.kill_after_ms is not None:
            await asyncio.sleep(self._armed.kill_after_ms / 1000)
        elif not await self._wait_for_journal_growth():
            # The switch stays set for the next activation.
            return
        if self._faults.claim("kill_on_activate"):
            logger.info(
                "%s: fault kill-on-activate triggered: SIGKILL to the activation session; "
                "the one-shot switch is cleared", self._faults.name,
            )
            kill()

    async def _wait_for_journal_growth(self) -> bool:
        for _ in range(int(_JOURNAL_WATCH_LIMIT_SECONDS / _JOURNAL_POLL_SECONDS)):
            await asyncio.sleep(_JOURNAL_POLL_SECONDS)
            if _file_size(self._journal) > self._journal_size:
                return True
        return False


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
