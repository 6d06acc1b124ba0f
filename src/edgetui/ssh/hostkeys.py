"""Host key checks: known_hosts files plus edgetui's own store of accepted keys.

asyncssh calls :meth:`HostKeyCheck.trusted_keys` to get the trusted keys before the
key exchange, and calls :meth:`HostKeyCheck.validate` only when the server's key
is not among them. Both run before authentication, so a rejected key never sees
a login attempt.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import asyncssh

from edgetui.ssh.errors import HostKeyChanged, HostKeyUnknown, SSHError

STORE_SOURCE = "edgetui's host key store"


class HostKeyStore(Protocol):
    """The storage of host keys that the user accepted or imported (public keys only)."""

    def known_host_keys(self, host: str, port: int) -> list[str]:
        """Return the OpenSSH public key lines known for ``host`` on ``port``."""
        ...

    def remember_host_key(self, host: str, port: int, key: str) -> None:
        """Record ``key`` (an OpenSSH public key line) as trusted for ``host`` on ``port``."""
        ...


def key_line(key: asyncssh.SSHKey) -> str:
    """Return a public key as one OpenSSH line without a comment, e.g. "ssh-ed25519 AAAA..."."""
    algorithm, data = key.export_public_key("openssh").decode().split()[:2]
    return f"{algorithm} {data}"


def fingerprint(key: asyncssh.SSHKey) -> str:
    """Return the SHA256 fingerprint as OpenSSH prints it, e.g. "SHA256:abc..."."""
    return key.get_fingerprint("sha256")


def load_known_hosts(device: str, paths: list[Path]) -> list[tuple[Path, asyncssh.SSHKnownHosts]]:
    """Read every known_hosts file, raising SSHError for one that cannot be parsed.

    A file that fails to parse is not skipped, because skipping it could turn a
    changed key into an unknown one, which --accept-new-host-keys would accept.
    """
    loaded = []
    for path in paths:
        try:
            loaded.append((path, asyncssh.read_known_hosts(str(path))))
        except (OSError, ValueError) as exc:
            message = f"Cannot read known_hosts file {path} for device {device}: {exc}. Fix or remove that line."
            raise SSHError(device, message, reason=str(exc)) from exc
    return loaded


@dataclass
class HostKeyCheck:
    """The host key decision for one connection attempt to one device."""

    device: str
    device_host: str
    store: HostKeyStore
    known_hosts: list[tuple[Path, asyncssh.SSHKnownHosts]]
    accept_new: bool
    logger: logging.Logger | logging.LoggerAdapter
    host: str = ""
    port: int = 22
    known: list[tuple[asyncssh.SSHKey, str]] = field(default_factory=list)
    presented: asyncssh.SSHKey | None = None
    outcome: str | None = None  # "accepted", "unknown" or "changed"

    def trusted_keys(self, host: str, addr: str, port: int | None) -> tuple[list, list, list]:
        """Return trusted host keys, CA keys and revoked keys; asyncssh's known_hosts callable."""
        self.host = host
        self.port = port or 22
        ca_keys: list[asyncssh.SSHKey] = []
        revoked: list[asyncssh.SSHKey] = []
        for path, known_hosts in self.known_hosts:
            host_keys, file_ca_keys, file_revoked = _match_strict(known_hosts, host, addr, port)
            self.known.extend((key, f"known_hosts file {path}") for key in host_keys)
            ca_keys.extend(file_ca_keys)
            revoked.extend(file_revoked)
        self.known.extend((key, STORE_SOURCE) for key in self._store_keys())
        return [key for key, _ in self.known], ca_keys, revoked

    def _store_keys(self) -> list[asyncssh.SSHKey]:
        """Load the store's keys for the resolved host and for the device's own host value."""
        names = dict.fromkeys([self.host, self.device_host])
        keys = []
        for name in names:
            for line in self.store.known_host_keys(name, self.port):
                try:
                    keys.append(asyncssh.import_public_key(line))
                except (asyncssh.KeyImportError, ValueError) as exc:
                    self.logger.warning("Ignored an invalid stored host key for %s:%s: %s", name, self.port, exc)
        return keys

    def validate(self, key: asyncssh.SSHKey) -> bool:
        """Decide on a key that is not trusted yet: accept it only when none is known and new keys are allowed."""
        self.presented = key
        if self.known:
            self.outcome = "changed"
            return False
        if self.accept_new:
            self.outcome = "accepted"
            return True
        self.outcome = "unknown"
        return False

    @property
    def address(self) -> str:
        """Return the resolved ``host:port`` that the key belongs to."""
        return f"{self.host}:{self.port}"

    def remember_accepted(self) -> None:
        """Record the key accepted during this attempt under the resolved host and port."""
        if self.outcome != "accepted" or self.presented is None:
            return
        self.store.remember_host_key(self.host, self.port, key_line(self.presented))
        self.logger.info(
            "Recorded new host key %s %s for %s", self.presented.get_algorithm(), fingerprint(self.presented), self.address
        )

    def error(self, reason: str) -> SSHError | None:
        """Build the HostKeyUnknown or HostKeyChanged error for this attempt's outcome, if any."""
        if self.presented is None or self.outcome not in ("unknown", "changed"):
            return None
        key_type = self.presented.get_algorithm()
        presented = fingerprint(self.presented)
        if self.outcome == "unknown":
            return HostKeyUnknown(
                self.device,
                f"The SSH host key of device {self.device} at {self.address} is not known yet: "
                f"the server presented a {key_type} key with fingerprint {presented}. "
                "Check that fingerprint on the device (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), "
                "then connect again with --accept-new-host-keys to record it.",
                host=self.host,
                port=self.port,
                key=key_line(self.presented),
                key_type=key_type,
                fingerprint=presented,
                reason=reason,
            )
        known = [f"{key.get_algorithm()} {fingerprint(key)} (from {source})" for key, source in self.known]
        return HostKeyChanged(
            self.device,
            f"The SSH host key of device {self.device} at {self.address} has changed: "
            f"known {', '.join(known)}; presented {key_type} {presented}. "
            "A reinstalled device or an intercepted connection both look like this. "
            "Verify the key on the device itself, then remove the old key from where it is listed "
            "and connect again.",
            known_fingerprints=[fingerprint(key) for key, _ in self.known],
            fingerprint=presented,
            reason=reason,
        )


def _match_strict(
    known_hosts: asyncssh.SSHKnownHosts, host: str, addr: str, port: int | None
) -> tuple[list, list, list]:
    """Match entries the way OpenSSH does: "[host]:port" for other ports, "host" only for port 22.

    asyncssh's own match falls back to port-less entries for any port, which would
    make every loopback device on its own port share the key of "127.0.0.1".
    """
    if port is None:
        candidates = [(host, addr)]
    else:
        # An empty address keeps asyncssh from parsing "[addr]:port" as an IP address.
        candidates = [(f"[{host}]:{port}", "")]
        if addr:
            candidates.append((f"[{addr}]:{port}", ""))
    host_keys: list = []
    ca_keys: list = []
    revoked: list = []
    for name, address in candidates:
        result = known_hosts.match(name, address, None)
        host_keys.extend(result[0])
        ca_keys.extend(result[1])
        revoked.extend(result[2])
    return host_keys, ca_keys, revoked
