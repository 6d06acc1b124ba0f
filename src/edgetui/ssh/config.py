"""OpenSSH client config: default paths, identity files and ProxyJump hops.

asyncssh applies ssh_config itself when it connects (its ``config=`` option).
This module reads the same files through asyncssh's parser for the few values
the pool needs before connecting. IdentityFile entries follow the device's key
file. ProxyJump is opened by the pool itself, so that jump connections pass the
same host key checks and count toward the connection limit. The user name goes
into messages.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path

# NOTE: SSHClientConfig is asyncssh's internal parser (asyncssh.config, checked
# with 2.24); it is the one asyncssh.connect uses, so both agree on every value.
from asyncssh.config import SSHClientConfig

from edgetui.domain import Device

DEFAULT_PORT = 22
DEFAULT_KEY_NAMES = ("id_ed25519_sk", "id_ecdsa_sk", "id_ed448", "id_ed25519", "id_ecdsa", "id_rsa", "id_dsa")


def default_path(name: str) -> list[Path]:
    """Return ``~/.ssh/<name>`` in a list when that file exists, else an empty list."""
    path = Path("~", ".ssh", name).expanduser()
    return [path] if path.is_file() else []


@dataclass(frozen=True)
class ResolvedTarget:
    """The address, user, key files and ProxyJump of a device once ssh_config and its fields are applied."""

    host: str
    port: int
    username: str
    identity_files: tuple[str, ...]
    proxy_jump: str | None


def resolve_target(device: Device, config_paths: list[Path]) -> ResolvedTarget:
    """Apply ssh_config to a device; fields set on the device take precedence."""
    local_user = getpass.getuser()
    config = SSHClientConfig.load(
        None,
        [str(path) for path in config_paths],
        False,
        False,
        False,
        local_user,
        device.user if device.user else (),
        device.host,
        device.port if device.port else (),
    )
    proxy_jump = device.proxy_jump or config.get("ProxyJump")
    if isinstance(proxy_jump, str) and proxy_jump.lower() == "none":
        proxy_jump = None
    return ResolvedTarget(
        host=str(config.get("Hostname", device.host)),
        port=int(config.get("Port", DEFAULT_PORT)),
        username=str(config.get("User", local_user)),
        identity_files=tuple(str(path) for path in config.get("IdentityFile", ())),
        proxy_jump=proxy_jump or None,
    )


def client_key_files(device: Device, target: ResolvedTarget) -> list[str] | None:
    """Return the key files to offer, or None to let asyncssh choose (ssh_config, then defaults).

    The device's key file goes first, followed by the ssh_config IdentityFile
    entries that exist, since OpenSSH also skips missing identity files.
    """
    if not device.key_file:
        return None
    extra = [path for path in target.identity_files if os.path.isfile(os.path.expanduser(path))]
    return [device.key_file, *extra]


def key_files_tried(device: Device, target: ResolvedTarget) -> list[str]:
    """List the key files that a connection offers, for messages; contents are never read here."""
    chosen = client_key_files(device, target)
    if chosen is not None:
        return chosen
    if target.identity_files:
        return list(target.identity_files)
    defaults = [Path("~", ".ssh", name).expanduser() for name in DEFAULT_KEY_NAMES]
    return [str(path) for path in defaults if path.is_file()]


def jump_device(device: Device, proxy_jump: str) -> Device:
    """Return the device for the last ProxyJump hop; earlier hops become its own proxy_jump.

    A ProxyJump value is a comma-separated list of ``[user@]host[:port]`` hops,
    connected in order, so the target is reached through the last one. The name
    depends on the value only, so devices behind the same jump share its connection.
    """
    hops = [hop.strip() for hop in proxy_jump.split(",") if hop.strip()]
    if not hops:
        raise ValueError(f"Invalid ProxyJump value {proxy_jump!r} for device {device.name}")
    user, host, port = parse_hop(hops[-1])
    # The colon keeps the pool's jump host entries apart from fleet devices,
    # whose validated names cannot contain one, so validation is skipped here.
    return Device.model_construct(
        name=f"jump:{proxy_jump}",
        host=host,
        port=port,
        user=user,
        proxy_jump=",".join(hops[:-1]) or None,
    )


def parse_hop(hop: str) -> tuple[str | None, str, int | None]:
    """Split one ProxyJump hop ``[ssh://][user@]host[:port]`` into user, host and port."""
    hop = hop.removeprefix("ssh://")
    user, _, host = hop.rpartition("@")
    port: int | None = None
    if host.startswith("["):
        # "[2001:db8::1]:2222": brackets keep the port apart from an IPv6 address.
        address, _, rest = host[1:].partition("]")
        host = address
        if rest.startswith(":"):
            port = int(rest[1:])
    elif host.count(":") == 1:
        host, port_text = host.split(":")
        port = int(port_text)
    return user or None, host, port
