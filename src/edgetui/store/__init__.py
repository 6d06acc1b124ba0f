"""The fleet database: SQLite through sqlite-utils. The only package that writes SQL."""

from edgetui.store.errors import (
    DeviceNotFound,
    InvalidHostKey,
    StoreCorruptError,
    StoreForeignError,
    StoreMigrationError,
    StoreTooNewError,
)
from edgetui.store.fleet_store import FleetStore

__all__ = [
    "DeviceNotFound",
    "FleetStore",
    "InvalidHostKey",
    "StoreCorruptError",
    "StoreForeignError",
    "StoreMigrationError",
    "StoreTooNewError",
]
