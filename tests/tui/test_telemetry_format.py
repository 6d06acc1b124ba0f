"""Sparklines, alert markers, trends, telemetry columns and chart series, without an app."""

import pytest

from edgetui.tui.columns import fit_columns
from edgetui.tui.telemetry_format import (
    UNSUPPORTED_MARK,
    DeviceTelemetry,
    alert_marker,
    alert_value_text,
    drift_scale,
    error_rate_sparkline,
    fit_samples,
    gauge_bar,
    latency_sparkline,
    sparkline,
    telemetry_cells,
    trend_arrow,
    worst_severity,
)
from edgetui.tui.telemetry_series import RANGE_BY_KEY, as_timestamp, chart_series, x_ticks, y_axis


def test_sparkline_spans_min_to_max():
    assert sparkline([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]) == "▁▂▃▄▅▆▇█"


def test_sparkline_gap_and_flat():
    assert sparkline([2.0, None, 2.0]) == "▁ ▁"
    assert sparkline([None, None]) == "  "
    assert sparkline([]) == ""


def test_error_rate_sparkline_fixed_scale():
    assert error_rate_sparkline([0.0, 0.5, 1.0]) == "▁▅█"
    assert error_rate_sparkline([0.0, 0.0]) == "▁▁"
    # Any error draws at least the second block, so a small rate stays visible on the 0-100 % scale.
    assert error_rate_sparkline([0.0, 0.05]) == "▁▂"
    assert error_rate_sparkline([0.05, 0.1]) == "▂▂"


def test_latency_sparkline_scales_from_zero():
    # A flat 5 ms line is flat, and a small wobble does not look like a spike.
    assert latency_sparkline([5.0, 5.0, 5.0]) == "███"
    assert latency_sparkline([5.0, 5.2, 5.0]) == "███"
    assert latency_sparkline([5.0, 300.0, 5.0]) == "▂█▂"
    assert latency_sparkline([None, 4.0]) == " █"


def test_fit_samples_keeps_spike_and_span():
    values = [1.0] * 30
    values[3] = 99.0
    fitted = fit_samples(values, 10)
    assert len(fitted) == 10
    assert fitted[1] == 99.0
    assert fitted.count(1.0) == 9


def test_fit_samples_pads_old_end():
    fitted = fit_samples([2.0, 3.0], 10)
    assert fitted[:9] == [None] * 9
    assert fitted[9] == 3.0
    assert fit_samples([2.0, 3.0], 30)[-2:] == [2.0, 3.0]
    assert len(fit_samples([2.0] * 45, 30)) == 30
    assert fit_samples([2.0], 0) == []


def test_fit_samples_uneven_groups():
    fitted = fit_samples(list(range(30)), 8)
    assert fitted == [2, 6, 10, 14, 17, 21, 25, 29]


@pytest.mark.parametrize(("severities", "marker"), [
    (["watch", "act"], "▲"), (["watch"], "△"), ([], ""),
])
def test_alert_marker_worst(severities, marker):
    assert alert_marker(worst_severity(severities)) == marker


def test_telemetry_cells_without_data():
    assert telemetry_cells(None) == {"alert": "", "p95": "", "error_rate": ""}
    cells = telemetry_cells(DeviceTelemetry(p95=[1.0, 2.0], error_rate=[0.0, 0.0], alert="act"))
    assert cells == {"alert": "▲", "p95": " " * 28 + "▅█", "error_rate": " " * 28 + "▁▁"}


def test_telemetry_cells_same_span_both_columns():
    p95 = [10.0] * 29 + [50.0]
    rates = [0.5] + [0.0] * 29
    cells = telemetry_cells(DeviceTelemetry(p95=p95, error_rate=rates), cells=10)
    assert len(cells["p95"]) == 10
    assert len(cells["error_rate"]) == 10
    # The oldest error and the newest latency spike both stay inside the 10 cells.
    assert cells["error_rate"][0] == "▅"
    assert cells["p95"][-1] == "█"


def test_telemetry_cells_unsupported_device():
    cells = telemetry_cells(DeviceTelemetry(unsupported="python3 missing"))
    assert cells == {"alert": "", "p95": UNSUPPORTED_MARK, "error_rate": UNSUPPORTED_MARK}


@pytest.mark.parametrize(("metric", "value", "text"), [
    ("error_rate", 0.06667, "6.7%"), ("latency_ms_p95", 130.24, "130.2 ms"), ("drift_psi", 0.31234, "0.312"),
    ("temp_c", 81.0, "81.0 °C"), ("offline_s", 125.4, "125 s"), (None, 0.06667, "0.06667"), ("error_rate", None, "—"),
])
def test_alert_value_text_by_metric(metric, value, text):
    assert alert_value_text(metric, value) == text


@pytest.mark.parametrize(("values", "options", "top", "ticks"), [
    ([0.0, 0.0], {"minimum_top": 5.0, "maximum_top": 100.0}, 6.0, [0, 2, 4, 6]),
    ([12.7, 40.0], {}, 40.0, [0, 10, 20, 30, 40]),
    ([250.0], {"minimum_top": 5.0, "maximum_top": 100.0}, 100.0, [0, 50, 100]),
    ([None, 3.3], {}, 4.0, [0, 1, 2, 3, 4]),
])
def test_y_axis_from_zero_even_ticks(values, options, top, ticks):
    axis_top, axis_ticks, labels = y_axis(values, **options)
    assert axis_top == top
    assert axis_ticks == ticks
    assert labels[0] == "0"
    steps = {round(b - a, 9) for a, b in zip(axis_ticks, axis_ticks[1:], strict=False)}
    assert len(steps) == 1


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
