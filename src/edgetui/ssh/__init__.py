"""The SSH layer: the only package that opens connections to devices (asyncssh)."""

from edgetui.ssh.errors import (
    AuthenticationFailed,
    CommandTimeout,
    ConnectionLost,
    ConnectTimeout,
    HostKeyChanged,
    HostKeyUnknown,
    SSHError,
    Unreachable,
)
from edgetui.ssh.hostkeys import HostKeyStore
from edgetui.ssh.pool import CommandResult, HostKeyCallback, PoolStats, SSHPool

__all__ = [
    "AuthenticationFailed",
    "CommandResult",
    "CommandTimeout",
    "ConnectTimeout",
    "ConnectionLost",
    "HostKeyCallback",
    "HostKeyChanged",
    "HostKeyStore",
    "HostKeyUnknown",
    "PoolStats",
    "SSHError",
    "SSHPool",
    "Unreachable",
]
