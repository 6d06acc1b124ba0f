"""SampleFleet: all simulated devices of one state directory, in this process."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import asyncssh

from sample_fleet.commands import install_bin_dir
from sample_fleet.demo_runner import DemoServices
from sample_fleet.device import LISTEN_HOST, SimulatedDevice, plan_devices
from sample_fleet.profiles import Profile, ProfileError, list_profiles, load_profile
from sample_fleet.recorded import RecordedStreams, Recording
from sample_fleet.serve_processes import stop_serve_processes
from sample_fleet.server import start_device_server
from sample_fleet.session import SessionTracker

logger = logging.getLogger("sample_fleet")

# Upper bound for session tasks to reap their killed subprocesses on stop; SIGKILL
# normally takes effect in milliseconds.
_STOP_TIMEOUT_SECONDS = 5.0


class KeyFileError(OSError):
    """A key file in the state directory exists but cannot be read as a key."""


class SampleFleet:
    """Simulated devices, each an asyncssh server on 127.0.0.1 with a profile.

    Use it as an async context manager, or call `start()` and `stop()`. Keys
    and home folders already in `state_dir` are reused, so host keys stay the
    same across restarts. Ports are new on every start.

    With `demo_release=True`, every device with python3 gets the demo release
    and a model server, and a traffic generator sends `traffic_rate` requests
    per second to each (see `demo`, set once the background setup finishes).
    With `recorded` (a recording file), sessions that run the shim's `stream`
    are served in this process from the recording instead.
    """

    def __init__(
        self,
        state_dir: Path,
        devices: int,
        profiles: list[Path] | None = None,
        *,
        demo_release: bool = False,
        traffic_rate: float = 2.0,
        recorded: Path | None = None,
    ) -> None:
        if isinstance(devices, bool) or not isinstance(devices, int) or devices < 1:
            raise ValueError(f"invalid number of devices {devices!r}: must be an integer of at least 1")
        if demo_release and recorded is not None:
            raise ValueError("demo_release and recorded exclude each other: a recorded fleet runs no model server")
        self.state_dir = Path(state_dir).resolve()
        self.inventory_path = self.state_dir / "inventory.toml"
        self.devices: list[SimulatedDevice] = []
        self._device_count = devices
        self._profile_paths = None if profiles is None else [Path(path) for path in profiles]
        self._acceptors: list[asyncssh.SSHAcceptor] = []
        self._connections: set[asyncssh.SSHServerConnection] = set()
        self._tracker = SessionTracker()
        self._started = False
        self._demo_release = demo_release
        self._traffic_rate = traffic_rate
        self._recorded_path = None if recorded is None else Path(recorded)
        self.demo: DemoServices | None = None
        self.recorded: RecordedStreams | None = None

    async def __aenter__(self) -> SampleFleet:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start every device's server, then write the inventory.

        Raises ProfileError for an invalid profile folder, and OSError when the
        state directory or a key file cannot be used. On any error the servers
        started so far are stopped again.
        """
        if self._started:
            raise RuntimeError("this SampleFleet is already started")
        self._started = True

        profiles = self._load_profiles()
        recording = None if self._recorded_path is None else Recording.load(self._recorded_path)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.devices = plan_devices(profiles, self._device_count, self.state_dir)
        try:
            if recording is not None:
                self.recorded = RecordedStreams(self.devices, recording)
                self.recorded.start()
            for device in self.devices:
                await self._start_device(device)
            # Written only now, so that an older fleet's inventory in the same
            # folder stays in place until every new device listens.
            write_inventory(self.inventory_path, self.devices)
        except BaseException:
            await self.stop()
            raise
        logger.info("fleet of %d devices ready, inventory %s", len(self.devices), self.inventory_path)
        if self._demo_release:
            self.demo = DemoServices(self.state_dir, self.devices, self._traffic_rate)
            self.demo.start()

    async def stop(self) -> None:
        """Stop the demo services, close the listeners, kill session subprocesses and close connections.

        The model servers of the devices are stopped too, whether the demo or a
        console's session started them, so that nothing of the fleet keeps running.
        """
        known_pids: dict[str, int] = {}
        if self.demo is not None:
            await self.demo.stop()
            known_pids = self.demo.server_pids()
        if self.recorded is not None:
            await self.recorded.stop()
        for acceptor in self._acceptors:
            acceptor.close()
        self._tracker.kill_all()
        for connection in list(self._connections):
            connection.close()
        for acceptor in self._acceptors:
            await acceptor.wait_closed()
        self._acceptors.clear()
        await self._tracker.wait_idle(_STOP_TIMEOUT_SECONDS)
        await stop_serve_processes(self.devices, known_pids)
        if self._started:
            logger.info("fleet stopped")

    def _load_profiles(self) -> list[Profile]:
        if self._profile_paths is None:
            profiles = list_profiles()
        else:
            profiles = [load_profile(path) for path in self._profile_paths]
        if not profiles:
            raise ProfileError("no profiles to run: the list of profile folders is empty")
        return profiles

    async def _start_device(self, device: SimulatedDevice) -> None:
        device.home.mkdir(parents=True, exist_ok=True)
        client_key = load_or_create_key(device.client_key_path)
        host_key = load_or_create_key(device.host_key_path)
        device.host_key_line = host_key.export_public_key("openssh").decode("ascii").strip()
        install_bin_dir(device.bin_dir, device.profile, sys.executable)
        acceptor = await start_device_server(
            device, host_key, client_key, self._tracker, self._connections, self.recorded
        )
        self._acceptors.append(acceptor)


def load_or_create_key(path: Path) -> asyncssh.SSHKey:
    """Read the unencrypted private key at `path`, or create an ed25519 key there.

    A new key is written with mode 0600 from the start, with its public key in
    `path.pub`. Raises KeyFileError naming the file when it is not a usable key.
    """
    if path.exists():
        try:
            key = asyncssh.read_private_key(path)
        except (asyncssh.KeyImportError, ValueError) as exc:
            raise KeyFileError(f"invalid key file {path}: {exc}; delete it to create a new key") from exc
        # OpenSSH refuses private keys that others can read.
        path.chmod(0o600)
        return key

    key = asyncssh.generate_private_key("ssh-ed25519")
    _write_new_file(path, key.export_private_key("openssh"), 0o600)
    public_path = path.with_name(path.name + ".pub")
    public_path.unlink(missing_ok=True)
    _write_new_file(public_path, key.export_public_key("openssh"), 0o644)
    return key


def _write_new_file(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as file:
        file.write(data)


def write_inventory(path: Path, devices: list[SimulatedDevice]) -> None:
    """Write the edgetui inventory TOML of `devices` atomically (temp file, rename)."""
    lines = ["# Written by sample_fleet; it is replaced on every start.", ""]
    for device in devices:
        lines += [
            "[[device]]",
            f"name = {toml_string(device.name)}",
            f"host = {toml_string(LISTEN_HOST)}",
            f"port = {device.port}",
            f"user = {toml_string(device.profile.user)}",
            f"key_file = {toml_string(str(device.client_key_path))}",
            f"host_key = {toml_string(device.host_key_line)}",
            "[device.tags]",
            f"profile = {toml_string(device.profile.name)}",
            'simulated = "true"',
            "",
        ]
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text("\n".join(lines), encoding="utf-8")
    os.replace(temporary, path)


def toml_string(value: str) -> str:
    """Return `value` as a TOML basic string."""
    escaped = []
    for char in value:
        if char in ('"', "\\"):
            escaped.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'
