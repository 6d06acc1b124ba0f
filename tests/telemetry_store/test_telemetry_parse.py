"""parse_line: the stream's typed JSON lines are accepted, everything else raises GarbageLine."""

import json

import pytest

from edgetui.telemetry import GarbageLine, Sample, StreamNotice, parse_line

from .conftest import STREAM, T0, sample_text


def test_sample_line_parses_every_field():
    parsed = parse_line(sample_text(7, T0, requests=12, errors=3, drift_psi=None))

    assert isinstance(parsed, Sample)
    assert parsed.stream == STREAM
    assert parsed.seq == 7
    assert parsed.ts == T0
    assert parsed.requests == 12
    assert parsed.errors == 3
    assert parsed.drift_psi is None
    assert parsed.serving is True
    assert parsed.error_rate == 0.25
    assert parsed.throughput_rps == 12.0


def test_sample_accepts_integer_ts_and_bytes():
    parsed = parse_line(sample_text(1, 1764892800).encode())
    assert parsed.ts == 1764892800.0


def test_cpu_above_100_percent_is_valid():
    # A 4-core device at full load reports 400 %.
    assert parse_line(sample_text(1, T0, cpu_percent=398.5)).cpu_percent == 398.5


def test_unknown_extra_field_is_ignored():
    assert parse_line(sample_text(1, T0, gpu_percent=12.0)).seq == 1


def test_zero_requests_gives_zero_error_rate():
    parsed = parse_line(sample_text(1, T0, requests=0, errors=0, latency_ms_p50=None,
                                    latency_ms_p95=None, latency_ms_p99=None))
    assert parsed.error_rate == 0.0
    assert parsed.throughput_rps == 0.0


def test_hello_dropped_and_heartbeat_parse():
    hello = parse_line(json.dumps({"type": "hello", "stream": STREAM, "next_seq": 41, "oldest_seq": 3,
                                   "dropped_total": 2, "device_ts": T0, "shim": "0.1.0"}))
    dropped = parse_line(json.dumps({"type": "dropped", "stream": STREAM, "first_seq": 1, "last_seq": 2,
                                     "count": 2}))
    heartbeat = parse_line(json.dumps({"type": "heartbeat", "device_ts": T0 + 5}))

    assert isinstance(hello, StreamNotice)
    assert (hello.type, hello.next_seq, hello.oldest_seq, hello.device_ts) == ("hello", 41, 3, T0)
    assert (dropped.type, dropped.first_seq, dropped.last_seq, dropped.count) == ("dropped", 1, 2, 2)
    assert (heartbeat.type, heartbeat.device_ts, heartbeat.stream) == ("heartbeat", T0 + 5, None)


GARBAGE = [
    # (description, line, text the message must contain)
    ("not JSON", "serve: listening on 127.0.0.1:8080", "not JSON"),
    ("half a line", sample_text(1, T0)[:40], "not JSON"),
    ("empty", "   ", "empty line"),
    ("array", "[1, 2, 3]", "list"),
    ("string", '"sample"', "str"),
    ("no type", json.dumps({"seq": 1, "ts": T0}), '"type"'),
    ("unknown type", json.dumps({"type": "metrics", "seq": 1}), "'metrics'"),
    ("missing ts", json.dumps({k: v for k, v in json.loads(sample_text(1, T0)).items() if k != "ts"}), "'ts'"),
    ("missing serving", json.dumps({k: v for k, v in json.loads(sample_text(1, T0)).items() if k != "serving"}),
     "'serving'"),
    ("negative seq", sample_text(-4, T0), "'seq'"),
    ("zero seq", sample_text(0, T0), "'seq'"),
    ("fractional seq", sample_text(1.5, T0), "'seq'"),
    ("seq as float", sample_text(2.0, T0), "'seq'"),
    ("seq as bool", sample_text(True, T0), "'seq'"),
    ("seq as text", sample_text("3", T0), "'seq'"),
    ("seq beyond 64 bits", sample_text(2**64, T0), "'seq'"),
    ("requests as text", sample_text(1, T0, requests="12"), "'requests'"),
    ("negative requests", sample_text(1, T0, requests=-1), "'requests'"),
    ("errors above requests", sample_text(1, T0, requests=2, errors=3), "errors (3) exceeds requests (2)"),
    ("NaN cpu", sample_text(1, T0).replace('"cpu_percent": 20.0', '"cpu_percent": NaN'), "'cpu_percent'"),
    ("infinite latency", sample_text(1, T0).replace('"latency_ms_p95": 5.0', '"latency_ms_p95": Infinity'),
     "'latency_ms_p95'"),
    ("overflowing temperature", sample_text(1, T0).replace('"temp_c": 45.0', '"temp_c": 1e999'), "'temp_c'"),
    ("negative cpu", sample_text(1, T0, cpu_percent=-5.0), "'cpu_percent'"),
    ("temperature below absolute zero", sample_text(1, T0, temp_c=-300.0), "'temp_c'"),
    ("disk above 100 percent", sample_text(1, T0, disk_used_percent=140.0), "'disk_used_percent'"),
    ("zero interval", sample_text(1, T0, interval_s=0), "'interval_s'"),
    ("serving as int", sample_text(1, T0, serving=1), "'serving'"),
    ("bad stream id", sample_text(1, T0, stream="a b;rm"), "'stream'"),
    ("hello without stream", json.dumps({"type": "hello", "next_seq": 1, "dropped_total": 0, "device_ts": T0,
                                         "shim": "0.1"}), "stream"),
    ("dropped range reversed", json.dumps({"type": "dropped", "stream": STREAM, "first_seq": 9, "last_seq": 3,
                                           "count": 7}), "last_seq (3) is below first_seq (9)"),
    ("heartbeat without time", json.dumps({"type": "heartbeat"}), "device_ts"),
]


@pytest.mark.parametrize(("line", "expected"), [(line, expected) for _, line, expected in GARBAGE],
                         ids=[description for description, _, _ in GARBAGE])
def test_garbage_line_is_rejected(line, expected):
    with pytest.raises(GarbageLine) as raised:
        parse_line(line)

    stripped = line.strip()
    expected_excerpt = stripped if len(stripped) <= 120 else stripped[:117] + "..."
    assert expected in str(raised.value)
    assert raised.value.excerpt == expected_excerpt


def test_invalid_utf8_is_garbage():
    with pytest.raises(GarbageLine, match="not UTF-8"):
        parse_line(b'{"type": "sample", "stream": "\xff\xfe"}')


def test_garbage_excerpt_is_bounded():
    line = "x" * 5000
    with pytest.raises(GarbageLine) as raised:
        parse_line(line)
    assert len(raised.value.excerpt) == 120
    assert len(str(raised.value)) < 300
