"""Opening, checking and migrating the fleet database file."""

import os
import sqlite3
from pathlib import Path

import pytest

from edgetui.domain import Device
from edgetui.errors import StoreError
from edgetui.store import (
    FleetStore,
    StoreCorruptError,
    StoreForeignError,
    StoreMigrationError,
    StoreTooNewError,
)
from edgetui.store import migrations
from edgetui.store.migrations import Migration

from tests.store.conftest import sha256_of

NEXT = migrations.latest_version() + 1
"""Version number for a migration that a test appends after the real ones."""


def pragma(path: Path, name: str):
    """Read one PRAGMA value through a separate plain sqlite3 connection."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


def table_names(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


def make_real_database(path: Path, devices: int = 300) -> None:
    """Create a closed fleet database large enough to span many pages."""
    with FleetStore(path) as store:
        with store.transaction():
            for index in range(devices):
                store.upsert_device(Device(name=f"device-{index:04d}", host=f"10.0.{index // 250}.{index % 250}",
                                           tags={"note": "x" * 200}))


def test_open_creates_file_and_parents(tmp_path):
    path = tmp_path / "a" / "b" / "fleet.db"
    with FleetStore(path):
        pass
    assert path.is_file()
    assert pragma(path, "user_version") == migrations.latest_version()
    assert table_names(path) >= {"devices", "facts", "events", "host_keys"}


def test_open_enables_wal(store, db_path):
    assert store._connection.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert pragma(db_path, "journal_mode") == "wal"


def test_open_enables_foreign_keys(store):
    assert store._connection.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_open_accepts_empty_file(db_path):
    db_path.write_bytes(b"")
    with FleetStore(db_path) as store:
        assert store.devices() == []
    assert pragma(db_path, "user_version") == migrations.latest_version()


def test_reopen_keeps_data(db_path):
    with FleetStore(db_path) as store:
        store.upsert_device(Device(name="jetson", host="10.0.0.7", port=2222))
        store.record_event("import", None, True, "1 device")
    with FleetStore(db_path) as store:
        assert [device.name for device in store.devices()] == ["jetson"]
        assert store.device("jetson").port == 2222
        assert [event.action for event in store.events()] == ["import"]


def test_path_that_is_folder_is_rejected(tmp_path):
    with pytest.raises(StoreError, match="not a file"):
        FleetStore(tmp_path)


def _random_bytes(path: Path) -> None:
    path.write_bytes(os.urandom(8192))


def _text_file(path: Path) -> None:
    path.write_text("[[device]]\nname = 'rpi4'\nhost = '10.0.0.5'\n")


def _truncated_database(path: Path) -> None:
    make_real_database(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _damaged_page(path: Path) -> None:
    """Overwrite the middle pages of a real database, keeping its size and header."""
    make_real_database(path)
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    pages = len(data) // page_size
    assert pages > 4, "the test needs a database with several pages"
    start = (pages // 2) * page_size
    data[start:start + 2 * page_size] = b"\xa5" * (2 * page_size)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [_random_bytes, _text_file, _truncated_database, _damaged_page])
def test_corrupt_file_is_rejected_untouched(db_path, damage):
    damage(db_path)
    before = sha256_of(db_path)

    with pytest.raises(StoreCorruptError) as raised:
        FleetStore(db_path)

    assert sha256_of(db_path) == before
    message = str(raised.value)
    assert str(db_path) in message
    assert "left untouched" in message
    assert "backup" in message
    assert "EDGETUI_DB" in message
    assert isinstance(raised.value, StoreError)


def test_future_version_is_rejected_untouched(db_path):
    make_real_database(db_path, devices=3)
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = sha256_of(db_path)

    with pytest.raises(StoreTooNewError) as raised:
        FleetStore(db_path)

    assert sha256_of(db_path) == before
    error = raised.value
    assert error.file_version == 99
    assert error.newest_known == migrations.latest_version()
    assert str(db_path) in str(error)
    assert "99" in str(error)
    assert "Upgrade edgetui" in str(error)
    assert isinstance(error, StoreError)


def test_other_program_database_is_rejected_untouched(db_path):
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()
    before = sha256_of(db_path)

    with pytest.raises(StoreForeignError, match="not an edgetui fleet database"):
        FleetStore(db_path)

    assert sha256_of(db_path) == before
    assert table_names(db_path) == {"recipes"}


def _failing_step(db) -> None:
    db.execute("CREATE TABLE probe_step (id INTEGER PRIMARY KEY)")
    db.execute("ALTER TABLE devices ADD COLUMN probe_column TEXT")
    raise RuntimeError("simulated failure in step 2")


def test_failed_migration_rolls_back(db_path, monkeypatch):
    make_real_database(db_path, devices=3)
    tables_before = table_names(db_path)
    monkeypatch.setattr(migrations, "MIGRATIONS",
                        [*migrations.MIGRATIONS, Migration(NEXT, "add a probe table", _failing_step)])

    with pytest.raises(StoreMigrationError) as raised:
        FleetStore(db_path)

    assert f"schema version {NEXT}" in str(raised.value)
    assert "simulated failure" in str(raised.value)
    assert pragma(db_path, "user_version") == NEXT - 1
    assert table_names(db_path) == tables_before
    conn = sqlite3.connect(db_path)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(devices)")}
    conn.close()
    assert "probe_column" not in columns


def test_failed_migration_on_new_file_leaves_no_tables(db_path, monkeypatch):
    monkeypatch.setattr(migrations, "MIGRATIONS",
                        [*migrations.MIGRATIONS, Migration(NEXT, "add a probe table", _failing_step)])

    with pytest.raises(StoreMigrationError):
        FleetStore(db_path)

    assert pragma(db_path, "user_version") == 0
    assert pragma(db_path, "application_id") == 0
    assert table_names(db_path) == set()


def test_new_migration_applies_on_reopen(db_path, monkeypatch):
    make_real_database(db_path, devices=2)

    def add_probe_table(db) -> None:
        db.execute("CREATE TABLE probe_step (id INTEGER PRIMARY KEY)")

    monkeypatch.setattr(migrations, "MIGRATIONS",
                        [*migrations.MIGRATIONS, Migration(NEXT, "add a probe table", add_probe_table)])
    with FleetStore(db_path) as store:
        assert len(store.devices()) == 2
    assert pragma(db_path, "user_version") == NEXT
    assert "probe_step" in table_names(db_path)


def test_migration_versions_must_be_consecutive(db_path, monkeypatch):
    monkeypatch.setattr(migrations, "MIGRATIONS",
                        [*migrations.MIGRATIONS, Migration(NEXT + 1, "skips one", lambda db: None)])
    with pytest.raises(ValueError, match="1, 2, 3"):
        FleetStore(db_path)
