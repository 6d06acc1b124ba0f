"""The sampler thread writing to a real spool: one sample per interval, increasing seq, failures survived."""

import math
import threading

from device_shim.telemetry.sampler import Sampler, build_sample, percentile, start_sampler
from device_shim.telemetry.state import TelemetryPaths, read_state
from stream_fixtures import make_layout, read_all, seqs_of, wait_until

CONTRACT_KEYS = [
    "type",
    "stream",
    "seq",
    "ts",
    "interval_s",
    "requests",
    "errors",
    "latency_ms_p50",
    "latency_ms_p95",
    "latency_ms_p99",
    "cpu_percent",
    "mem_used_mb",
    "mem_total_mb",
    "temp_c",
    "disk_free_mb",
    "disk_used_percent",
    "release",
    "serving",
    "drift_psi",
    "drift_input_psi",
]


class CountingSource(object):
    """A window_source with 10 requests of 1..10 ms per window; raises on the calls listed in fail_on."""

    def __init__(self, fail_on=()):
        self.calls = 0
        self.fail_on = set(fail_on)
        self.lock = threading.Lock()

    def __call__(self):
        with self.lock:
            self.calls += 1
            call = self.calls
        if call in self.fail_on:
            raise RuntimeError("window source failure on call {}".format(call))
        return {
            "requests": 10,
            "errors": 1,
            "latencies_ms": [float(value) for value in range(10, 0, -1)],
            "release": "demo-1.0.0-0123456789ab",
            "serving": True,
            "drift_psi": 0.03,
            "drift_input_psi": None,
        }


class BrokenSystem(object):
    def sample(self):
        raise OSError("no /proc here")


def samples_in(layout):
    return [line for line in read_all(layout) if line["type"] == "sample"]


def test_sampler_writes_one_sample_per_interval(tmp_path):
    layout = make_layout(tmp_path)
    source = CountingSource()
    sampler = start_sampler(layout, source, interval_s=0.05, spool_max_samples=1000)
    try:
        assert wait_until(lambda: len(samples_in(layout)) >= 6)
    finally:
        sampler.stop()

    samples = samples_in(layout)
    # One window_source call per written sample, none lost or doubled.
    assert len(samples) == source.calls
    assert seqs_of(samples) == list(range(1, len(samples) + 1))
    assert all(later["ts"] >= earlier["ts"] for earlier, later in zip(samples, samples[1:]))

    first = samples[0]
    assert list(first) == CONTRACT_KEYS
    assert first["stream"] == read_state(TelemetryPaths(layout))["stream"]
    assert first["interval_s"] == 0.05
    assert first["requests"] == 10
    assert first["errors"] == 1
    # Nearest rank over 1..10 ms: p50 is the 5th value, p95 and p99 the 10th.
    assert first["latency_ms_p50"] == 5.0
    assert first["latency_ms_p95"] == 10.0
    assert first["latency_ms_p99"] == 10.0
    assert first["release"] == "demo-1.0.0-0123456789ab"
    assert first["serving"] is True
    assert first["drift_psi"] == 0.03
    assert first["drift_input_psi"] is None
    assert first["disk_free_mb"] > 0


def test_sampler_survives_raising_window_source(tmp_path):
    layout = make_layout(tmp_path)
    source = CountingSource(fail_on={1, 2, 4})
    sampler = start_sampler(layout, source, interval_s=0.05, spool_max_samples=1000)
    try:
        assert wait_until(lambda: len(samples_in(layout)) >= 6)
    finally:
        sampler.stop()

    samples = samples_in(layout)
    assert seqs_of(samples) == list(range(1, len(samples) + 1))
    failed = [samples[0], samples[1], samples[3]]
    for sample in failed:
        assert sample["requests"] is None
        assert sample["latency_ms_p50"] is None
        assert sample["release"] is None
        # System metrics are still read when the window fails.
        assert sample["disk_free_mb"] > 0
    assert samples[2]["requests"] == 10
    assert samples[4]["requests"] == 10


def test_sampler_survives_broken_system_metrics(tmp_path):
    layout = make_layout(tmp_path)
    sampler = Sampler(layout, CountingSource(), interval_s=0.05, spool_max_samples=1000, system=BrokenSystem())
    sampler.start()
    try:
        assert wait_until(lambda: len(samples_in(layout)) >= 3)
    finally:
        sampler.stop()

    for sample in samples_in(layout):
        assert sample["requests"] == 10
        assert sample["cpu_percent"] is None
        assert sample["disk_free_mb"] is None


def test_sampler_stop_closes_spool(tmp_path):
    layout = make_layout(tmp_path)
    sampler = start_sampler(layout, CountingSource(), interval_s=0.05, spool_max_samples=1000)
    assert wait_until(lambda: len(samples_in(layout)) >= 2)
    sampler.stop()

    count = len(samples_in(layout))
    state = read_state(TelemetryPaths(layout))
    assert state["clean"] is True
    assert state["next_seq"] == count + 1


def test_sampler_restart_continues_stream(tmp_path):
    layout = make_layout(tmp_path)
    first = start_sampler(layout, CountingSource(), interval_s=0.05, spool_max_samples=1000)
    assert wait_until(lambda: len(samples_in(layout)) >= 2)
    first.stop()
    second = start_sampler(layout, CountingSource(), interval_s=0.05, spool_max_samples=1000)
    before = len(samples_in(layout))
    assert wait_until(lambda: len(samples_in(layout)) >= before + 2)
    second.stop()

    samples = samples_in(layout)
    assert seqs_of(samples) == list(range(1, len(samples) + 1))
    assert len({sample["stream"] for sample in samples}) == 1


def test_sampler_rejects_bad_interval(tmp_path):
    layout = make_layout(tmp_path)
    for interval in (0, -1, "1", float("nan")):
        try:
            Sampler(layout, CountingSource(), interval_s=interval)
        except ValueError as exc:
            assert "interval_s" in str(exc)
        else:
            raise AssertionError("interval {!r} was accepted".format(interval))


def test_sampler_percentile_nearest_rank():
    values = [15.0, 20.0, 35.0, 40.0, 50.0]
    assert percentile(values, 5) == 15.0
    assert percentile(values, 30) == 20.0
    assert percentile(values, 40) == 20.0
    assert percentile(values, 50) == 35.0
    assert percentile(values, 100) == 50.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None


def test_sampler_sample_values_are_json_safe():
    window = {
        "requests": 3,
        "errors": 0,
        "latencies_ms": [2.0, float("nan"), "slow", 4.0, float("inf")],
        "release": 17,
        "serving": "yes",
        "drift_psi": float("nan"),
        "drift_input_psi": float("-inf"),
    }
    sample = build_sample(window, {"temp_c": float("nan"), "cpu_percent": 12.5}, 1.0, 1000.0)
    assert sample["latency_ms_p50"] == 2.0
    assert sample["latency_ms_p99"] == 4.0
    assert sample["release"] is None
    assert sample["serving"] is None
    assert sample["drift_psi"] is None
    assert sample["drift_input_psi"] is None
    assert sample["temp_c"] is None
    assert sample["cpu_percent"] == 12.5
    assert not any(isinstance(value, float) and not math.isfinite(value) for value in sample.values())


def test_sampler_no_requests_no_latency():
    sample = build_sample({"requests": 0, "errors": 0, "latencies_ms": [1.0]}, {}, 1.0, 1000.0)
    assert sample["latency_ms_p50"] is None
    assert sample["latency_ms_p95"] is None
    assert sample["latency_ms_p99"] is None
    assert sample["requests"] == 0
