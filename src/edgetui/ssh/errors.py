"""Errors of the SSH layer, one class per failure a user handles differently.

Each error names the device and the address it tried, keeps asyncssh's or the
operating system's reason text in ``reason``, and gives the next step to take.
"""

from edgetui.errors import DeviceError


class SSHError(DeviceError):
    """An SSH operation on one device failed."""

    title = "SSH error"

    def __init__(self, device: str, message: str, *, reason: str = "", title: str | None = None) -> None:
        super().__init__(device, message, title=title)
        self.reason = reason


class Unreachable(SSHError):
    """The device's address did not accept a TCP connection (refused, no route, DNS failure)."""

    title = "Device unreachable"


class ConnectTimeout(SSHError):
    """The SSH handshake and login did not finish within the connect timeout."""

    title = "SSH connect timed out"


class AuthenticationFailed(SSHError):
    """The server rejected every key offered, or a key file could not be loaded."""

    title = "SSH authentication failed"


class HostKeyUnknown(SSHError):
    """The server presented a host key while no key is known for that host and port."""

    title = "Unknown SSH host key"

    def __init__(
        self,
        device: str,
        message: str,
        *,
        host: str,
        port: int,
        key: str,
        key_type: str,
        fingerprint: str,
        reason: str = "",
    ) -> None:
        super().__init__(device, message, reason=reason)
        self.host = host
        self.port = port
        self.key = key
        self.key_type = key_type
        self.fingerprint = fingerprint


class HostKeyChanged(SSHError):
    """The server presented a host key that differs from the known one."""

    title = "SSH host key changed"

    def __init__(
        self,
        device: str,
        message: str,
        *,
        known_fingerprints: list[str],
        fingerprint: str,
        reason: str = "",
    ) -> None:
        super().__init__(device, message, reason=reason)
        self.known_fingerprints = known_fingerprints
        self.fingerprint = fingerprint


class ConnectionLost(SSHError):
    """An open connection closed before the operation finished."""

    title = "SSH connection lost"


class CommandTimeout(SSHError):
    """A remote command did not finish within its timeout."""

    title = "Remote command timed out"
