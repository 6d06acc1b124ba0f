"""Transfer benchmark: SSHPool.upload_resumable against the OpenSSH client, over one loopback sshd.

Both tools read the same ssh_config file, so they offer the same cipher and
key exchange first. They log in with the same key as root to a Debian sshd on
127.0.0.1, which this module starts (through tests/sshd.py) and stops by PID.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from sshd import MemoryHostKeyStore, SSHServer, make_server  # noqa: E402

from edgetui.domain import Device  # noqa: E402
from edgetui.ssh import SSHPool, files  # noqa: E402

CIPHER = "aes128-gcm@openssh.com"
KEX = "curve25519-sha256"
MB = 1_000_000
# Offset of tcpi_bytes_acked in Linux's struct tcp_info (include/uapi/linux/tcp.h).
TCPI_BYTES_ACKED_OFFSET = 120
TCP_INFO_LENGTH = 232


@dataclass(frozen=True)
class Setting:
    """One way of running both tools: a label and the ssh_config file they read."""

    label: str
    config: Path


def write_settings(folder: Path) -> list[Setting]:
    """Write two ssh_config files: the measured cipher and key exchange offered first, and the defaults."""
    pinned = folder / "ssh_config_pinned"
    # "^" puts the algorithm at the head of each tool's default list (OpenSSH 8.0+, asyncssh 2.x).
    pinned.write_text(f"Host *\n    Ciphers ^{CIPHER}\n    KexAlgorithms ^{KEX}\n")
    defaults = folder / "ssh_config_defaults"
    defaults.write_text("Host *\n    KexAlgorithms ^curve25519-sha256\n")
    return [Setting(f"{CIPHER} first", pinned), Setting("default ciphers", defaults)]


def start_sshd(folder: Path) -> SSHServer:
    """Start sshd on 127.0.0.1 with an empty HOME, so root's .bashrc adds no time to remote commands."""
    empty_home = folder / "home"
    empty_home.mkdir()
    # sshd applies SetEnv after it sets HOME from the password file, so bash finds
    # no .bashrc. A real board's login shell has no pyenv set-up either.
    server = make_server(folder / "sshd", extra_config=f"SetEnv HOME={empty_home}")
    server.start()
    return server


def write_known_hosts(server: SSHServer, folder: Path) -> Path:
    """Write a known_hosts file with the server's host key, for the OpenSSH client."""
    path = folder / "known_hosts"
    path.write_text(f"[127.0.0.1]:{server.port} {server.host_key_line}\n")
    return path


def make_artifact(folder: Path, size: int) -> Path:
    """Write ``size`` random bytes to a file, in 8 MiB pieces to bound memory."""
    path = folder / "artifact.bin"
    piece = 8 * 1024 * 1024
    with open(path, "wb") as stream:
        left = size
        while left > 0:
            count = min(piece, left)
            stream.write(os.urandom(count))
            left -= count
    return path


# The OpenSSH client


def scp_command(server: SSHServer, setting: Setting, known_hosts: Path, source: Path, target: str,
                legacy: bool) -> list[str]:
    """Return the scp command line; ``legacy`` selects the old SCP protocol (-O) instead of SFTP."""
    command = ["scp", "-v", "-F", str(setting.config), "-i", str(server.client_key),
               "-P", str(server.port), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
               "-o", f"UserKnownHostsFile={known_hosts}", "-o", "StrictHostKeyChecking=yes"]
    if legacy:
        command.append("-O")
    return command + [str(source), f"root@127.0.0.1:{target}"]


def run_scp(command: list[str], size: int) -> dict:
    """Run scp once and return its wall time, throughput and the negotiated algorithms."""
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"scp failed with status {result.returncode}: {result.stderr[-2000:]}")
    kex = re.search(r"kex: algorithm: (\S+)", result.stderr)
    cipher = re.search(r"kex: client->server cipher: (\S+)", result.stderr)
    return {"seconds": seconds, "mb_s": size / MB / seconds,
            "kex": kex.group(1) if kex else None, "cipher": cipher.group(1) if cipher else None}


# edgetui


def make_pool(server: SSHServer, setting: Setting) -> tuple[SSHPool, Device]:
    """Return a fresh SSHPool that trusts the server's host key and reads ``setting``'s ssh_config."""
    store = MemoryHostKeyStore()
    store.remember_host_key("127.0.0.1", server.port, server.host_key_line)
    pool = SSHPool(store, ssh_config=[setting.config], known_hosts_files=[], max_connections=1)
    device = Device(name="loopback-sshd", host="127.0.0.1", port=server.port, user="root",
                    key_file=str(server.client_key))
    return pool, device


def cached_connection(pool: SSHPool):
    """Return the pool's only open connection, or None."""
    # NOTE: reads SSHPool's private cache, because the pool exposes neither the
    # negotiated cipher nor a byte counter.
    for entry in pool._entries.values():
        if entry.conn is not None:
            return entry.conn
    return None


def tcp_bytes_acked(conn) -> int | None:
    """Return the bytes the peer acknowledged on the connection's TCP socket (Linux TCP_INFO), or None."""
    sock = conn.get_extra_info("socket") if conn is not None else None
    if sock is None:
        return None
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, TCP_INFO_LENGTH)
    if len(info) < TCPI_BYTES_ACKED_OFFSET + 8:
        return None
    return struct.unpack_from("Q", info, TCPI_BYTES_ACKED_OFFSET)[0]


async def run_edgetui(server: SSHServer, setting: Setting, source: Path, target: str, verify: bool = False) -> dict:
    """Connect a fresh pool and upload once, as deploy does (no device-side hash by default)."""
    pool, device = make_pool(server, setting)
    marks: list[float] = []

    def on_progress(done: int, total: int) -> None:
        marks.append(time.perf_counter())

    try:
        start = time.perf_counter()
        result = await pool.upload_resumable(device, source, target, on_progress, verify=verify)
        seconds = time.perf_counter() - start
        conn = cached_connection(pool)
        cipher = conn.get_extra_info("send_cipher") if conn is not None else None
    finally:
        await pool.close()
    size = result.bytes_total
    sending = marks[-1] - marks[0]
    return {"seconds": seconds, "mb_s": size / MB / seconds, "cipher": cipher,
            "before_send_s": marks[0] - start, "send_s": sending, "send_mb_s": size / MB / sending,
            "after_send_s": start + seconds - marks[-1], "bytes_sent": result.bytes_sent}


# Rounds


def remove_remote(path: Path) -> None:
    """Delete an uploaded file and its part file; the server writes to this machine's disk."""
    for candidate in (path, path.with_name(path.name + ".part")):
        candidate.unlink(missing_ok=True)


def transfer_rounds(folder: Path, size: int, rounds: int) -> dict:
    """Alternate edgetui and scp uploads of one artifact for each setting; return every measurement."""
    server = start_sshd(folder)
    try:
        known = write_known_hosts(server, folder)
        source = make_artifact(folder, size)
        target_dir = folder / "received"
        target_dir.mkdir()
        target = target_dir / "artifact.bin"
        settings = write_settings(folder)
        out = {"size_bytes": size, "server_log_lines": 0, "settings": {}}
        for setting in settings:
            out["settings"][setting.label] = _rounds_for(server, setting, known, source, target, rounds)
        out["variants"] = _variant_rounds(server, settings[0], source, target, rounds)
        out["components"] = component_times(source)
        out["server_log_lines"] = len(server.log_text().splitlines())
        return out
    finally:
        server.stop()
        shutil.rmtree(folder / "received", ignore_errors=True)


def _rounds_for(server: SSHServer, setting: Setting, known: Path, source: Path, target: Path,
                rounds: int) -> dict:
    """Run ``rounds`` rounds of edgetui, scp (SFTP) and scp -O, in that order each round."""
    runs: dict[str, list[dict]] = {"edgetui": [], "scp": [], "scp -O": []}
    size = source.stat().st_size
    for _ in range(rounds):
        remove_remote(target)
        runs["edgetui"].append(asyncio.run(run_edgetui(server, setting, source, str(target))))
        for label, legacy in (("scp", False), ("scp -O", True)):
            remove_remote(target)
            command = scp_command(server, setting, known, source, str(target), legacy)
            runs[label].append(run_scp(command, size))
        remove_remote(target)
    return runs


# Variants of upload_resumable, patched in this process only, to find where its time goes


def _variants(source: Path) -> dict[str, tuple[list, bool]]:
    """Return each variant's patches and whether the device hashes the upload."""
    return {
        "device-side sha256 after the upload (upload_resumable's default)": ([], True),
        "upload chunk 4 MiB": ([mock.patch.object(files, "UPLOAD_CHUNK", 4 * 1024 * 1024)], False),
    }


def _variant_rounds(server: SSHServer, setting: Setting, source: Path, target: Path, rounds: int) -> dict:
    """Run each variant ``rounds`` times through SSHPool.upload_resumable."""
    out: dict[str, list[dict]] = {}
    for label, (patches, verify) in _variants(source).items():
        out[label] = []
        for _ in range(rounds):
            remove_remote(target)
            with contextlib.ExitStack() as stack:
                for patch in patches:
                    stack.enter_context(patch)
                out[label].append(asyncio.run(run_edgetui(server, setting, source, str(target), verify)))
        remove_remote(target)
    return out


def component_times(source: Path) -> dict:
    """Time the two sha256 passes on their own: Python's hashlib here, and coreutils sha256sum."""
    start = time.perf_counter()
    files.local_sha256(source)
    local = time.perf_counter() - start
    start = time.perf_counter()
    subprocess.run(["sha256sum", str(source)], check=True, capture_output=True)
    return {"hashlib_sha256_s": local, "sha256sum_s": time.perf_counter() - start}
