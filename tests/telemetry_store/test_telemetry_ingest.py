"""Ingest into a real SQLite file: exactly once per (device, stream, seq), gaps, roll-ups and clock offsets."""

import json
import sqlite3

from edgetui.telemetry import TelemetryStore, parse_line

from .conftest import STREAM, T0, sample, samples

RECEIVED = T0 + 100


def count_rows(db_path, table: str) -> int:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def stream_row(store: TelemetryStore, device: str, stream: str = STREAM) -> dict:
    return next(row for row in store.streams(device) if row["stream"] == stream)


def test_replay_stores_each_seq_once(store, db_path):
    first = store.ingest("rpi-a", samples(range(1, 11)), RECEIVED, 0.0)
    # A reconnect replays 6..10 and follows with 11..15.
    replay = store.ingest("rpi-a", samples(range(6, 16)), RECEIVED + 5, 0.0)

    assert (first.inserted, first.duplicates) == (10, 0)
    assert (replay.inserted, replay.duplicates) == (5, 5)
    assert count_rows(db_path, "telemetry_samples") == 15
    assert [row["seq"] for row in store.samples("rpi-a", T0)] == list(range(1, 16))
    assert stream_row(store, "rpi-a")["duplicates"] == 5
    assert store.last_seq("rpi-a", STREAM) == 15


def test_duplicate_within_one_batch_counts_once(store, db_path):
    batch = samples([1, 2, 2, 3]) + [sample(3, T0 + 3)]

    result = store.ingest("rpi-a", batch, RECEIVED, 0.0)

    assert (result.inserted, result.duplicates) == (3, 2)
    assert count_rows(db_path, "telemetry_samples") == 3


def test_same_seq_on_other_device_or_stream_is_kept(store, db_path):
    store.ingest("rpi-a", samples([1, 2]), RECEIVED, 0.0)
    other_device = store.ingest("rpi-b", samples([1, 2]), RECEIVED, 0.0)
    # The device restarted its spool: a new stream id starts again at seq 1.
    new_stream = store.ingest("rpi-a", samples([1, 2], stream="fedcba9876543210"), RECEIVED, 0.0)

    assert other_device.inserted == 2
    assert new_stream.inserted == 2
    assert count_rows(db_path, "telemetry_samples") == 6
    assert store.last_seq("rpi-a", "fedcba9876543210") == 2
    assert store.last_seq("rpi-a", "0000000000000000") is None


def test_seq_jumps_count_as_gaps(store):
    result = store.ingest("rpi-a", samples([1, 2, 3, 6, 7, 10]), RECEIVED, 0.0)
    later = store.ingest("rpi-a", samples([14]), RECEIVED + 1, 0.0)

    assert result.gaps == 2
    assert later.gaps == 1
    assert stream_row(store, "rpi-a")["gaps"] == 3
    assert store.last_seq("rpi-a", STREAM) == 14


def test_late_sample_fills_hole_without_gap(store):
    store.ingest("rpi-a", samples([1, 2, 4]), RECEIVED, 0.0)

    late = store.ingest("rpi-a", samples([3]), RECEIVED + 1, 0.0)

    assert (late.inserted, late.gaps) == (1, 0)
    assert stream_row(store, "rpi-a")["gaps"] == 1
    assert store.last_seq("rpi-a", STREAM) == 4


def test_first_sample_of_new_stream_is_no_gap(store):
    result = store.ingest("rpi-a", samples([500, 501]), RECEIVED, 0.0)
    assert result.gaps == 0


def test_dropped_range_counts_once(store):
    store.ingest("rpi-a", samples(range(1, 11)), RECEIVED, 0.0)
    dropped = parse_line(json.dumps({"type": "dropped", "stream": STREAM, "first_seq": 11, "last_seq": 40,
                                     "count": 30}))

    first = store.record_notice("rpi-a", dropped, received_at=RECEIVED + 1)
    # The connection broke before any sample arrived, so the replay reports it again.
    again = store.record_notice("rpi-a", dropped, received_at=RECEIVED + 2)
    after = store.ingest("rpi-a", samples([41, 42]), RECEIVED + 3, 0.0)

    row = stream_row(store, "rpi-a")
    assert first == 30
    assert again == 0
    assert after.gaps == 0
    assert row["dropped_total"] == 30
    assert row["gaps"] == 1
    assert row["last_seq"] == 42


def test_garbage_is_counted_on_latest_stream(store):
    store.ingest("rpi-a", samples([1]), RECEIVED, 0.0)

    store.record_garbage("rpi-a")
    store.record_garbage("rpi-a", count=2)
    store.record_garbage("rpi-b")

    assert stream_row(store, "rpi-a")["garbage"] == 3
    assert stream_row(store, "rpi-b", "")["garbage"] == 1


def test_late_sample_fixes_its_rollup_minute(store):
    # Minute T0 gets seq 1..60 (ts T0..T0 + 59) except 30, which arrives after minute T0 + 60 has started.
    store.ingest("rpi-a", [s for s in samples(range(1, 61), start_ts=T0 - 1) if s.seq != 30], RECEIVED, 0.0)
    store.ingest("rpi-a", samples(range(61, 71), start_ts=T0 - 1), RECEIVED + 1, 0.0)
    before = store.rollups("rpi-a", T0)[0]

    store.ingest("rpi-a", [sample(30, T0 + 29, requests=100, errors=50, latency_ms_p95=900.0,
                                  release="demo-0.9.0")], RECEIVED + 2, 0.0)
    after = store.rollups("rpi-a", T0)

    assert before["minute"] == T0
    assert before["samples"] == 59
    assert before["requests"] == 590
    assert after[0]["samples"] == 60
    assert after[0]["requests"] == 690
    assert after[0]["errors"] == 50
    assert after[0]["latency_ms_p95"] == 900.0
    # The release of the minute is the newest sample's, not the late one's.
    assert after[0]["release"] == "demo-1.0.0"
    assert after[0]["error_rate"] == 50 / 690
    assert after[1]["minute"] == T0 + 60
    assert after[1]["samples"] == 10


def test_rollup_aggregates(store):
    store.ingest("rpi-a", [
        sample(1, T0 + 1, requests=10, errors=1, latency_ms_p50=2.0, latency_ms_p95=10.0, cpu_percent=10.0,
               temp_c=50.0, drift_psi=0.1, interval_s=2.0),
        sample(2, T0 + 3, requests=30, errors=0, latency_ms_p50=4.0, latency_ms_p95=30.0, cpu_percent=30.0,
               temp_c=60.0, drift_psi=0.3, interval_s=2.0, release="demo-2.0.0"),
        sample(3, T0 + 5, requests=0, errors=0, latency_ms_p50=None, latency_ms_p95=None, cpu_percent=20.0,
               temp_c=55.0, drift_psi=None, interval_s=2.0),
    ], RECEIVED, 0.0)

    rollup = store.rollups("rpi-a", T0)[0]

    assert rollup["samples"] == 3
    assert rollup["requests"] == 40
    assert rollup["errors"] == 1
    assert rollup["error_rate"] == 1 / 40
    assert rollup["throughput_rps"] == 40 / 6.0
    assert rollup["latency_ms_p50"] == 3.0
    assert rollup["latency_ms_p95"] == 30.0
    assert rollup["cpu_percent"] == 20.0
    assert rollup["temp_c"] == 60.0
    assert rollup["drift_psi"] == 0.3
    assert rollup["release"] == "demo-1.0.0"


def test_device_clock_one_hour_ahead_is_aligned(store):
    laptop_now = T0 + 100
    device_now = laptop_now + 3600
    hello = parse_line(json.dumps({"type": "hello", "stream": STREAM, "next_seq": 1, "oldest_seq": None,
                                   "dropped_total": 0, "device_ts": device_now, "shim": "0.1.0"}))
    store.record_notice("rpi-a", hello, received_at=laptop_now)
    offset = stream_row(store, "rpi-a")["clock_offset_s"]

    store.ingest("rpi-a", [sample(1, device_now + 1), sample(2, device_now + 2)], laptop_now + 2, offset)
    stored = store.samples("rpi-a", laptop_now)

    assert offset == -3600.0
    assert [row["ts"] for row in stored] == [laptop_now + 1, laptop_now + 2]
    assert [row["device_ts"] for row in stored] == [device_now + 1, device_now + 2]
    assert store.samples("rpi-a", laptop_now + 3, laptop_now + 3600 + 10) == []
    assert store.rollups("rpi-a", T0)[0]["minute"] == T0 + 60


def test_heartbeat_updates_receive_time(store):
    store.ingest("rpi-a", samples([1]), RECEIVED, 0.0)

    store.record_notice("rpi-a", parse_line('{"type": "heartbeat", "device_ts": 1764893000.0}'),
                        received_at=RECEIVED + 30)

    assert stream_row(store, "rpi-a")["last_received_at"] == RECEIVED + 30


def test_latest_and_recent(store):
    store.ingest("rpi-a", [sample(seq, T0 + seq, requests=seq, errors=seq // 2) for seq in range(1, 6)],
                 RECEIVED, 0.0)

    assert store.latest("rpi-a")["seq"] == 5
    assert store.latest("rpi-b") is None
    assert store.recent("rpi-a", "requests", 3) == [3, 4, 5]
    assert store.recent("rpi-a", "error_rate", 2) == [2 / 4, 2 / 5]
    assert store.recent("rpi-a", "throughput_rps", 1) == [5.0]


def test_samples_window_bounds(store):
    store.ingest("rpi-a", samples(range(1, 11)), RECEIVED, 0.0)

    window = store.samples("rpi-a", T0 + 3, T0 + 6)

    assert [row["seq"] for row in window] == [3, 4, 5, 6]
    assert window[0]["serving"] is True
    assert window[0]["error_rate"] == 0.0


def test_path_opens_own_connection(db_path):
    with TelemetryStore(db_path) as own:
        own.ingest("rpi-a", samples([1, 2]), RECEIVED, 0.0)
    assert count_rows(db_path, "telemetry_samples") == 2


def test_fleet_of_200_devices_ingests_in_one_transaction_per_call(store, fleet, db_path):
    statements: list[str] = []
    fleet._connection.db.conn.set_trace_callback(statements.append)
    per_device = samples(range(1, 61), start_ts=T0 - 1)

    for index in range(200):
        result = store.ingest(f"device-{index:03d}", per_device, RECEIVED, 0.0)
        assert result.inserted == 60
    fleet._connection.db.conn.set_trace_callback(None)

    begins = [statement for statement in statements if statement.startswith("BEGIN")]
    commits = [statement for statement in statements if statement.startswith("COMMIT")]
    assert len(begins) == 200
    assert len(commits) == 200
    assert count_rows(db_path, "telemetry_samples") == 200 * 60
    assert count_rows(db_path, "telemetry_rollups") == 200
    assert count_rows(db_path, "telemetry_streams") == 200
    assert len(store.devices()) == 200
