"""The spool on real files: append, replay after a seq, the bound, torn lines and restarts."""

import json
import os

from device_shim.telemetry.spool import SpoolWriter, segment_lines_for
from device_shim.telemetry.state import TelemetryPaths, read_state
from stream_fixtures import make_layout, read_all, sample, segment_names, seqs_of, write_samples


def test_spool_append_assigns_seq_and_stream(tmp_path):
    layout = make_layout(tmp_path)
    writer = write_samples(layout, 5)
    writer.close()

    state = read_state(TelemetryPaths(layout))
    lines = read_all(layout)
    assert seqs_of(lines) == [1, 2, 3, 4, 5]
    assert {line["stream"] for line in lines} == {state["stream"]}
    assert len(state["stream"]) == 16
    assert state["next_seq"] == 6
    assert state["dropped_total"] == 0
    assert state["clean"] is True
    assert segment_names(layout) == ["000000000001.jsonl"]


def test_spool_line_keeps_contract_key_order(tmp_path):
    layout = make_layout(tmp_path)
    write_samples(layout, 1).close()

    path = os.path.join(TelemetryPaths(layout).spool_dir, "000000000001.jsonl")
    with open(path, "rb") as handle:
        data = handle.read()
    assert data.endswith(b"\n")
    assert data.count(b"\n") == 1
    assert list(json.loads(data))[:4] == ["type", "stream", "seq", "ts"]


def test_spool_replay_after_seq(tmp_path):
    layout = make_layout(tmp_path)
    write_samples(layout, 12, max_samples=1000).close()

    assert seqs_of(read_all(layout, after=7)) == [8, 9, 10, 11, 12]
    assert read_all(layout, after=12) == []
    assert read_all(layout, after=50) == []


def test_spool_segments_roll_at_limit(tmp_path):
    layout = make_layout(tmp_path)
    # A bound of 40 gives segments of 5 lines.
    assert segment_lines_for(40) == 5
    write_samples(layout, 12, max_samples=40).close()

    assert segment_names(layout) == ["000000000001.jsonl", "000000000006.jsonl", "000000000011.jsonl"]
    assert segment_lines_for(86400) == 3600
    assert segment_lines_for(1) == 1


def test_spool_restart_continues_seq_and_segment(tmp_path):
    layout = make_layout(tmp_path)
    write_samples(layout, 3, max_samples=40).close()
    write_samples(layout, 4, max_samples=40).close()

    assert seqs_of(read_all(layout)) == [1, 2, 3, 4, 5, 6, 7]
    assert segment_names(layout) == ["000000000001.jsonl", "000000000006.jsonl"]
    assert read_state(TelemetryPaths(layout))["next_seq"] == 8


def test_spool_bound_drops_oldest(tmp_path):
    layout = make_layout(tmp_path)
    # Segments of 2 lines: after 40 samples 16 or fewer stay, the oldest are gone.
    write_samples(layout, 40, max_samples=16).close()

    state = read_state(TelemetryPaths(layout))
    kept = seqs_of(read_all(layout))
    assert len(kept) <= 16
    assert len(kept) >= 14
    assert kept == list(range(kept[0], 41))
    assert state["dropped_total"] == kept[0] - 1
    assert state["dropped"] == [[1, kept[0] - 1]]


def test_spool_replay_prints_dropped_at_gap(tmp_path):
    layout = make_layout(tmp_path)
    write_samples(layout, 40, max_samples=16).close()
    oldest = seqs_of(read_all(layout))[0]

    lines = read_all(layout, after=0)
    assert lines[0] == {
        "type": "dropped",
        "stream": read_state(TelemetryPaths(layout))["stream"],
        "first_seq": 1,
        "last_seq": oldest - 1,
        "count": oldest - 1,
    }
    assert lines[1]["seq"] == oldest

    # A console that has seq 5 only misses the seqs after it.
    after_five = read_all(layout, after=5)
    assert after_five[0]["first_seq"] == 6
    assert after_five[0]["count"] == oldest - 6

    # A console already past the gap gets no dropped line.
    assert [line["type"] for line in read_all(layout, after=oldest)] == ["sample"] * (40 - oldest)


def test_spool_torn_line_skipped(tmp_path):
    layout = make_layout(tmp_path)
    write_samples(layout, 3).close()
    path = os.path.join(TelemetryPaths(layout).spool_dir, "000000000001.jsonl")
    # A crash in the middle of the fourth write leaves a line without its end.
    with open(path, "ab") as handle:
        handle.write(b'{"type":"sample","stream":"x","seq":4,"ts":17')

    assert seqs_of(read_all(layout)) == [1, 2, 3]

    write_samples(layout, 2).close()
    with open(path, "rb") as handle:
        raw_lines = handle.read().split(b"\n")
    assert raw_lines[3] == b'{"type":"sample","stream":"x","seq":4,"ts":17'
    assert json.loads(raw_lines[4])["seq"] == 4
    assert seqs_of(read_all(layout)) == [1, 2, 3, 4, 5]


def test_spool_invalid_line_skipped(tmp_path):
    layout = make_layout(tmp_path)
    writer = write_samples(layout, 2)
    os.write(writer._descriptor, b"not json at all\n[1, 2]\n")
    write_samples(layout, 2, writer=writer).close()

    assert seqs_of(read_all(layout)) == [1, 2, 3, 4]


def test_spool_power_cut_skips_seqs(tmp_path):
    layout = make_layout(tmp_path)
    paths = TelemetryPaths(layout)
    writer = write_samples(layout, 3)
    # Simulate a power cut: the writer never closed, and the machine booted again.
    state = read_state(paths)
    assert state["clean"] is False
    state["boot_id"] = "an-earlier-boot"
    with open(paths.state_file, "w") as handle:
        json.dump(state, handle)
    os.close(writer._descriptor)

    writer = SpoolWriter(layout, 86400, interval_s=1.0)
    writer.open()
    writer.append(sample())
    writer.close()

    seqs = seqs_of(read_all(layout))
    assert seqs[:3] == [1, 2, 3]
    # The lines of the last 10 s (fsync interval) at 1 s intervals may be lost in a
    # power cut, so the writer skips 10 + 1 seqs.
    assert seqs[3] == 4 + 11


def test_spool_process_crash_keeps_seq(tmp_path):
    layout = make_layout(tmp_path)
    writer = write_samples(layout, 3)
    # serve died without closing the spool, on the same boot: nothing flushed was lost.
    os.close(writer._descriptor)

    write_samples(layout, 1).close()
    assert seqs_of(read_all(layout)) == [1, 2, 3, 4]


def test_spool_state_lost_keeps_stream(tmp_path):
    layout = make_layout(tmp_path)
    paths = TelemetryPaths(layout)
    write_samples(layout, 3).close()
    stream = read_state(paths)["stream"]
    os.unlink(paths.state_file)

    write_samples(layout, 1).close()
    state = read_state(paths)
    assert state["stream"] == stream
    assert seqs_of(read_all(layout)) == [1, 2, 3, 4]


def test_spool_new_home_new_stream(tmp_path):
    first = make_layout(tmp_path / "a")
    second = make_layout(tmp_path / "b")
    write_samples(first, 1).close()
    write_samples(second, 1).close()

    assert read_state(TelemetryPaths(first))["stream"] != read_state(TelemetryPaths(second))["stream"]


def test_spool_rejects_invalid_bound(tmp_path):
    layout = make_layout(tmp_path)
    for bound in (0, -5, 2.5, None):
        try:
            SpoolWriter(layout, bound)
        except ValueError as exc:
            assert repr(bound) in str(exc)
        else:
            raise AssertionError("bound {!r} was accepted".format(bound))
