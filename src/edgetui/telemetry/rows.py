"""Column lists of the telemetry tables and the conversion of their rows to plain dicts.

The dict keys are the keys of the CLI's JSON output. Timestamps stay unix
seconds (floats) here; the CLI formats them as ISO 8601 text.
"""

from typing import Any

from edgetui.telemetry.samples import Sample, error_rate

# Columns of telemetry_samples in table order.
SAMPLE_COLUMNS = (
    "device", "stream", "seq", "ts", "device_ts", "received_at", "interval_s", "requests", "errors",
    "latency_ms_p50", "latency_ms_p95", "latency_ms_p99", "cpu_percent", "mem_used_mb", "mem_total_mb",
    "temp_c", "disk_free_mb", "disk_used_percent", "release", "serving", "drift_psi", "drift_input_psi",
)

# Fields copied unchanged from a Sample into its row.
_SAMPLE_FIELDS = SAMPLE_COLUMNS[6:]

ROLLUP_COLUMNS = (
    "device", "minute", "samples", "interval_s", "requests", "errors", "latency_ms_p50", "latency_ms_p95",
    "latency_ms_p99", "cpu_percent", "mem_used_mb", "temp_c", "drift_psi", "drift_input_psi", "release",
)

STREAM_COLUMNS = (
    "device", "stream", "last_seq", "clock_offset_s", "dropped_total", "dropped_through_seq", "gaps",
    "duplicates", "garbage", "last_received_at",
)

# SQL for the values derived from a sample row. Error rate is 0 without requests.
ERROR_RATE_SQL = "(CASE WHEN requests > 0 THEN CAST(errors AS REAL) / requests ELSE 0.0 END)"
THROUGHPUT_SQL = "(requests / interval_s)"

# Metrics that `TelemetryStore.recent` returns, each a column or an expression on telemetry_samples.
SAMPLE_METRICS: dict[str, str] = {
    **{name: name for name in (
        "requests", "errors", "latency_ms_p50", "latency_ms_p95", "latency_ms_p99", "cpu_percent",
        "mem_used_mb", "mem_total_mb", "temp_c", "disk_free_mb", "disk_used_percent", "drift_psi",
        "drift_input_psi",
    )},
    "error_rate": ERROR_RATE_SQL,
    "throughput_rps": THROUGHPUT_SQL,
}


def sample_row(device: str, sample: Sample, received_at: float, clock_offset_s: float) -> tuple[Any, ...]:
    """Return the telemetry_samples values of one sample, in SAMPLE_COLUMNS order."""
    fields = tuple(getattr(sample, name) for name in _SAMPLE_FIELDS)
    serving_index = _SAMPLE_FIELDS.index("serving")
    fields = fields[:serving_index] + (int(sample.serving),) + fields[serving_index + 1:]
    return (device, sample.stream, sample.seq, sample.ts + clock_offset_s, sample.ts, received_at) + fields


def sample_dict(row: dict[str, Any]) -> dict[str, Any]:
    """Convert a telemetry_samples row to the sample dict of the API, with error rate and throughput."""
    sample = dict(row)
    sample["serving"] = bool(sample["serving"])
    sample["error_rate"] = error_rate(sample["requests"], sample["errors"])
    sample["throughput_rps"] = sample["requests"] / sample["interval_s"]
    return sample


def rollup_dict(row: dict[str, Any]) -> dict[str, Any]:
    """Convert a telemetry_rollups row to the roll-up dict of the API, with error rate and throughput."""
    rollup = dict(row)
    rollup["error_rate"] = error_rate(rollup["requests"], rollup["errors"])
    rollup["throughput_rps"] = rollup["requests"] / rollup["interval_s"] if rollup["interval_s"] else 0.0
    return rollup
