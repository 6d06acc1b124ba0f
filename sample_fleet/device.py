"""One simulated device: its profile, its folders in the state directory, its port."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sample_fleet.faults import DeviceFaults
from sample_fleet.profiles import Profile

LISTEN_HOST = "127.0.0.1"


@dataclass
class SimulatedDevice:
    """A device of the fleet and the files that belong to it under `directory`."""

    name: str
    profile: Profile
    directory: Path
    # Set once the device's server listens.
    port: int = 0
    host_key_line: str = ""
    # The switches in directory/faults.json, set by `sample-fleet fault`.
    faults: DeviceFaults = field(init=False)

    def __post_init__(self) -> None:
        self.faults = DeviceFaults(self.name, self.directory)

    @property
    def home(self) -> Path:
        """Return the device user's home folder and the cwd of its sessions."""
        return self.directory / "home"

    @property
    def bin_dir(self) -> Path:
        """Return the folder that is the whole PATH of the device's sessions."""
        return self.directory / "bin"

    @property
    def client_key_path(self) -> Path:
        """Return the private key that clients use to log in to this device."""
        return self.directory / "client_key"

    @property
    def host_key_path(self) -> Path:
        """Return the device server's private host key."""
        return self.directory / "host_key"

    def session_environment(self) -> dict[str, str]:
        """Return the complete environment of a session's /bin/sh process."""
        user = self.profile.user
        return {
            "PATH": str(self.bin_dir),
            "HOME": str(self.home),
            "EDGETUI_SHIM_ROOT": str(self.profile.root),
            "LANG": "C.UTF-8",
            "USER": user,
            "LOGNAME": user,
            "SHELL": "/bin/sh",
        }


def plan_devices(profiles: list[Profile], count: int, state_dir: Path) -> list[SimulatedDevice]:
    """Assign profiles round-robin to `count` devices and give each a unique name.

    The first device of a profile is named after it; later ones get -2, -3, ...
    """
    used_names: set[str] = set()
    devices = []
    for index in range(count):
        profile = profiles[index % len(profiles)]
        name = profile.name
        suffix = 2
        while name in used_names:
            name = f"{profile.name}-{suffix}"
            suffix += 1
        used_names.add(name)
        devices.append(SimulatedDevice(name=name, profile=profile, directory=state_dir / name))
    return devices
