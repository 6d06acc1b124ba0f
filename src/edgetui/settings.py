"""User settings and the default locations of edgetui's files.

Fleet state lives in one SQLite file in the user's data folder; preferences such
as the theme live in a small JSON file in the config folder, so a demo database
and the real one share them.
"""

import json
import logging
import os
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

log = logging.getLogger(__name__)

DB_ENV = "EDGETUI_DB"


def data_dir() -> Path:
    """Return the data folder: $XDG_DATA_HOME/edgetui, else ~/.local/share/edgetui."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "edgetui"


def config_dir() -> Path:
    """Return the config folder: $XDG_CONFIG_HOME/edgetui, else ~/.config/edgetui."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "edgetui"


def default_db_path() -> Path:
    """Return the fleet database path: $EDGETUI_DB when set, else the data folder's fleet.db."""
    override = os.environ.get(DB_ENV)
    if override:
        return Path(override).expanduser()
    return data_dir() / "fleet.db"


def log_path() -> Path:
    """Return the log file that the console writes for later troubleshooting."""
    return data_dir() / "edgetui.log"


class Settings(BaseModel):
    """Preferences remembered between runs."""

    theme: str = "edgetui-dark"
    """Name of the Textual theme the TUI opens with."""

    max_connections: int = 32
    """Upper bound on SSH connections open at once."""

    connect_timeout: float = 10.0
    """Seconds to wait for a device's SSH handshake before giving up."""

    reconcile_interval_s: float = 60.0
    """Seconds between the TUI's checks for devices whose release differs from the desired one."""

    collect_telemetry: bool = True
    """Whether the TUI streams telemetry from every device while it is open."""

    telemetry_raw_keep_hours: float = Field(default=24.0, gt=0, allow_inf_nan=False)
    """Hours that raw telemetry samples are kept before pruning."""

    telemetry_rollup_keep_days: float = Field(default=30.0, gt=0, allow_inf_nan=False)
    """Days that per-minute telemetry roll-ups and resolved alerts are kept before pruning."""

    @classmethod
    def path(cls) -> Path:
        """Return the settings file's path."""
        return config_dir() / "settings.json"

    @classmethod
    def load(cls) -> "Settings":
        """Read the settings file; a missing or invalid file gives the defaults."""
        path = cls.path()
        try:
            return cls.model_validate_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValidationError, ValueError) as exc:
            log.warning("ignoring invalid settings file %s: %s", path, exc)
            return cls()

    def save(self) -> None:
        """Write the settings file atomically, so a crash never leaves half a file."""
        path = self.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.model_dump(), indent=2) + "\n", encoding="utf-8")
        tmp.replace(path)
