"""Migration 6 on a database that migration 5 created: tables, indexes and default rules appear, data stays."""

import sqlite3

from edgetui.domain import Device
from edgetui.store import FleetStore, migrations
from edgetui.telemetry import TelemetryStore

from .conftest import T0, samples


def schema_names(path, kind: str) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = ?", [kind])}


def user_version(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


def test_migration_6_upgrades_version_5_database(db_path, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:5])
        with FleetStore(db_path) as old:
            old.upsert_device(Device(name="rpi-a", host="127.0.0.1"))
    assert user_version(db_path) == 5
    assert "telemetry_samples" not in schema_names(db_path, "table")

    with FleetStore(db_path) as fleet:
        devices = [device.name for device in fleet.devices()]
        store = TelemetryStore(fleet)
        result = store.ingest("rpi-a", samples([1, 2]), T0 + 10, 0.0)
        rules = store.rules()

    assert user_version(db_path) == 6
    assert devices == ["rpi-a"]
    assert result.inserted == 2
    assert len(rules) == 6
    assert {"telemetry_samples", "telemetry_rollups", "telemetry_streams", "alert_rules", "alerts"} <= schema_names(
        db_path, "table")
    assert {"telemetry_samples_device_ts", "telemetry_samples_ts", "telemetry_rollups_minute", "alerts_open"} <= (
        schema_names(db_path, "index"))


def test_reopen_keeps_default_rules_once(db_path):
    with FleetStore(db_path):
        pass
    with FleetStore(db_path) as fleet:
        assert len(TelemetryStore(fleet).rules()) == 6


def test_second_open_alert_is_rejected(fleet, db_path):
    insert = ("INSERT INTO alerts (rule, device, severity, opened_at, resolved_at, value, message) "
              "VALUES ('offline', 'rpi-a', 'act', ?, ?, 1, 'm')")
    with sqlite3.connect(db_path) as conn:
        conn.execute(insert, [T0, T0 + 1])
        conn.execute(insert, [T0 + 2, None])
        try:
            conn.execute(insert, [T0 + 3, None])
        except sqlite3.IntegrityError as error:
            raised = error
        else:
            raised = None

    assert raised is not None
    assert "UNIQUE" in str(raised)
