"""Start a real OpenSSH sshd on 127.0.0.1 for tests.

Each server lives in its own folder with its own host key, client key,
authorized_keys and config. It runs in the foreground (`-D -e`), so its log goes
to a file the tests can read, and it is stopped by its PID.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SSHD = Path("/usr/sbin/sshd")
SSH_KEYGEN = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"

# Bounds for polling a new server: 200 polls 25 ms apart, about 5 s in all.
_START_POLLS = 200
_POLL_INTERVAL = 0.025


def require_sshd() -> None:
    """Skip the calling test when sshd is missing, or fail under CI, which installs it."""
    if SSHD.exists():
        return
    reason = f"{SSHD} is missing; install Debian's openssh-server to run the SSH tests"
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the SSH tests must run)")
    pytest.skip(reason)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def keygen(path: Path, key_type: str = "ed25519") -> Path:
    """Create an unencrypted key pair at ``path`` and ``path.pub``."""
    subprocess.run(
        [SSH_KEYGEN, "-q", "-t", key_type, "-N", "", "-C", "", "-f", str(path)],
        check=True,
    )
    return path


@dataclass
class SSHServer:
    """One sshd process on 127.0.0.1, with the files it uses."""

    directory: Path
    port: int
    client_key: Path
    host_key: Path
    log_path: Path
    extra_config: str = ""
    # A forced command (authorized_keys command=) runs subsystems as programs, so
    # those tests need the sftp-server binary instead of internal-sftp.
    sftp_server: str = "internal-sftp"
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def host_key_line(self) -> str:
        """Return the host public key as an OpenSSH line, such as "ssh-ed25519 AAAA..."."""
        return " ".join(self.host_key.with_suffix(".pub").read_text().split()[:2])

    @property
    def config_path(self) -> Path:
        """Return the path of this server's sshd_config."""
        return self.directory / "sshd_config"

    def log_text(self) -> str:
        """Return what sshd wrote to its log so far."""
        return self.log_path.read_text(errors="replace")

    def accepted_logins(self) -> int:
        """Count successful public key logins in the log."""
        return self.log_text().count("Accepted publickey")

    def authorize(self, public_key_line: str, options: str = "") -> None:
        """Append a public key to authorized_keys, with optional key options."""
        prefix = f"{options} " if options else ""
        with (self.directory / "authorized_keys").open("a") as stream:
            stream.write(f"{prefix}{public_key_line.strip()}\n")

    def write_config(self) -> None:
        """Write sshd_config for this server's folder and port."""
        lines = [
            "ListenAddress 127.0.0.1",
            f"Port {self.port}",
            f"HostKey {self.host_key}",
            f"PidFile {self.directory / 'sshd.pid'}",
            f"AuthorizedKeysFile {self.directory / 'authorized_keys'}",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            "StrictModes no",
            "UsePAM no",
            "LogLevel VERBOSE",
            f"Subsystem sftp {self.sftp_server}",
            # The tests tunnel through one server to another (ProxyJump).
            "AllowTcpForwarding yes",
            self.extra_config,
        ]
        self.config_path.write_text("\n".join(lines) + "\n")

    def start(self) -> None:
        """Start sshd and wait until it accepts TCP connections."""
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)
        self.write_config()
        log = self.log_path.open("ab")
        try:
            self.process = subprocess.Popen(
                [str(SSHD), "-D", "-e", "-f", str(self.config_path), "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        finally:
            log.close()
        self._wait_listening()

    def _wait_listening(self) -> None:
        """Poll the port until sshd listens, or raise with its log."""
        assert self.process is not None
        for _ in range(_START_POLLS):
            if self.process.poll() is not None:
                raise RuntimeError(f"sshd exited with {self.process.returncode}:\n{self.log_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(_POLL_INTERVAL)
        self.stop()
        raise RuntimeError(f"sshd did not listen on 127.0.0.1:{self.port}:\n{self.log_text()}")

    def stop(self) -> None:
        """Stop the sessions this sshd forked and then the listener, each by its PID."""
        if self.process is None or self.process.poll() is not None:
            return
        for pid in self.session_pids():
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def session_pids(self) -> list[int]:
        """Return the PIDs of the sshd processes forked for open connections."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except FileNotFoundError:
            return []

    def restart(self, *, new_host_key: bool = False) -> None:
        """Stop and start sshd on the same port, optionally with a new host key."""
        self.stop()
        if new_host_key:
            self.host_key.unlink()
            self.host_key.with_suffix(".pub").unlink()
            keygen(self.host_key)
        self.start()


def make_server(directory: Path, *, extra_config: str = "", sftp_server: str = "internal-sftp") -> SSHServer:
    """Create the keys and files for a server in ``directory``, without starting it."""
    directory.mkdir(parents=True, exist_ok=True)
    host_key = keygen(directory / "host_ed25519")
    client_key = keygen(directory / "client_key")
    server = SSHServer(
        directory=directory,
        port=free_port(),
        client_key=client_key,
        host_key=host_key,
        log_path=directory / "sshd.log",
        extra_config=extra_config,
        sftp_server=sftp_server,
    )
    server.authorize(client_key.with_suffix(".pub").read_text())
    return server


class MemoryHostKeyStore:
    """A HostKeyStore kept in a dict, for tests: (host, port) -> OpenSSH public key lines."""

    def __init__(self) -> None:
        self.keys: dict[tuple[str, int], list[str]] = {}

    def known_host_keys(self, host: str, port: int) -> list[str]:
        """Return the key lines recorded for ``host`` on ``port``."""
        return list(self.keys.get((host, port), []))

    def remember_host_key(self, host: str, port: int, key: str) -> None:
        """Record a key line for ``host`` on ``port``."""
        self.keys.setdefault((host, port), []).append(key)
