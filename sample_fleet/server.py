"""The asyncssh server of one simulated device, listening on 127.0.0.1 only."""

from __future__ import annotations

import functools
import json
import logging
import os

import asyncssh

from sample_fleet.device import LISTEN_HOST, SimulatedDevice
from sample_fleet.faults import DeviceSFTPServer
from sample_fleet.recorded import RecordedStreams
from sample_fleet.session import SessionTracker, run_session

logger = logging.getLogger("sample_fleet")


class DeviceSSHServer(asyncssh.SSHServer):
    """Accept only the device's user name with the device's client key.

    Sessions run real commands as the user who started the fleet, so every
    other user name, key and authentication method is rejected.
    """

    def __init__(self, device: SimulatedDevice, client_key: asyncssh.SSHKey, connections: set) -> None:
        self._device = device
        self._client_key_data = client_key.public_data
        self._connections = connections
        self._connection: asyncssh.SSHServerConnection | None = None
        self._peer = "?"

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        """Record the connection so that the fleet can close it on stop."""
        self._connection = conn
        self._connections.add(conn)
        peer = conn.get_extra_info("peername")
        self._peer = f"{peer[0]}:{peer[1]}" if peer else "?"
        logger.info("%s: connection from %s", self._device.name, self._peer)

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the connection and log why it ended."""
        self._connections.discard(self._connection)
        if exc is None:
            logger.info("%s: connection from %s closed", self._device.name, self._peer)
        else:
            logger.info("%s: connection from %s lost: %s", self._device.name, self._peer, exc)

    def begin_auth(self, username: str) -> bool:
        """Require authentication for every user, logging names that will fail."""
        if username != self._device.profile.user:
            logger.warning(
                "%s: authentication failed: user %r is not %r (from %s)",
                self._device.name, username, self._device.profile.user, self._peer,
            )
        return True

    def password_auth_supported(self) -> bool:
        """Reject password authentication."""
        return False

    def kbdint_auth_supported(self) -> bool:
        """Reject keyboard-interactive authentication."""
        return False

    def host_based_auth_supported(self) -> bool:
        """Reject host-based authentication."""
        return False

    def public_key_auth_supported(self) -> bool:
        """Offer public key authentication, the only method accepted."""
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        """Accept only the device's user name together with its client key."""
        if username != self._device.profile.user:
            return False
        if key.public_data != self._client_key_data:
            logger.warning(
                "%s: authentication failed: unknown %s key %s (from %s)",
                self._device.name, key.get_algorithm(), key.get_fingerprint(), self._peer,
            )
            return False
        return True

    def connection_requested(self, dest_host: str, dest_port: int, orig_host: str, orig_port: int) -> bool:
        """Allow a port forward only to this device's own model server on 127.0.0.1.

        On a real board the forward reaches the board's own loopback. Here every
        device shares this machine's loopback, so only the port that the
        device's serve.json names is allowed, never another local service.
        """
        serve_port = _serve_port(self._device)
        if dest_host in ("127.0.0.1", "localhost") and serve_port is not None and dest_port == serve_port:
            logger.info("%s: port forward to %s:%d (from %s)", self._device.name, dest_host, dest_port, self._peer)
            return True
        logger.warning(
            "%s: port forward to %s:%d rejected: only the device's model server on 127.0.0.1:%s is allowed",
            self._device.name, dest_host, dest_port, serve_port,
        )
        return False

    def auth_completed(self) -> None:
        """Log the successful login."""
        logger.info("%s: user %r authenticated (from %s)", self._device.name, self._device.profile.user, self._peer)


def _serve_port(device: SimulatedDevice) -> int | None:
    """Return the port in the device's .edgetui/telemetry/serve.json, or None when there is none."""
    try:
        info = json.loads((device.home / ".edgetui" / "telemetry" / "serve.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    port = info.get("port") if isinstance(info, dict) else None
    return port if isinstance(port, int) and not isinstance(port, bool) else None


async def start_device_server(
    device: SimulatedDevice,
    host_key: asyncssh.SSHKey,
    client_key: asyncssh.SSHKey,
    tracker: SessionTracker,
    connections: set,
    recorded: RecordedStreams | None = None,
) -> asyncssh.SSHAcceptor:
    """Start the device's server on 127.0.0.1 and a free port, and set `device.port`.

    With `recorded`, sessions that run the shim's `stream` replay the recording.
    """
    chroot = os.fsencode(device.home)
    acceptor = await asyncssh.create_server(
        functools.partial(DeviceSSHServer, device, client_key, connections),
        LISTEN_HOST,
        0,
        server_host_keys=[host_key],
        process_factory=functools.partial(run_session, device, tracker, recorded=recorded),
        # chroot keeps SFTP paths inside the home folder, and relative paths
        # such as ".edgetui/shim/..." start there. DeviceSFTPServer applies the
        # device's fault switches to writes.
        sftp_factory=lambda channel: DeviceSFTPServer(channel, device.faults, chroot),
        encoding=None,
        # Sessions get pipes, never a terminal. Rejecting the pty request lets
        # an OpenSSH client keep its terminal in cooked mode, so typing echoes.
        allow_pty=False,
        line_editor=False,
        agent_forwarding=False,
        x11_forwarding=False,
        gss_host=None,
    )
    device.port = acceptor.get_port()
    logger.info("%s: listening on %s:%d (profile %s)", device.name, LISTEN_HOST, device.port, device.profile.name)
    return acceptor
