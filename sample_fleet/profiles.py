"""Device profiles: captured files and command outputs of one real board.

A profile folder contains `profile.toml`, `SOURCE.md`, and at least one capture:
files at their path on the board under `root/`, or command outputs under
`commands/` (one file per captured command line). Either folder may be missing,
because git keeps no empty folders. `sample_fleet/README.md` describes the layout.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from sample_fleet.commands import find_capture_problems

BUNDLED_PROFILES_DIR = Path(__file__).resolve().parent / "profiles"

# Profile names become folder names in the state directory and device names in
# the inventory, so they stay within a portable file name alphabet.
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_USER_PATTERN = re.compile(r"^[a-z_][a-z0-9_-]*$")
_REQUIRED_TEXT_FIELDS = ("name", "description", "source")


class ProfileError(ValueError):
    """A profile folder is missing a required part or has an invalid value."""


@dataclass(frozen=True)
class Profile:
    """One device profile loaded from its folder."""

    name: str
    description: str
    source: str
    path: Path
    user: str = "edge"
    python: bool = True
    # Which unit of the fixture folder the captures come from ("main", "unitB", ...).
    unit: str = "main"

    @property
    def root(self) -> Path:
        """Return the folder that is `/` on the simulated board."""
        return self.path / "root"

    @property
    def commands_dir(self) -> Path:
        """Return the folder of captured command outputs."""
        return self.path / "commands"


def load_profile(path: Path) -> Profile:
    """Load and validate the profile folder at `path`.

    Raises ProfileError naming the path and the missing or invalid part.
    """
    path = Path(path).resolve()
    if not path.is_dir():
        raise ProfileError(f"profile {path}: not a directory")

    toml_path = path / "profile.toml"
    if not toml_path.is_file():
        raise ProfileError(f"profile {path}: missing profile.toml")
    try:
        data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(f"profile {path}: invalid profile.toml: {exc}") from exc

    for field in _REQUIRED_TEXT_FIELDS:
        value = data.get(field)
        if not isinstance(value, str) or not value.strip():
            raise ProfileError(f"profile {path}: profile.toml is missing the text field {field!r}")
    if not _NAME_PATTERN.match(data["name"]):
        raise ProfileError(
            f"profile {path}: invalid name {data['name']!r}; use letters, digits, '.', '_' and '-'"
        )

    user = data.get("user", "edge")
    if not isinstance(user, str) or not _USER_PATTERN.match(user):
        raise ProfileError(f"profile {path}: invalid user {user!r}")
    python = data.get("python", True)
    if not isinstance(python, bool):
        raise ProfileError(f"profile {path}: python must be true or false, got {python!r}")

    if not (path / "SOURCE.md").is_file():
        raise ProfileError(f"profile {path}: missing SOURCE.md")
    if not _has_files(path / "root") and not _has_files(path / "commands"):
        raise ProfileError(
            f"profile {path}: no captures: put files under root/ or command outputs under commands/"
        )

    profile = Profile(
        name=data["name"],
        description=data["description"].strip(),
        source=data["source"].strip(),
        path=path,
        user=user,
        python=python,
        unit=str(data.get("unit", "main")),
    )
    problems = find_capture_problems(profile.commands_dir)
    if problems:
        raise ProfileError(f"profile {path}: {problems[0]}")
    return profile


def list_profiles(directory: Path = BUNDLED_PROFILES_DIR) -> list[Profile]:
    """Load every profile folder in `directory`, main units first, then by name.

    Main units come first so that a small fleet (`--devices 13`) gets one
    device per fixture folder before any second unit of a folder.
    """
    profiles = [load_profile(child) for child in directory.iterdir() if child.is_dir()]
    return sorted(profiles, key=lambda profile: (profile.unit != "main", profile.name))


def _has_files(folder: Path) -> bool:
    """Tell whether ``folder`` exists and contains at least one file, at any depth."""
    return folder.is_dir() and any(child.is_file() for child in folder.rglob("*"))
