"""Fixtures shared by every test suite.

pytest puts this folder on sys.path (rootdir conftest, prepend import mode), so
test modules import the sshd helper as `sshd`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sshd import SSHServer, make_server, require_sshd


@pytest.fixture
def sshd_factory(tmp_path: Path) -> Iterator[Callable[..., SSHServer]]:
    """Yield a function that starts a new sshd under tmp_path; every one is stopped at teardown."""
    require_sshd()
    servers: list[SSHServer] = []

    def start(name: str = "sshd", *, extra_config: str = "", sftp_server: str = "internal-sftp") -> SSHServer:
        server = make_server(tmp_path / name, extra_config=extra_config, sftp_server=sftp_server)
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def sshd(sshd_factory: Callable[..., SSHServer]) -> SSHServer:
    """Start one sshd on 127.0.0.1 that accepts its own client key for the current user."""
    return sshd_factory()
