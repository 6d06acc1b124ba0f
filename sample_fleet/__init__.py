"""Simulated edge devices: asyncssh servers on 127.0.0.1 that replay real captures.

Each device runs real /bin/sh sessions whose PATH and shim root point at one
profile (captured files and command outputs of a real board). See README.md.
"""

from sample_fleet.device import SimulatedDevice
from sample_fleet.fleet import KeyFileError, SampleFleet
from sample_fleet.profiles import Profile, ProfileError, list_profiles, load_profile

__all__ = [
    "KeyFileError",
    "Profile",
    "ProfileError",
    "SampleFleet",
    "SimulatedDevice",
    "list_profiles",
    "load_profile",
]
