"""FleetStore: the fleet database, composed of one class per table."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from edgetui.artifacts.records import ModelRecord, VariantRecord
from edgetui.domain import Device, DeviceStatus, Event, FactChange, FactsSnapshot, HardwareFacts
from edgetui.store.db import StoreConnection
from edgetui.store.devices import DeviceTable
from edgetui.store.events import EventLog
from edgetui.store.facts import FactsTable
from edgetui.store.hostkeys import HostKeyTable
from edgetui.store.models import ModelTable

DEFAULT_BUSY_TIMEOUT = 10.0


class FleetStore:
    """The fleet database: devices, hardware facts history, event log, host keys, and models.

    Opening checks the file first and leaves it untouched if it is damaged
    (StoreCorruptError), another program's (StoreForeignError) or from a newer
    edgetui (StoreTooNewError). Then it enables WAL mode and applies pending
    migrations. Several FleetStore objects, in one process or several, may use
    the same file; a writer waits up to ``busy_timeout`` seconds for another.
    """

    def __init__(self, path: Path, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        self.path = Path(path)
        self._connection = StoreConnection(self.path, busy_timeout=busy_timeout)
        self._devices = DeviceTable(self._connection)
        self._facts = FactsTable(self._connection, self._devices)
        self._events = EventLog(self._connection)
        self._host_keys = HostKeyTable(self._connection)
        self._models = ModelTable(self._connection)

    def __enter__(self) -> "FleetStore":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group the writes of the block into one transaction. A nested block becomes a savepoint."""
        with self._connection.transaction():
            yield

    def close(self) -> None:
        """Close the database connection."""
        self._connection.close()

    # Devices

    def upsert_device(self, device: Device) -> bool:
        """Add a device, or update the connection fields and tags of an existing one.

        Return True when the device is new. An update keeps the device's status,
        status_reason, last_seen and current_release.
        """
        return self._devices.upsert(device)

    def remove_device(self, name: str) -> None:
        """Remove a device and its facts history. Raise DeviceNotFound for an unknown name."""
        self._devices.remove(name)

    def devices(self) -> list[Device]:
        """Return every device, sorted by name."""
        return self._devices.all()

    def device(self, name: str) -> Device:
        """Return one device. Raise DeviceNotFound, which lists close names, for an unknown name."""
        return self._devices.get(name)

    def set_status(self, name: str, status: DeviceStatus, reason: str | None = None,
                   last_seen: datetime | None = None) -> None:
        """Set a device's status and reason, and last_seen when it is given."""
        self._devices.set_status(name, status, reason, last_seen)

    # Hardware facts

    def record_facts(self, name: str, facts: HardwareFacts, at: datetime) -> list[FactChange]:
        """Store one discovery's facts and return the hardware changes since the last one.

        The first snapshot of a device returns no changes. Readings such as
        temperatures are stored but not reported, as the edgetui.store.facts docstring lists.
        """
        return self._facts.record(name, facts, at)

    def latest_facts(self, name: str) -> HardwareFacts | None:
        """Return the device's newest facts, or None if it was never discovered."""
        return self._facts.latest(name)

    def facts_history(self, name: str, limit: int = 20) -> list[FactsSnapshot]:
        """Return up to ``limit`` snapshots of the device's facts, newest first."""
        return self._facts.history(name, limit)

    # Events

    def record_event(self, action: str, device: str | None, ok: bool, message: str = "",
                     detail: dict[str, Any] | None = None) -> Event:
        """Append an event to the log and return it with its id and UTC timestamp."""
        return self._events.record(action, device, ok, message, detail)

    def events(self, device: str | None = None, limit: int = 200) -> list[Event]:
        """Return up to ``limit`` events, newest first, of one device or of the fleet."""
        return self._events.list(device, limit)

    # SSH host keys

    def known_host_keys(self, host: str, port: int) -> list[str]:
        """Return the stored public keys of host:port as "TYPE BASE64" lines."""
        return self._host_keys.known(host, port)

    def remember_host_key(self, host: str, port: int, key: str) -> None:
        """Store a public key for host:port. Storing the same key again changes nothing."""
        self._host_keys.remember(host, port, key)

    def forget_host_keys(self, host: str, port: int) -> None:
        """Delete every stored key of host:port."""
        self._host_keys.forget(host, port)

    def replace_host_key(self, host: str, port: int, key: str) -> None:
        """Make ``key`` the only stored key of host:port, as an inventory import does."""
        self._host_keys.replace(host, port, key)

    # Models and their optimized variants

    def record_model(self, model: ModelRecord) -> None:
        """Add a source model, or update the name, path and facts of a known one."""
        self._models.record_model(model)

    def record_variants(self, model_sha256: str, variants: list[VariantRecord]) -> None:
        """Replace the variants of a recorded model with those of the latest optimize run."""
        self._models.record_variants(model_sha256, variants)

    def models(self) -> list[ModelRecord]:
        """Return every recorded model, most recently optimized first."""
        return self._models.models()

    def variants(self, model_sha256: str) -> list[VariantRecord]:
        """Return the variants of one model in the order they were recorded."""
        return self._models.variants(model_sha256)
