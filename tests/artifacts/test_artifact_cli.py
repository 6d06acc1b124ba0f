"""Tests of the `edgetui artifact` commands as a user runs them."""

from __future__ import annotations

import json

from artifact_models import DIGITS_MODEL, VAD_MODEL

from edgetui.cli.main import main


def run_json(capsys, *argv: str):
    status = main(list(argv))
    return status, json.loads(capsys.readouterr().out)


def test_add_json_keys(tmp_path, capsys):
    db = str(tmp_path / "fleet.db")

    status, added = run_json(capsys, "--db", db, "artifact", "add", str(VAD_MODEL), "--name", "vad",
                             "--version", "1.0.0", "--budget-p95-ms", "50", "--json")

    assert status == 0
    assert set(added) == {"id", "name", "version", "files", "size_bytes", "signer"}
    assert (added["name"], added["version"]) == ("vad", "1.0.0")
    assert [entry["path"] for entry in added["files"]] == [VAD_MODEL.name, "samples.npz"]
    assert added["size_bytes"] == sum(entry["size"] for entry in added["files"])
    assert set(added["signer"]) == {"fingerprint", "key_name", "public_key"}


def test_add_again_prints_same_id(tmp_path, capsys):
    db = str(tmp_path / "fleet.db")
    argv = ["--db", db, "artifact", "add", str(DIGITS_MODEL), "--name", "digits", "--version", "1"]

    _, first = run_json(capsys, *argv, "--json")
    status = main(argv)
    text = capsys.readouterr().out

    assert status == 0
    assert first["id"] in text
    assert "already in the store" in text


def test_add_conflict_exits_2(tmp_path, capsys):
    db = str(tmp_path / "fleet.db")
    main(["--db", db, "artifact", "add", str(DIGITS_MODEL), "--name", "m", "--version", "1"])
    capsys.readouterr()

    status = main(["--db", db, "artifact", "add", str(VAD_MODEL), "--name", "m", "--version", "1"])

    assert status == 2
    assert "m:1 already exists" in capsys.readouterr().err


def test_add_non_onnx_names_file(tmp_path, capsys):
    fake = tmp_path / "fake.onnx"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n not a model")

    status = main(["--db", str(tmp_path / "fleet.db"), "artifact", "add", str(fake), "--name", "x",
                   "--version", "1"])

    assert status == 2
    assert str(fake) in capsys.readouterr().err


def test_list_and_show_json(tmp_path, capsys):
    db = str(tmp_path / "fleet.db")
    _, added = run_json(capsys, "--db", db, "artifact", "add", str(DIGITS_MODEL), "--name", "digits",
                        "--version", "1", "--arch", "aarch64", "--json")

    _, listed = run_json(capsys, "--db", db, "artifact", "list", "--json")
    status, show_reply = run_json(capsys, "--db", db, "artifact", "show", added["id"][:10], "--json")

    assert [entry["id"] for entry in listed] == [added["id"]]
    assert listed[0]["target"]["arch"] == ["aarch64"]
    assert status == 0
    assert show_reply["verified"] is True
    assert show_reply["problem"] is None
    assert show_reply["manifest"]["name"] == "digits"


def test_show_tampered_exits_1(tmp_path, capsys):
    db = str(tmp_path / "fleet.db")
    _, added = run_json(capsys, "--db", db, "artifact", "add", str(DIGITS_MODEL), "--name", "digits",
                        "--version", "1", "--json")
    blob = tmp_path / "data" / "edgetui" / "artifacts" / "blobs" / "sha256" / added["files"][0]["sha256"]
    blob.chmod(0o644)
    blob.write_bytes(blob.read_bytes()[:-1] + b"\x00")

    status = main(["--db", db, "artifact", "show", "digits:1"])
    captured = capsys.readouterr()

    assert status == 1
    assert "digits_mlp.onnx" in captured.err


def test_show_unknown_exits_2(tmp_path, capsys):
    status = main(["--db", str(tmp_path / "fleet.db"), "artifact", "show", "nothing:1"])

    assert status == 2
    assert "nothing:1" in capsys.readouterr().err


def test_add_recorded_in_audit(tmp_path, capsys):
    db = str(tmp_path / "fleet.db")
    _, added = run_json(capsys, "--db", db, "artifact", "add", str(DIGITS_MODEL), "--name", "digits",
                        "--version", "1", "--json")

    _, entries = run_json(capsys, "--db", db, "audit", "list", "--json")

    assert [(entry["action"], entry["result"], entry["artifact_id"]) for entry in entries] == [
        ("artifact.add", "added", added["id"])
    ]
    assert main(["--db", db, "audit", "verify"]) == 0
