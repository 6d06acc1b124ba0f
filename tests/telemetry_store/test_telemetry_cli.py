"""The telemetry, alerts and export commands on a real fleet database, run through `edgetui` main()."""

import csv
import io
import json
import os
import stat
import time
from datetime import datetime

import pytest

from edgetui.cli import main
from edgetui.domain import Device
from edgetui.store import FleetStore
from edgetui.telemetry import TelemetryStore

from .conftest import STREAM, sample

SAMPLE_KEYS = {
    "device", "stream", "seq", "ts", "device_ts", "received_at", "interval_s", "requests", "errors",
    "latency_ms_p50", "latency_ms_p95", "latency_ms_p99", "cpu_percent", "mem_used_mb", "mem_total_mb", "temp_c",
    "disk_free_mb", "disk_used_percent", "release", "serving", "drift_psi", "drift_input_psi", "error_rate",
    "throughput_rps",
}


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Keep the data, config and log folders under tmp_path."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("EDGETUI_DB", raising=False)


@pytest.fixture
def filled_db(tmp_path):
    """A fleet database with two devices and 90 seconds of samples each, ending now, one device 1 h ahead."""
    path = tmp_path / "cli.db"
    now = time.time()
    with FleetStore(path) as fleet:
        for name in ("rpi-a", "rpi-b"):
            fleet.upsert_device(Device(name=name, host="127.0.0.1"))
        store = TelemetryStore(fleet)
        store.ingest("rpi-a", [sample(seq, now - 90 + seq, requests=20, errors=seq % 2, latency_ms_p95=250.0)
                               for seq in range(1, 91)], now, 0.0)
        store.ingest("rpi-b", [sample(seq, now - 90 + seq + 3600) for seq in range(1, 91)], now, -3600.0)
        store.evaluate_alerts(now)
    return path


def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_telemetry_json_keys_and_values(filled_db, capsys):
    status, out, _ = run(capsys, "--db", str(filled_db), "telemetry", "rpi-a", "--since", "10m", "--json")

    rows = json.loads(out)
    assert status == 0
    assert isinstance(rows, list)
    assert len(rows) == 90
    assert set(rows[0]) == SAMPLE_KEYS
    first = rows[0]
    assert first["seq"] == 1
    assert first["stream"] == STREAM
    assert first["requests"] == 20
    assert first["errors"] == 1
    assert first["error_rate"] == 0.05
    assert first["throughput_rps"] == 20.0
    assert first["latency_ms_p95"] == 250.0
    assert first["release"] == "demo-1.0.0"
    assert first["serving"] is True
    parsed = datetime.fromisoformat(first["ts"])
    assert parsed.utcoffset().total_seconds() == 0
    assert parsed.timestamp() == pytest.approx(first["device_ts"], abs=0.001)


def test_telemetry_json_of_skewed_device_is_laptop_time(filled_db, capsys):
    _, out, _ = run(capsys, "--db", str(filled_db), "telemetry", "rpi-b", "--since", "2m", "--json")

    rows = json.loads(out)
    assert len(rows) == 90
    assert datetime.fromisoformat(rows[-1]["ts"]).timestamp() == pytest.approx(time.time(), abs=60)
    assert rows[-1]["device_ts"] - datetime.fromisoformat(rows[-1]["ts"]).timestamp() == pytest.approx(3600, abs=0.01)


def test_telemetry_since_narrows_the_window(filled_db, capsys):
    _, out, _ = run(capsys, "--db", str(filled_db), "telemetry", "rpi-a", "--since", "30s", "--json")
    assert 28 <= len(json.loads(out)) <= 31


def test_telemetry_table_and_per_minute(filled_db, capsys):
    status, out, _ = run(capsys, "--db", str(filled_db), "telemetry", "rpi-a")
    minute_status, minute_out, _ = run(capsys, "--db", str(filled_db), "telemetry", "rpi-a", "--per-minute",
                                       "--json")

    assert status == 0
    assert "p95 ms" in out
    assert "250.0" in out
    assert f"stream {STREAM}" in out
    minutes = json.loads(minute_out)
    assert minute_status == 0
    assert sum(row["samples"] for row in minutes) == 90
    assert all(datetime.fromisoformat(row["minute"]).second == 0 for row in minutes)


def test_unknown_device_names_how_to_list(filled_db, capsys):
    status, _, err = run(capsys, "--db", str(filled_db), "telemetry", "rpi-c")

    assert status == 2
    assert "'rpi-c'" in err
    assert "rpi-a" in err


def test_unknown_device_without_close_name(filled_db, capsys):
    status, _, err = run(capsys, "--db", str(filled_db), "export", "telemetry", "zzzzzz")

    assert status == 2
    assert "edgetui fleet list" in err


@pytest.mark.parametrize("since", ["10 minutes", "-5m", "0", "1w", ""])
def test_bad_since_is_rejected(filled_db, capsys, since):
    status, out, err = run(capsys, "--db", str(filled_db), "telemetry", "rpi-a", f"--since={since}")

    assert status == 2
    assert out == ""
    assert f"--since {since!r}" in err
    assert "90s, 10m, 2h or 1d" in err or "more than zero" in err


def test_missing_database_is_an_error(tmp_path, capsys):
    status, _, err = run(capsys, "--db", str(tmp_path / "none.db"), "alerts")

    assert status == 2
    assert "No fleet database" in err
    assert not (tmp_path / "none.db").exists()


def test_missing_database_names_demo_database(tmp_path, capsys):
    demo_db = tmp_path / "data" / "edgetui" / "demo.db"
    demo_db.parent.mkdir(parents=True)
    demo_db.write_bytes(b"")

    status, _, err = run(capsys, "--db", str(tmp_path / "none.db"), "telemetry", "rpi4-aarch64")

    assert status == 2
    assert f"No fleet database at {tmp_path / 'none.db'}" in err
    assert f"--db {demo_db}" in err


def test_alerts_json(filled_db, capsys):
    status, out, _ = run(capsys, "--db", str(filled_db), "alerts", "--json")
    open_status, open_out, _ = run(capsys, "--db", str(filled_db), "alerts", "--open", "--device", "rpi-b",
                                   "--json")

    alerts = json.loads(out)
    assert status == 0
    assert [(alert["rule"], alert["device"], alert["severity"], alert["open"]) for alert in alerts] == [
        ("latency-p95", "rpi-a", "watch", True)]
    assert alerts[0]["value"] == 250.0
    assert alerts[0]["resolved_at"] is None
    assert datetime.fromisoformat(alerts[0]["opened_at"]).utcoffset().total_seconds() == 0
    assert "rpi-a: p95 latency 250 ms" in alerts[0]["message"]
    assert open_status == 0
    assert json.loads(open_out) == []


def test_alerts_human_lines(filled_db, capsys):
    status, out, _ = run(capsys, "--db", str(filled_db), "alerts", "--open")

    assert status == 0
    assert "watch rpi-a latency-p95 (open since" in out
    assert "threshold 100 ms" in out


def test_alert_rule_commands(filled_db, capsys):
    add_status, add_out, _ = run(capsys, "--db", str(filled_db), "alerts", "rule", "add", "hot-rpi-b",
                                 "--metric", "temp_c", "--op", "gt", "--threshold", "70", "--for", "2m",
                                 "--device", "rpi-b", "--severity", "act", "--json")
    disable_status, _, _ = run(capsys, "--db", str(filled_db), "alerts", "rule", "disable", "hot-rpi-b")
    _, rules_out, _ = run(capsys, "--db", str(filled_db), "alerts", "rules", "--json")
    remove_status, _, _ = run(capsys, "--db", str(filled_db), "alerts", "rule", "remove", "hot-rpi-b")
    _, table_out, _ = run(capsys, "--db", str(filled_db), "alerts", "rules")

    added = json.loads(add_out)
    rules = {rule["name"]: rule for rule in json.loads(rules_out)}
    assert add_status == disable_status == remove_status == 0
    assert (added["metric"], added["op"], added["threshold"], added["for_s"], added["device"], added["severity"]) == (
        "temp_c", ">", 70.0, 120.0, "rpi-b", "act")
    assert rules["hot-rpi-b"]["enabled"] is False
    assert len(rules) == 7
    assert "hot-rpi-b" not in table_out
    assert "latency_ms_p95 > 100" in table_out


def test_rules_table_names_window_column(filled_db, capsys):
    status, out, _ = run(capsys, "--db", str(filled_db), "alerts", "rules")

    header = out.splitlines()[0].split()
    assert status == 0
    assert "window" in header
    assert "for" not in header


@pytest.mark.parametrize(("metric", "threshold", "expected"), [
    ("error_rate", "5", "threshold 5 is out of range for error_rate, which is a fraction from 0 to 1 (5% is 0.05)"),
    ("error_rate", "-1", "threshold -1 is out of range for error_rate"),
    ("offline_s", "-1", "threshold -1 is out of range for offline_s: use 0 or more"),
    ("temp_c", "50%", "--threshold '50%': only error_rate takes a percentage"),
    ("temp_c", "hot", "--threshold 'hot' is not a number"),
])
def test_rule_add_rejects_bad_threshold(filled_db, capsys, metric, threshold, expected):
    status, _, err = run(capsys, "--db", str(filled_db), "alerts", "rule", "add", "x", "--metric", metric,
                         "--op", ">", f"--threshold={threshold}")

    assert status == 2
    assert expected in err


def test_rule_add_takes_error_rate_percentage(filled_db, capsys):
    status, out, _ = run(capsys, "--db", str(filled_db), "alerts", "rule", "add", "errors-5", "--metric",
                         "error_rate", "--op", ">", "--threshold", "5%", "--json")

    assert status == 0
    assert json.loads(out)["threshold"] == pytest.approx(0.05)


def test_alert_rule_add_errors(filled_db, capsys):
    bad_metric, _, metric_err = run(capsys, "--db", str(filled_db), "alerts", "rule", "add", "x", "--metric",
                                    "latency", "--op", ">", "--threshold", "1")
    bad_for, _, for_err = run(capsys, "--db", str(filled_db), "alerts", "rule", "add", "x", "--metric",
                              "temp_c", "--op", ">", "--threshold", "1", "--for", "soon")
    bad_device, _, device_err = run(capsys, "--db", str(filled_db), "alerts", "rule", "add", "x", "--metric",
                                    "temp_c", "--op", ">", "--threshold", "1", "--device", "rpi-q")

    assert (bad_metric, bad_for, bad_device) == (2, 2, 2)
    assert "unknown metric 'latency'" in metric_err
    assert "latency_ms_p95" in metric_err
    assert "--for 'soon'" in for_err
    assert "'rpi-q'" in device_err


def test_export_csv_to_stdout(filled_db, capsys):
    status, out, _ = run(capsys, "--db", str(filled_db), "export", "telemetry", "--since", "1d", "--format", "csv")

    rows = list(csv.reader(io.StringIO(out)))
    header, body = rows[0], rows[1:]
    assert status == 0
    assert header[:6] == ["device", "stream", "seq", "ts", "device_ts", "received_at"]
    assert {"error_rate", "throughput_rps", "latency_ms_p95", "serving", "drift_psi"} <= set(header)
    assert len(body) == 180
    records = [dict(zip(header, row)) for row in body]
    assert {record["device"] for record in records} == {"rpi-a", "rpi-b"}
    first = records[0]
    assert (first["device"], first["seq"], first["requests"], first["errors"]) == ("rpi-a", "1", "20", "1")
    assert float(first["error_rate"]) == 0.05
    assert first["serving"] == "1"
    assert datetime.fromisoformat(first["ts"]).utcoffset().total_seconds() == 0


def test_export_csv_to_file_is_atomic(filled_db, tmp_path, capsys):
    target = tmp_path / "out" / "telemetry.csv"
    target.parent.mkdir()
    target.write_text("old contents\n", encoding="utf-8")

    status, out, err = run(capsys, "--db", str(filled_db), "export", "telemetry", "rpi-b", "--output",
                           str(target))

    lines = target.read_text(encoding="utf-8").splitlines()
    assert status == 0
    assert out == ""
    assert "Wrote 90 samples of 1 device" in err
    assert lines[0].startswith("device,stream,seq,ts,")
    assert len(lines) == 91
    assert all(line.startswith("rpi-b,") for line in lines[1:])
    assert sorted(path.name for path in target.parent.iterdir()) == ["telemetry.csv"]


def test_export_json(filled_db, capsys):
    status, out, _ = run(capsys, "--db", str(filled_db), "export", "telemetry", "rpi-a", "--format", "json",
                         "--since", "45s")

    rows = json.loads(out)
    assert status == 0
    assert 43 <= len(rows) <= 46
    assert set(rows[0]) == SAMPLE_KEYS
    assert all(row["device"] == "rpi-a" for row in rows)


def test_export_with_no_samples_writes_header_only(filled_db, capsys):
    status, out, _ = run(capsys, "--db", str(filled_db), "export", "telemetry", "rpi-a", "--since", "1s")
    assert status == 0
    assert out.splitlines()[0].startswith("device,stream,seq")


def test_export_to_missing_folder_is_an_error(filled_db, tmp_path, capsys):
    target = tmp_path / "missing" / "telemetry.csv"

    status, out, err = run(capsys, "--db", str(filled_db), "export", "telemetry", "--output", str(target))

    assert status == 2
    assert out == ""
    assert f"The folder {target.parent} of --output" in err
    assert f"mkdir -p {target.parent}" in err
    assert not target.parent.exists()


def test_export_to_folder_is_an_error(filled_db, tmp_path, capsys):
    folder = tmp_path / "exports"
    folder.mkdir()

    status, _, err = run(capsys, "--db", str(filled_db), "export", "telemetry", "--format", "json",
                         "--output", str(folder))

    assert status == 2
    assert f"--output '{folder}' is a folder, not a file" in err
    assert str(folder / "telemetry.json") in err
    assert list(folder.iterdir()) == []


def test_export_path_with_trailing_slash_is_an_error(filled_db, tmp_path, capsys):
    target = tmp_path / "exports"

    status, _, err = run(capsys, "--db", str(filled_db), "export", "telemetry", "--output", f"{target}/")

    assert status == 2
    assert "ends with '/', so it names a folder" in err
    assert not target.exists()


def test_export_file_gets_umask_mode(filled_db, tmp_path, capsys):
    target = tmp_path / "telemetry.csv"
    previous = os.umask(0o027)
    try:
        status, _, _ = run(capsys, "--db", str(filled_db), "export", "telemetry", "--output", str(target))
    finally:
        os.umask(previous)

    assert status == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_export_keeps_mode_of_replaced_file(filled_db, tmp_path, capsys):
    target = tmp_path / "telemetry.csv"
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o604)

    status, _, _ = run(capsys, "--db", str(filled_db), "export", "telemetry", "--output", str(target))

    assert status == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o604
    assert target.read_text(encoding="utf-8").startswith("device,")


def test_telemetry_caption_names_releases(tmp_path, capsys):
    path = tmp_path / "releases.db"
    now = time.time()
    with FleetStore(path) as fleet:
        fleet.upsert_device(Device(name="rpi-a", host="127.0.0.1"))
        store = TelemetryStore(fleet)
        store.ingest("rpi-a", [sample(seq, now - 30 + seq, release=None if seq <= 5 else "demo-2.0.0")
                               for seq in range(1, 21)], now, 0.0)

    status, out, _ = run(capsys, "--db", str(path), "telemetry", "rpi-a")

    assert status == 0
    assert "releases: " not in out
    assert "release: demo-2.0.0 (some samples without a release)" in out
    assert "none" not in out
