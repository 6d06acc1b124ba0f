"""Open one asyncssh connection to a device and turn its failures into SSHError subclasses."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from edgetui.domain import Device
from edgetui.ssh.config import ResolvedTarget, client_key_files, key_files_tried
from edgetui.ssh.errors import (
    AuthenticationFailed,
    ConnectionLost,
    ConnectTimeout,
    SSHError,
    Unreachable,
)
from edgetui.ssh.hostkeys import HostKeyCheck


class CheckingClient(asyncssh.SSHClient):
    """An asyncssh client that asks a HostKeyCheck about untrusted keys and reports a lost connection."""

    def __init__(self, check: HostKeyCheck, on_lost: Callable[[asyncssh.SSHClientConnection, Exception | None], None]):
        self._check = check
        self._on_lost = on_lost
        self._conn: asyncssh.SSHClientConnection | None = None

    def connection_made(self, conn: asyncssh.SSHClientConnection) -> None:
        self._conn = conn

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self._on_lost(self._conn, exc)

    def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        # asyncssh calls this only for a key that trusted_keys did not return.
        return self._check.validate(key)


@dataclass(frozen=True)
class ConnectSettings:
    """The pool-wide options every connection uses."""

    config_paths: list[Path]
    connect_timeout: float
    keepalive_interval: float
    keepalive_count_max: int


async def open_connection(
    device: Device,
    target: ResolvedTarget,
    check: HostKeyCheck,
    settings: ConnectSettings,
    tunnel: asyncssh.SSHClientConnection | None,
    on_lost: Callable[[asyncssh.SSHClientConnection, Exception | None], None],
) -> asyncssh.SSHClientConnection:
    """Connect and authenticate, or raise the SSHError subclass that matches the failure."""
    options: dict[str, object] = {
        "port": device.port if device.port else (),
        "username": device.user if device.user else (),
        "config": [str(path) for path in settings.config_paths],
        "known_hosts": check.trusted_keys,
        "client_factory": lambda: CheckingClient(check, on_lost),
        # None stops asyncssh from opening ssh_config's ProxyJump itself: the pool
        # opened it already, through the same host key checks.
        "tunnel": tunnel,
        "connect_timeout": settings.connect_timeout,
        "keepalive_interval": settings.keepalive_interval,
        "keepalive_count_max": settings.keepalive_count_max,
    }
    key_files = client_key_files(device, target)
    if key_files is not None:
        check_key_file(device, target)
        options["client_keys"] = key_files
    try:
        return await asyncssh.connect(device.host, **options)
    except (OSError, asyncssh.Error, ValueError) as exc:
        raise connect_error(exc, device, target, check) from exc


def check_key_file(device: Device, target: ResolvedTarget) -> None:
    """Raise AuthenticationFailed when the device's key file cannot be read."""
    assert device.key_file is not None
    if os.access(os.path.expanduser(device.key_file), os.R_OK):
        return
    message = (
        f"Cannot read the SSH key file {device.key_file} of device {device.name} "
        f"(user {target.username} at {target.host}:{target.port}). "
        "Check the key_file path in the inventory and the file's permissions."
    )
    raise AuthenticationFailed(device.name, message, reason="key file not readable")


def connect_error(exc: BaseException, device: Device, target: ResolvedTarget, check: HostKeyCheck) -> SSHError:
    """Return the SSHError for a failed connection attempt, keeping asyncssh's reason text."""
    reason = str(exc) or type(exc).__name__
    where = f"device {device.name} at {target.host}:{target.port}"
    if target.proxy_jump:
        where += f" through ProxyJump {target.proxy_jump}"

    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        error = check.error(reason)
        if error is not None:
            return error
        return SSHError(device.name, f"The SSH host key of {where} was rejected: {reason}.", reason=reason)

    if isinstance(exc, asyncssh.PermissionDenied):
        tried = ", ".join(key_files_tried(device, target)) or "no key files"
        agent = " and the SSH agent's keys" if os.environ.get("SSH_AUTH_SOCK") else ""
        message = (
            f"Authentication failed for user {target.username} on {where}: the server rejected "
            f"the keys from {tried}{agent}. Add the matching public key to that user's "
            "authorized_keys on the device, or set key_file for the device."
        )
        return AuthenticationFailed(device.name, message, reason=reason)

    if isinstance(exc, (asyncssh.KeyImportError, asyncssh.KeyEncryptionError)):
        tried = ", ".join(key_files_tried(device, target))
        message = (
            f"Cannot load the SSH key for {where} from {tried}: {reason}. Use an unencrypted key "
            "or load it into the SSH agent (ssh-add)."
        )
        return AuthenticationFailed(device.name, message, reason=reason)

    # TimeoutError derives from OSError, so it is checked before OSError.

    if isinstance(exc, TimeoutError):
        message = (
            f"Connecting to {where} timed out: no SSH login within the connect timeout. "
            "Check that the address runs an SSH server and the network path is up, or raise the timeout."
        )
        return ConnectTimeout(device.name, message, reason=reason)

    if isinstance(exc, asyncssh.ConnectionLost):
        message = f"The connection to {where} closed during login: {reason}. Check the SSH server's log."
        return ConnectionLost(device.name, message, reason=reason)

    if isinstance(exc, (OSError, asyncssh.ChannelOpenError)):
        message = (
            f"Cannot reach {where}: {reason}. Check the host name and port, that the device is "
            "powered and on the network, and that its SSH server runs."
        )
        return Unreachable(device.name, message, reason=reason)

    return SSHError(device.name, f"SSH connection to {where} failed: {reason}.", reason=reason)
