"""SSHPool: one cached connection per device, a bounded number open at once."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import shlex
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import asyncssh

from edgetui.domain import Device, HostKeyRequest
from edgetui.ssh.config import ResolvedTarget, default_path, jump_device, resolve_target
from edgetui.ssh.connect import ConnectSettings, open_connection
from edgetui.ssh.errors import CommandTimeout, ConnectionLost, ConnectTimeout, HostKeyUnknown, SSHError, Unreachable
from edgetui.ssh.hostkeys import HostKeyCheck, HostKeyStore, load_known_hosts
from edgetui.ssh import files

logger = logging.getLogger("edgetui.ssh")

T = TypeVar("T")

HostKeyCallback = Callable[[HostKeyRequest], Awaitable[bool]]

# Failures worth another connection attempt; authentication and host key
# rejections are never retried, because trying again cannot change them.
RETRYABLE = (Unreachable, ConnectTimeout, ConnectionLost)

# A ProxyJump chain longer than this is almost certainly an ssh_config loop.
MAX_JUMP_HOPS = 8


@dataclass(frozen=True)
class CommandResult:
    """The outcome of one remote command; ``exit_signal`` is set when a signal ended it."""

    exit_status: int
    stdout: bytes
    stderr: bytes
    exit_signal: str | None = None


@dataclass
class PoolStats:
    """Counters that tests and the status bar read; they only grow, except ``open_connections``."""

    connects: int = 0
    reuses: int = 0
    retries: int = 0
    uploads: int = 0
    open_connections: int = 0
    peak_open_connections: int = 0


@dataclass(eq=False)
class _Entry:
    """The cached connection of one device, and who is using it."""

    device: Device
    log: logging.Logger
    conn: asyncssh.SSHClientConnection | None = None
    attempt: asyncio.Task | None = None
    in_use: int = 0
    dependents: int = 0  # open connections tunnelled through this one
    tunnel: _Entry | None = None
    last_used: float = field(default_factory=time.monotonic)

    @property
    def is_open(self) -> bool:
        """Return whether the cached connection exists and asyncssh has not closed it."""
        return self.conn is not None and not self.conn.is_closed()

    @property
    def is_idle(self) -> bool:
        """Return whether closing this connection would disturb no caller."""
        return self.conn is not None and self.in_use == 0 and self.dependents == 0 and self.attempt is None


class SSHPool:
    """Connections to devices over asyncssh: cached, reused, bounded in number and checked for host keys."""

    def __init__(
        self,
        host_keys: HostKeyStore,
        *,
        accept_new_host_keys: bool | HostKeyCallback = False,
        max_connections: int = 32,
        connect_timeout: float = 10.0,
        keepalive_interval: float = 15.0,
        keepalive_count_max: int = 3,
        ssh_config: list[Path] | None = None,
        known_hosts_files: list[Path] | None = None,
        retries: int = 2,
        retry_delay: float = 0.5,
    ) -> None:
        if max_connections < 1:
            raise ValueError(f"max_connections must be at least 1, got {max_connections}")
        if retries < 0:
            raise ValueError(f"retries must be 0 or more, got {retries}")
        self._host_keys = host_keys
        self._accept_new = accept_new_host_keys
        self._max_connections = max_connections
        self._retries = retries
        self._retry_delay = retry_delay
        self._known_hosts_paths = default_path("known_hosts") if known_hosts_files is None else list(known_hosts_files)
        self._settings = ConnectSettings(
            config_paths=default_path("config") if ssh_config is None else list(ssh_config),
            connect_timeout=connect_timeout,
            keepalive_interval=keepalive_interval,
            keepalive_count_max=keepalive_count_max,
        )
        self._entries: dict[tuple, _Entry] = {}
        self._slot_freed = asyncio.Event()
        # Tasks that keep a connection in use while a long-lived channel on it is open.
        self._holds: set[asyncio.Task] = set()
        self.stats = PoolStats()

    @property
    def max_connections(self) -> int:
        """The number of connections open at once; callers beyond it wait for a slot."""
        return self._max_connections

    @max_connections.setter
    def max_connections(self, value: int) -> None:
        if value < 1:
            raise ValueError(f"max_connections must be at least 1, got {value}")
        self._max_connections = value
        # A higher limit frees slots for callers that wait now.
        self._slot_freed.set()

    @property
    def accept_new_host_keys(self) -> bool | HostKeyCallback:
        """The policy for host keys never seen before: a flag, or a callback that decides."""
        return self._accept_new

    @accept_new_host_keys.setter
    def accept_new_host_keys(self, policy: bool | HostKeyCallback) -> None:
        self._accept_new = policy

    async def __aenter__(self) -> SSHPool:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # Operations

    async def run(
        self, device: Device, command: str, *, input: bytes | str | None = None, timeout: float | None = None
    ) -> CommandResult:
        """Run a command through the login shell and return its exit status, stdout and stderr as bytes."""
        data = input.encode() if isinstance(input, str) else input

        async def operation(entry: _Entry, conn: asyncssh.SSHClientConnection) -> CommandResult:
            process = await _start(conn.create_process(command, encoding=None))
            return await self._finish(entry, process, data, timeout, command)

        return await self._call(device, operation)

    async def write_file(self, device: Device, remote_path: str, data: bytes, mode: int = 0o644) -> None:
        """Upload ``data`` over SFTP to a temporary name beside ``remote_path``, then rename it into place."""

        async def operation(entry: _Entry, conn: asyncssh.SSHClientConnection) -> None:
            async with await _start(conn.start_sftp_client()) as sftp:
                try:
                    await files.write_atomically(sftp, remote_path, data, mode)
                except (asyncssh.Error, OSError) as exc:
                    raise self._operation_error(entry, f"uploading {remote_path}", exc) from exc
            self.stats.uploads += 1
            entry.log.info("Uploaded %d bytes to %s", len(data), remote_path)

        await self._call(device, operation)

    async def file_sha256(self, device: Device, remote_path: str) -> str | None:
        """Return the hex sha256 of a remote file read over SFTP, or None when it does not exist."""

        async def operation(entry: _Entry, conn: asyncssh.SSHClientConnection) -> str | None:
            async with await _start(conn.start_sftp_client()) as sftp:
                try:
                    return await files.sha256_of(sftp, remote_path)
                except (asyncssh.Error, OSError) as exc:
                    raise self._operation_error(entry, f"reading {remote_path}", exc) from exc

        return await self._call(device, operation)

    async def upload_resumable(
        self,
        device: Device,
        local_path: Path,
        remote_path: str,
        on_progress: Callable[[int, int], None] | None = None,
        *,
        verify: bool = True,
    ) -> files.UploadResult:
        """Upload a local file over SFTP through ``<remote_path>.part``, resuming a partial one.

        A target that already matches the local file's size and sha256 is not
        sent again. With ``verify`` the part file is renamed to ``remote_path``
        only when its sha256, computed on the device, matches; without it the
        caller verifies before use. ``on_progress(bytes_done, bytes_total)``
        runs once with the resume offset before sending and after each chunk.
        A dropped link raises ConnectionLost and leaves the part file for the
        next call to resume.
        """

        async def operation(entry: _Entry, conn: asyncssh.SSHClientConnection) -> files.UploadResult:
            async with await _start(conn.start_sftp_client()) as sftp:

                async def remote_hash(path: str) -> str | None:
                    return await _remote_sha256(conn, sftp, path)

                try:
                    result = await files.upload_resumable(
                        sftp, Path(local_path), remote_path, remote_hash, on_progress, verify=verify
                    )
                except (asyncssh.Error, OSError) as exc:
                    raise self._operation_error(entry, f"uploading {remote_path}", exc) from exc
                except ValueError as exc:
                    raise SSHError(entry.device.name, f"Upload to {entry.device.name} failed: {exc}.", reason=str(exc)) from exc
            self.stats.uploads += 0 if result.skipped else 1
            entry.log.info(
                "Upload of %s: %d bytes sent, resumed from byte %d of %d%s",
                remote_path, result.bytes_sent, result.resumed_from, result.bytes_total,
                " (already present)" if result.skipped else "",
            )
            return result

        return await self._call(device, operation)

    async def start_process(
        self, device: Device, command: str, *, encoding: str | None = None
    ) -> asyncssh.SSHClientProcess:
        """Start a long-lived command on the device's cached connection and return its process.

        The caller writes stdin, reads stdout line by line and closes the
        process. Until its channel closes, the connection counts as in use, so
        the pool never closes it to make room for another device. Other
        operations on the same device share the connection meanwhile. Output
        is bytes unless ``encoding`` is given.
        """

        async def operation(entry: _Entry, conn: asyncssh.SSHClientConnection) -> asyncssh.SSHClientProcess:
            process = await _start(conn.create_process(command, encoding=encoding))
            self._hold(entry, process.wait_closed())
            entry.log.info("Started a long-lived session: %s", command[:200])
            return process

        return await self._call(device, operation)

    @contextlib.asynccontextmanager
    async def forward_local(
        self, device: Device, *, remote_port: int, remote_host: str = "127.0.0.1"
    ) -> AsyncIterator[int]:
        """Forward a local port on 127.0.0.1, chosen by the OS, to ``remote_host:remote_port`` as resolved on the device.

        Yields the local port. The listener closes when the block ends, and the
        connection counts as in use until then.
        """
        if not 0 < remote_port < 65536:
            raise ValueError(f"Invalid remote port {remote_port}: expected 1 to 65535")
        closed = asyncio.Event()

        async def operation(entry: _Entry, conn: asyncssh.SSHClientConnection) -> asyncssh.SSHListener:
            try:
                listener = await conn.forward_local_port("127.0.0.1", 0, remote_host, remote_port)
            except (asyncssh.Error, OSError) as exc:
                raise self._operation_error(entry, f"forwarding a local port to {remote_host}:{remote_port}", exc) from exc
            self._hold(entry, closed.wait())
            entry.log.info("Forwarding 127.0.0.1:%d to %s:%d", listener.get_port(), remote_host, remote_port)
            return listener

        listener = await self._call(device, operation)
        try:
            yield listener.get_port()
        finally:
            listener.close()
            await listener.wait_closed()
            closed.set()

    async def close(self) -> None:
        """Close every cached connection and wait until asyncssh has closed them."""
        entries = list(self._entries.values())
        conns = [entry.conn for entry in entries if entry.conn is not None]
        for entry in entries:
            self._discard(entry, "pool closed")
        for conn in conns:
            await conn.wait_closed()
        # Channels close with their connection, so the holds end on their own;
        # cancelling covers a forward whose block has not ended yet.
        for task in list(self._holds):
            task.cancel()
        if self._holds:
            await asyncio.gather(*self._holds, return_exceptions=True)
        self._entries.clear()

    def _hold(self, entry: _Entry, until: Awaitable[object]) -> None:
        """Keep ``entry`` in use until ``until`` completes, so its connection is not closed for another device."""
        entry.in_use += 1

        async def release_when_done() -> None:
            try:
                await until
            finally:
                entry.in_use -= 1
                entry.last_used = time.monotonic()
                self._slot_freed.set()

        task = asyncio.create_task(release_when_done())
        self._holds.add(task)
        task.add_done_callback(self._holds.discard)

    # Sessions and their errors

    async def _call(self, device: Device, operation: Callable[[_Entry, asyncssh.SSHClientConnection], Awaitable[T]]) -> T:
        """Run an operation on the device's connection, reconnecting when the cached one turns out closed."""
        for attempt in range(self._retries + 1):
            entry = self._entry(device)
            entry.in_use += 1
            try:
                conn = await self._connection(entry, ())
                return await operation(entry, conn)
            except _NotStarted as exc:
                if attempt >= self._retries:
                    raise self._operation_error(entry, "opening a session", exc.cause) from exc.cause
                self._discard(entry, f"session could not open: {exc.cause}")
                entry.log.warning("Reconnecting, attempt %d of %d: %s", attempt + 1, self._retries, exc.cause)
                self.stats.retries += 1
            finally:
                entry.in_use -= 1
                entry.last_used = time.monotonic()
                # An idle connection can now be closed to make room for a waiter.
                self._slot_freed.set()
        raise AssertionError("unreachable: the loop returns or raises")

    async def _finish(
        self, entry: _Entry, process: asyncssh.SSHClientProcess, data: bytes | None, timeout: float | None, command: str
    ) -> CommandResult:
        """Send stdin, wait for the command to exit and collect its output."""
        try:
            if data:
                process.stdin.write(data)
            # EOF even without input, so a command that reads stdin does not wait forever.
            process.stdin.write_eof()
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
        except TimeoutError as exc:
            process.close()
            message = (
                f"The command on device {entry.device.name} at {entry.device.address} did not finish within "
                f"{timeout} s and was stopped. Raise the timeout or check the device's load. Command: {command[:200]}"
            )
            raise CommandTimeout(entry.device.name, message, reason=str(exc)) from exc
        except (asyncssh.Error, OSError) as exc:
            # The command may have run: it is not repeated, because it may not be idempotent.
            raise self._operation_error(entry, "running a command", exc) from exc
        exit_status = process.returncode if process.returncode is not None else -1
        signal_name = process.exit_signal[0] if process.exit_signal else None
        return CommandResult(exit_status=exit_status, stdout=stdout or b"", stderr=stderr or b"", exit_signal=signal_name)

    def _operation_error(self, entry: _Entry, action: str, exc: BaseException) -> SSHError:
        """Return ConnectionLost when the connection dropped during ``action``, else a plain SSHError."""
        reason = str(exc) or type(exc).__name__
        where = f"device {entry.device.name} at {entry.device.address}"
        if entry.conn is None or entry.conn.is_closed() or isinstance(exc, (asyncssh.ConnectionLost, BrokenPipeError)):
            self._discard(entry, f"lost while {action}")
            message = f"The SSH connection to {where} was lost while {action}: {reason}. Try again when the device is back."
            return ConnectionLost(entry.device.name, message, reason=reason)
        return SSHError(entry.device.name, f"SSH failed on {where} while {action}: {reason}.", reason=reason)

    # Connections

    def _entry(self, device: Device) -> _Entry:
        """Return the cache entry for a device; a device whose fields changed gets a new one."""
        key = (device.name, device.host, device.port, device.user, device.key_file, device.proxy_jump)
        entry = self._entries.get(key)
        if entry is None:
            entry = _Entry(device=device, log=logger.getChild(device.name))
            self._entries[key] = entry
        return entry

    async def _connection(self, entry: _Entry, chain: tuple[_Entry, ...]) -> asyncssh.SSHClientConnection:
        """Return the entry's open connection, sharing one connection attempt among concurrent callers."""
        if entry.is_open:
            self.stats.reuses += 1
            entry.log.debug("Reusing connection")
            return entry.conn
        if entry.conn is not None:
            self._discard(entry, "found closed")
        if entry.attempt is None:
            entry.attempt = asyncio.create_task(self._connect_with_retries(entry, chain))
            entry.attempt.add_done_callback(_consume_exception)
        # shield: one caller giving up must not cancel the attempt that others await.
        return await asyncio.shield(entry.attempt)

    async def _connect_with_retries(self, entry: _Entry, chain: tuple[_Entry, ...]) -> asyncssh.SSHClientConnection:
        """Connect, retrying unreachable, timed-out and dropped attempts with exponential backoff and jitter."""
        try:
            for attempt in range(self._retries + 1):
                try:
                    return await self._connect_accepting(entry, chain)
                except RETRYABLE as exc:
                    if attempt >= self._retries:
                        entry.log.warning("Connect failed after %d attempts: %s", attempt + 1, exc.reason)
                        raise
                    delay = self._retry_delay * 2**attempt * random.uniform(0.5, 1.5)
                    entry.log.warning(
                        "Connect failed (%s); retry %d of %d in %.2f s", exc.reason, attempt + 1, self._retries, delay
                    )
                    self.stats.retries += 1
                    await asyncio.sleep(delay)
            raise AssertionError("unreachable: the loop returns or raises")
        finally:
            entry.attempt = None

    async def _connect_accepting(self, entry: _Entry, chain: tuple[_Entry, ...]) -> asyncssh.SSHClientConnection:
        """Connect once; on an unknown host key ask the callback and, when it accepts, record the key and connect again."""
        try:
            return await self._connect_once(entry, chain)
        except HostKeyUnknown as exc:
            if not callable(self._accept_new):
                raise
            request = HostKeyRequest(
                device=entry.device.name, host=exc.host, port=exc.port, key_type=exc.key_type, fingerprint=exc.fingerprint
            )
            if not await self._accept_new(request):
                entry.log.info("Host key %s for %s:%s rejected by the user", exc.fingerprint, exc.host, exc.port)
                raise
            self._host_keys.remember_host_key(exc.host, exc.port, exc.key)
            entry.log.info("Recorded new host key %s %s for %s:%s", exc.key_type, exc.fingerprint, exc.host, exc.port)
        return await self._connect_once(entry, chain)

    async def _connect_once(self, entry: _Entry, chain: tuple[_Entry, ...]) -> asyncssh.SSHClientConnection:
        """Open the entry's connection, first opening its ProxyJump connection if it has one."""
        device = entry.device
        try:
            target = resolve_target(device, self._config_paths(device))
        except (OSError, ValueError) as exc:
            message = f"Cannot apply ssh_config to device {device.name} ({device.address}): {exc}. Fix the config file."
            raise SSHError(device.name, message, reason=str(exc)) from exc
        jump = self._jump_entry(entry, target, chain) if target.proxy_jump else None
        check = HostKeyCheck(
            device=device.name,
            device_host=device.host,
            store=self._host_keys,
            known_hosts=load_known_hosts(device.name, self._known_hosts_paths),
            accept_new=self._accept_new is True,
            logger=entry.log,
        )
        if jump is None:
            return await self._open(entry, target, check, None)
        # in_use keeps the jump connection from being closed to make room meanwhile.
        jump.in_use += 1
        try:
            tunnel = await self._connection(jump, (*chain, entry))
            conn = await self._open(entry, target, check, tunnel)
        finally:
            jump.in_use -= 1
        entry.tunnel = jump
        jump.dependents += 1
        return conn

    def _config_paths(self, device: Device) -> list[Path]:
        """Return the ssh_config files for a device: the pool's, then the file it was imported from."""
        paths = list(self._settings.config_paths)
        imported = device.tags.get("ssh_config")
        if imported and Path(imported) not in paths:
            paths.append(Path(imported))
        return paths

    def _jump_entry(self, entry: _Entry, target: ResolvedTarget, chain: tuple[_Entry, ...]) -> _Entry:
        """Return the cache entry of the ProxyJump host, rejecting loops and overlong chains."""
        assert target.proxy_jump is not None
        jump = self._entry(jump_device(entry.device, target.proxy_jump))
        if jump is entry or jump in chain or len(chain) >= MAX_JUMP_HOPS:
            message = (
                f"The ProxyJump chain of device {entry.device.name} loops or exceeds {MAX_JUMP_HOPS} hops "
                f"(at {target.proxy_jump}). Check ssh_config, e.g. exclude the jump host from a `Host *` ProxyJump."
            )
            raise SSHError(entry.device.name, message, reason="ProxyJump loop")
        return jump

    async def _open(
        self, entry: _Entry, target: ResolvedTarget, check: HostKeyCheck, tunnel: asyncssh.SSHClientConnection | None
    ) -> asyncssh.SSHClientConnection:
        """Take a connection slot, connect, record an accepted host key and cache the connection."""
        await self._acquire_slot(entry)
        try:
            # asyncssh applies ssh_config again itself, so it must read the same
            # files as resolve_target did, the device's imported file included.
            settings = dataclasses.replace(self._settings, config_paths=self._config_paths(entry.device))
            conn = await open_connection(
                entry.device, target, check, settings, tunnel, lambda lost, exc: self._on_lost(entry, lost, exc)
            )
        except SSHError as exc:
            self._release_slot()
            entry.log.info("Connect to %s:%s failed: %s", target.host, target.port, exc.reason)
            raise
        except BaseException:
            self._release_slot()
            raise
        try:
            check.remember_accepted()
        except BaseException:
            conn.close()
            self._release_slot()
            raise
        entry.conn = conn
        self.stats.connects += 1
        entry.log.info("Connected to %s@%s:%s", target.username, target.host, target.port)
        return conn

    # Connection slots

    async def _acquire_slot(self, entry: _Entry) -> None:
        """Wait for a free connection slot, closing the least recently used idle connection when all are taken."""
        # NOTE: jump connections take slots too. Many devices behind different jump
        # hosts with max_connections near the number of jumps can wait for each other.
        while self.stats.open_connections >= self._max_connections:
            victim = self._least_recently_used_idle()
            if victim is not None:
                self._discard(victim, "closed to make room for another device")
                continue
            entry.log.debug("Waiting for a free connection slot (%d open)", self.stats.open_connections)
            self._slot_freed.clear()
            await self._slot_freed.wait()
        self.stats.open_connections += 1
        self.stats.peak_open_connections = max(self.stats.peak_open_connections, self.stats.open_connections)

    def _release_slot(self) -> None:
        """Give a connection slot back and wake the callers that wait for one."""
        self.stats.open_connections -= 1
        self._slot_freed.set()

    def _least_recently_used_idle(self) -> _Entry | None:
        """Return the idle cached connection used longest ago, if any."""
        idle = [entry for entry in self._entries.values() if entry.is_idle]
        return min(idle, key=lambda entry: entry.last_used, default=None)

    def _discard(self, entry: _Entry, why: str) -> None:
        """Close and forget an entry's connection, releasing its slot and its hold on a jump connection."""
        conn = entry.conn
        if conn is None:
            return
        entry.conn = None
        conn.close()
        self._release_slot()
        if entry.tunnel is not None:
            entry.tunnel.dependents -= 1
            entry.tunnel = None
        entry.log.info("Connection closed: %s", why)

    def _on_lost(self, entry: _Entry, conn: asyncssh.SSHClientConnection, exc: Exception | None) -> None:
        """Drop a cached connection that asyncssh reports closed, so the next operation reconnects."""
        if entry.conn is conn:
            self._discard(entry, f"lost: {exc}" if exc else "closed by the server")


async def _remote_sha256(conn: asyncssh.SSHClientConnection, sftp: asyncssh.SFTPClient, path: str) -> str | None:
    """Return a remote file's sha256 from the device's sha256sum, else by reading it over SFTP; None when missing."""
    # Hashing on the device avoids reading the whole file back over the link.
    result = await conn.run(f"sha256sum -- {shlex.quote(path)}", check=False)
    output = result.stdout if isinstance(result.stdout, str) else (result.stdout or b"").decode(errors="replace")
    digest = output.split(" ", 1)[0].strip().lower()
    if result.exit_status == 0 and len(digest) == 64:
        return digest
    return await files.sha256_of(sftp, path)


class _NotStarted(Exception):
    """A session could not open because the cached connection had closed; the operation never started."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


async def _start(opening: Awaitable[T]) -> T:
    """Await a channel opening; a closed connection raises _NotStarted so the operation can retry."""
    try:
        return await opening
    except (asyncssh.ChannelOpenError, asyncssh.DisconnectError, BrokenPipeError) as exc:
        raise _NotStarted(exc) from exc


def _consume_exception(task: asyncio.Task) -> None:
    """Mark a connection attempt's exception as retrieved when every caller has given up on it."""
    if not task.cancelled():
        task.exception()
