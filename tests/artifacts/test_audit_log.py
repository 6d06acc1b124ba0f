"""Tests of the hash-chained audit log: appends, verification and detection of edits and removals."""

from __future__ import annotations

import json
import sqlite3

import pytest

from edgetui.audit import AuditLog
from edgetui.audit.records import GENESIS_HASH
from edgetui.cli.main import main
from edgetui.store import FleetStore


def fill(store, count: int = 5) -> list:
    audit = AuditLog(store)
    return [
        audit.append("deploy", result="committed", devices=[f"dev{index}", "dev9"], artifact_id="ab" * 32,
                     ssh_key_fingerprint="SHA256:abc", detail={"wave": index})
        for index in range(1, count + 1)
    ]


def raw_sql(db_path, statement: str, params=()) -> None:
    """Run one statement on the database file with the sqlite3 module, outside edgetui."""
    connection = sqlite3.connect(db_path)
    with connection:
        connection.execute(statement, params)
    connection.close()


def test_append_chains_entries(store):
    entries = fill(store, 3)

    assert [entry.id for entry in entries] == [1, 2, 3]
    assert entries[0].prev_hash == GENESIS_HASH
    assert entries[1].prev_hash == entries[0].hash
    assert entries[2].devices == ["dev3", "dev9"]
    assert entries[2].user
    assert store.audit_head().count == 3
    assert store.audit_head().hash == entries[2].hash


def test_verify_intact(store):
    fill(store)

    report = AuditLog(store).verify()

    assert report.ok
    assert report.entries == 5
    assert report.first_bad_id is None


def test_verify_empty_log(store):
    assert AuditLog(store).verify().ok


def test_edited_detail_named(store, tmp_path):
    fill(store)
    raw_sql(tmp_path / "fleet.db", "UPDATE audit SET detail = ? WHERE id = 3", [json.dumps({"wave": 99})])

    report = AuditLog(store).verify()

    assert not report.ok
    assert report.first_bad_id == 3
    assert "entry 3 was changed" in report.problem


def test_edited_detail_invalid_json_named(store, tmp_path):
    fill(store)
    raw_sql(tmp_path / "fleet.db", "UPDATE audit SET detail = '{not json' WHERE id = 2")

    report = AuditLog(store).verify()

    assert report.first_bad_id == 2


def test_deleted_middle_entry_detected(store, tmp_path):
    fill(store)
    raw_sql(tmp_path / "fleet.db", "DELETE FROM audit WHERE id = 3")

    report = AuditLog(store).verify()

    assert not report.ok
    assert report.first_bad_id == 3
    assert "missing" in report.problem


def test_deleted_newest_entry_detected(store, tmp_path):
    fill(store)
    raw_sql(tmp_path / "fleet.db", "DELETE FROM audit WHERE id = 5")

    report = AuditLog(store).verify()

    assert not report.ok
    assert report.first_bad_id == 5
    assert "removed" in report.problem


def test_deleted_newest_then_append_detected(store, tmp_path):
    fill(store)
    raw_sql(tmp_path / "fleet.db", "DELETE FROM audit WHERE id = 5")
    AuditLog(store).append("rollback", result="done")

    report = AuditLog(store).verify()

    assert not report.ok
    assert report.first_bad_id == 5


def test_deleted_every_entry_detected(store, tmp_path):
    fill(store)
    raw_sql(tmp_path / "fleet.db", "DELETE FROM audit")

    report = AuditLog(store).verify()

    assert not report.ok
    assert report.first_bad_id == 1


def test_swapped_entries_detected(store, tmp_path):
    fill(store)
    db_path = tmp_path / "fleet.db"
    raw_sql(db_path, "UPDATE audit SET id = 100 WHERE id = 2")
    raw_sql(db_path, "UPDATE audit SET id = 2 WHERE id = 4")
    raw_sql(db_path, "UPDATE audit SET id = 4 WHERE id = 100")

    report = AuditLog(store).verify()

    assert not report.ok
    assert report.first_bad_id == 2


def test_secret_detail_rejected(store):
    with pytest.raises(ValueError):
        AuditLog(store).append("artifact.add", result="added", detail={"key": {"passphrase": "x"}})

    assert store.audit_entries() == []
    assert store.audit_head() is None


def test_entries_newest_first(store):
    fill(store, 4)

    assert [entry.id for entry in AuditLog(store).entries(limit=2)] == [4, 3]


def test_cli_verify_exit_codes(tmp_path, capsys):
    db = tmp_path / "fleet.db"
    with FleetStore(db) as opened:
        fill(opened)

    intact = main(["--db", str(db), "audit", "verify"])
    raw_sql(db, "UPDATE audit SET result = 'failed' WHERE id = 4")
    broken = main(["--db", str(db), "audit", "verify", "--json"])
    output = capsys.readouterr()

    assert intact == 0
    assert broken == 1
    assert json.loads(output.out.split("\n", 1)[1]) == {
        "ok": False, "entries": 5, "first_bad_id": 4,
        "problem": "entry 4 was changed: its hash does not match its contents",
    }


def test_cli_verify_text_names_entry(tmp_path, capsys):
    db = tmp_path / "fleet.db"
    with FleetStore(db) as opened:
        fill(opened)
    raw_sql(db, "DELETE FROM audit WHERE id = 2")

    status = main(["--db", str(db), "audit", "verify"])

    assert status == 1
    assert "entry 2" in capsys.readouterr().err


def test_cli_list_json(tmp_path, capsys):
    db = tmp_path / "fleet.db"
    with FleetStore(db) as opened:
        fill(opened)

    status = main(["--db", str(db), "audit", "list", "--limit", "2", "--json"])
    listed = json.loads(capsys.readouterr().out)

    assert status == 0
    assert [entry["id"] for entry in listed] == [5, 4]
    assert set(listed[0]) == {"id", "ts", "user", "ssh_key_fingerprint", "action", "devices", "artifact_id",
                              "result", "detail", "prev_hash", "hash"}
