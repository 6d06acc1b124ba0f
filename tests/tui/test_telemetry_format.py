"""Sparklines, alert markers, trends, telemetry columns and chart series, without an app."""

import pytest

from edgetui.tui.columns import fit_columns
from edgetui.tui.telemetry_format import (
    DeviceTelemetry,
    alert_marker,
    drift_scale,
    error_rate_sparkline,
    gauge_bar,
    sparkline,
    telemetry_cells,
    trend_arrow,
    worst_severity,
)
from edgetui.tui.telemetry_series import RANGE_BY_KEY, as_timestamp, chart_series, x_ticks


def test_sparkline_spans_min_to_max():
    assert sparkline([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]) == "▁▂▃▄▅▆▇█"


def test_sparkline_gap_and_flat():
    assert sparkline([2.0, None, 2.0]) == "▁ ▁"
    assert sparkline([None, None]) == "  "
    assert sparkline([]) == ""


def test_error_rate_sparkline_full_at_five_percent():
    assert error_rate_sparkline([0.0, 0.05, 0.1]) == "▁▅█"
    assert error_rate_sparkline([0.0, 0.05]) == "▁█"
    assert error_rate_sparkline([0.0, 0.0]) == "▁▁"


@pytest.mark.parametrize(("severities", "marker"), [
    (["watch", "act"], "▲"), (["watch"], "△"), ([], ""),
])
def test_alert_marker_worst(severities, marker):
    assert alert_marker(worst_severity(severities)) == marker


def test_telemetry_cells_without_data():
    assert telemetry_cells(None) == {"alert": "", "p95": "", "error_rate": ""}
    cells = telemetry_cells(DeviceTelemetry(p95=[1.0, 2.0], error_rate=[0.0, 0.0], alert="act"))
    assert cells == {"alert": "▲", "p95": "▁█", "error_rate": "▁▁"}


@pytest.mark.parametrize(("values", "arrow"), [
    ([0.02, 0.03, 0.10, 0.14], "↑"), ([0.2, 0.2, 0.05, 0.04], "↓"), ([0.1, 0.1, 0.1, 0.1], "→"), ([0.1], ""),
])
def test_trend_arrow(values, arrow):
    assert trend_arrow(values) == arrow


def test_drift_scale_marks_thresholds():
    scale = drift_scale(0.3, 41, maximum=0.4)
    assert scale[10] == "│"
    assert scale[25] == "│"
    assert scale[30] == "●"


def test_gauge_bar_clamps():
    assert gauge_bar(0.5, 4) == "██░░"
    assert gauge_bar(1.7, 4) == "████"
    assert gauge_bar(None, 3) == "···"


def test_telemetry_columns_at_80():
    content = {"name": 16, "status": 30, "board": 30, "accelerators": 10, "last_seen": 8, "p95": 30,
               "error_rate": 30, "alert": 1}
    keys = [spec.key for spec, _ in fit_columns(content, 78, telemetry=True)]
    assert keys[:5] == ["name", "status", "alert", "p95", "error_rate"]
    assert "board" not in keys
    without = [spec.key for spec, _ in fit_columns(content, 78)]
    assert "p95" not in without
    assert "alert" not in without


def test_chart_series_from_rollups():
    rows = [
        {"minute": 1_000_020.0, "requests": 120, "errors": 6, "latency_ms_p50": 2.0, "latency_ms_p95": 4.0,
         "latency_ms_p99": 5.0, "drift_psi": None},
        {"minute": 1_000_080.0, "requests": 0, "errors": 0, "latency_ms_p50": None, "latency_ms_p95": None,
         "latency_ms_p99": None, "drift_psi": 0.2},
    ]
    series = chart_series(list(reversed(rows)), RANGE_BY_KEY["1h"], now=1_000_140.0)
    assert series.x == [-2.0, -1.0]
    assert series.throughput == [2.0, 0.0]
    assert series.error_percent == [5.0, None]
    assert series.p95 == [4.0, None]
    assert series.drift == [None, 0.2]


def test_x_ticks_labels():
    positions, labels = x_ticks(RANGE_BY_KEY["24h"], count=5)
    assert positions[0] == -24.0
    assert labels == ["-24h", "-18h", "-12h", "-6h", "now"]


def test_as_timestamp_forms():
    assert as_timestamp(12.5) == 12.5
    assert as_timestamp("1970-01-01T00:01:00Z") == 60.0
    assert as_timestamp("1970-01-01T00:01:00") == 60.0
    with pytest.raises(ValueError, match="Invalid telemetry time"):
        as_timestamp(None)
