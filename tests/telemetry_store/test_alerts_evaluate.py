"""evaluate_alerts: alerts open once a window aggregate meets a rule, resolve when it stops, one per rule and device."""

import pytest

from edgetui.telemetry.alerts import MIN_ERROR_RATE_REQUESTS

from .conftest import T0, sample


def feed(store, device: str, start: int, stop: int, **fields) -> None:
    """Ingest one sample per second with seq = second, ts = T0 + second, for seconds start..stop-1."""
    store.ingest(device, [sample(second, T0 + second, **fields) for second in range(start, stop)],
                 T0 + stop, 0.0)


def feed_each(store, device: str, start: int, stop: int, fields_of) -> None:
    """Like feed, with the fields of each second from ``fields_of(second)``."""
    store.ingest(device, [sample(second, T0 + second, **fields_of(second)) for second in range(start, stop)],
                 T0 + stop, 0.0)


def opened(changes, rule: str | None = None):
    return [change for change in changes if change.kind == "opened" and (rule is None or change.rule == rule)]


def resolved(changes):
    return [change for change in changes if change.kind == "resolved"]


def test_latency_alert_opens_only_after_for_s(store):
    feed(store, "rpi-a", 1, 31, latency_ms_p95=250.0)
    early = store.evaluate_alerts(T0 + 30)

    feed(store, "rpi-a", 31, 62, latency_ms_p95=250.0)
    later = store.evaluate_alerts(T0 + 61)

    assert opened(early) == []
    assert [(change.rule, change.device, change.severity) for change in opened(later)] == [
        ("latency-p95", "rpi-a", "watch")]
    message = opened(later)[0].message
    assert "rpi-a" in message
    assert "p95 latency 250 ms" in message
    assert "threshold 100 ms" in message
    assert "over the last 1m" in message
    assert opened(later)[0].value == 250.0


def test_alert_opens_once_and_resolves(store):
    feed(store, "rpi-a", 1, 70, latency_ms_p95=250.0)
    first = store.evaluate_alerts(T0 + 69)
    second = store.evaluate_alerts(T0 + 69.5)

    # At T0 + 109 the window contains 20 samples of 250 ms and 40 of 30 ms: a
    # mean of 103.3 ms. One second later 19 and 41 make it 99.7 ms.
    feed(store, "rpi-a", 70, 111, latency_ms_p95=30.0)
    short_recovery = store.evaluate_alerts(T0 + 109)
    recovery = store.evaluate_alerts(T0 + 110)

    assert len(opened(first)) == 1
    assert second == []
    assert short_recovery == []
    assert [change.rule for change in resolved(recovery)] == ["latency-p95"]
    assert resolved(recovery)[0].value == pytest.approx((19 * 250 + 41 * 30) / 60)
    assert resolved(recovery)[0].message == (
        "rpi-a: p95 latency 99.67 ms over the last 1m, no longer above the threshold 100 ms (rule latency-p95)")
    alerts = store.alerts()
    assert len(alerts) == 1
    assert alerts[0]["resolved_at"] == T0 + 110
    assert alerts[0]["open"] is False


def test_noisy_error_rate_opens_alert(store):
    # 2 requests a second, which alternately both succeed and both fail, so
    # every sample is 0% or 100% and the minute is 50%.
    feed_each(store, "rpi-a", 1, 70, lambda second: {"requests": 2, "errors": 2 * (second % 2)})

    early = store.evaluate_alerts(T0 + 50)
    later = store.evaluate_alerts(T0 + 69)

    assert opened(early) == []
    assert [(change.rule, change.device) for change in opened(later)] == [("error-rate", "rpi-a")]
    assert opened(later)[0].value == 0.5
    assert opened(later)[0].message == (
        "rpi-a: error rate 50.0% over the last 1m, above the threshold 5.0% (rule error-rate)")


def _spiky_latency(second: int) -> dict:
    """Return a p95 of 300 ms with a 7 ms sample every 7th second and an idle second every 10th."""
    if second % 10 == 0:
        return {"requests": 0, "latency_ms_p50": None, "latency_ms_p95": None, "latency_ms_p99": None}
    if second % 7 == 0:
        return {"requests": 3, "latency_ms_p95": 7.0}
    return {"requests": 2, "latency_ms_p95": 300.0}


def test_latency_spike_with_low_samples_opens_alert(store):
    store.add_rule("slow-p50", "latency_ms_p50", ">", 2.5, for_s=60)
    feed_each(store, "rpi-a", 1, 70, _spiky_latency)

    changes = opened(store.evaluate_alerts(T0 + 69))

    # Request-weighted mean of the window (T0 + 9, T0 + 69], where idle seconds have no latency.
    window = [_spiky_latency(second) for second in range(10, 70)]
    busy = [fields for fields in window if fields["requests"] > 0]
    expected = (sum(fields["requests"] * fields["latency_ms_p95"] for fields in busy)
                / sum(fields["requests"] for fields in busy))
    assert [change.rule for change in changes] == ["latency-p95", "slow-p50"]
    assert changes[0].value == pytest.approx(expected)
    # Every busy sample has the default p50 of 3 ms.
    assert changes[1].value == pytest.approx(3.0)
    assert f"p95 latency {expected:.4g} ms over the last 1m" in changes[0].message
    assert "above the threshold 100 ms" in changes[0].message


def test_device_just_started_does_not_alert(store):
    feed(store, "rpi-a", 1, 51, requests=2, errors=2, latency_ms_p95=300.0, temp_c=90.0)

    started = store.evaluate_alerts(T0 + 50)
    feed(store, "rpi-a", 51, 62, requests=2, errors=2, latency_ms_p95=300.0, temp_c=90.0)
    whole_window = store.evaluate_alerts(T0 + 61)

    assert opened(started) == []
    assert sorted(change.rule for change in opened(whole_window)) == ["error-rate", "latency-p95", "temperature"]


def test_device_back_after_a_gap_does_not_alert(store):
    # Old samples exist, but the device was silent for the first part of the window.
    feed(store, "rpi-a", 1, 21)
    feed(store, "rpi-a", 121, 161, temp_c=90.0)

    assert opened(store.evaluate_alerts(T0 + 160)) == []


def test_error_rate_alert_uses_errors_over_requests(store):
    feed(store, "rpi-a", 1, 70, requests=20, errors=2)
    feed(store, "rpi-b", 1, 70, requests=20, errors=1)

    changes = store.evaluate_alerts(T0 + 69)

    assert [(change.device, change.value) for change in opened(changes, "error-rate")] == [("rpi-a", 0.1)]
    assert "error rate 10.0%" in opened(changes, "error-rate")[0].message


def test_idle_device_has_no_latency_alert(store):
    feed(store, "rpi-a", 1, 70, requests=0, errors=0, latency_ms_p50=None, latency_ms_p95=None,
         latency_ms_p99=None)

    assert store.evaluate_alerts(T0 + 69) == []


def test_offline_alert_from_collector_times(store):
    feed(store, "rpi-a", 1, 10)

    online = {"rpi-a": T0 + 9, "rpi-b": None}
    quiet = store.evaluate_alerts(T0 + 100, online)
    offline = store.evaluate_alerts(T0 + 130, online)
    online["rpi-a"] = T0 + 131
    back = store.evaluate_alerts(T0 + 132, online)

    assert quiet == []
    assert [(change.rule, change.device, change.severity) for change in opened(offline)] == [
        ("offline", "rpi-a", "act")]
    assert opened(offline)[0].value == 121.0
    assert "no telemetry for 121 s" in opened(offline)[0].message
    assert "2025-12-05 00:00:09 UTC" in opened(offline)[0].message
    assert [change.rule for change in resolved(back)] == ["offline"]


def test_offline_alert_from_stored_receive_times(store):
    feed(store, "rpi-a", 1, 10)

    changes = store.evaluate_alerts(T0 + 10 + 121)

    assert [(change.rule, change.device) for change in opened(changes)] == [("offline", "rpi-a")]


def test_device_rule_overrides_only_that_device(store):
    store.add_rule("slow-rpi-a", "latency_ms_p95", ">", 500, for_s=60, device="rpi-a")
    feed(store, "rpi-a", 1, 70, latency_ms_p95=300.0)
    feed(store, "rpi-b", 1, 70, latency_ms_p95=300.0)

    first = store.evaluate_alerts(T0 + 69)
    feed(store, "rpi-a", 70, 140, latency_ms_p95=600.0)
    feed(store, "rpi-b", 70, 140, latency_ms_p95=600.0)
    second = store.evaluate_alerts(T0 + 139)

    assert [(change.rule, change.device) for change in opened(first)] == [("latency-p95", "rpi-b")]
    assert [(change.rule, change.device) for change in opened(second)] == [("slow-rpi-a", "rpi-a")]
    assert "threshold 500 ms" in opened(second)[0].message


def test_drift_rules_use_two_thresholds(store):
    feed(store, "rpi-a", 1, 320, drift_psi=0.3)

    changes = store.evaluate_alerts(T0 + 319)

    assert sorted((change.rule, change.severity) for change in opened(changes)) == [
        ("drift-act", "act"), ("drift-watch", "watch")]


def test_disabled_rule_resolves_its_alert(store):
    feed(store, "rpi-a", 1, 70, temp_c=85.0)
    assert [change.rule for change in opened(store.evaluate_alerts(T0 + 69))] == ["temperature"]

    store.set_rule_enabled("temperature", False)
    changes = store.evaluate_alerts(T0 + 69.5)

    assert [change.rule for change in resolved(changes)] == ["temperature"]
    assert store.alerts(open_only=True) == []


def test_alerts_filters(store):
    feed(store, "rpi-a", 1, 70, temp_c=85.0)
    feed(store, "rpi-b", 1, 70, temp_c=85.0)
    store.evaluate_alerts(T0 + 69)
    # The window mean of rpi-b falls to 78.5 °C: 54 samples of 85 and 6 of 20.
    feed(store, "rpi-b", 70, 76, temp_c=20.0)
    store.evaluate_alerts(T0 + 75)

    assert [alert["device"] for alert in store.alerts(open_only=True)] == ["rpi-a"]
    assert [alert["device"] for alert in store.alerts(device="rpi-b")] == ["rpi-b"]
    assert len(store.alerts()) == 2
    assert [alert["device"] for alert in store.alerts(since=T0 + 80)] == ["rpi-a"]
    assert {"id", "rule", "device", "severity", "opened_at", "resolved_at", "value", "message", "open"} == set(
        store.alerts()[0])


def test_short_for_s_averages_fifteen_seconds(store):
    store.add_rule("busy-cpu", "cpu_percent", ">", 50, for_s=5, severity="act")
    feed(store, "rpi-a", 1, 21, cpu_percent=20.0)
    feed(store, "rpi-a", 21, 31, cpu_percent=95.0)

    # At T0 + 25 the 15 s window contains 10 samples of 20% and 5 of 95%.
    early = store.evaluate_alerts(T0 + 25)
    later = store.evaluate_alerts(T0 + 30)

    assert opened(early) == []
    assert [change.rule for change in opened(later)] == ["busy-cpu"]
    assert opened(later)[0].value == pytest.approx(70.0)
    assert "CPU use 70% over the last 15s, above the threshold 50%" in opened(later)[0].message


def test_slow_sampling_device_stays_fresh(store):
    # One sample every 30 s: between samples the newest is up to 30 s old.
    store.ingest("rpi-a", [sample(index, T0 + 30 * index, interval_s=30.0, temp_c=90.0) for index in range(1, 6)],
                 T0 + 150, 0.0)

    first = store.evaluate_alerts(T0 + 150)
    between_samples = store.evaluate_alerts(T0 + 170)
    stale = store.evaluate_alerts(T0 + 210)

    assert [change.rule for change in opened(first)] == ["temperature"]
    assert between_samples == []
    assert [change.rule for change in resolved(stale)] == ["temperature"]
    assert "has no recent value" in resolved(stale)[0].message


def test_short_fault_after_clean_minute_does_not_open(store):
    # A minute of clean traffic at 2 requests/s, then 4 s at 50% errors plus one
    # more: 5 errors among the window's 120 requests are 4.2%, below 5%.
    feed(store, "rpi-a", 1, 61, requests=2, errors=0)
    changes = []
    for second in range(61, 65):
        feed(store, "rpi-a", second, second + 1, requests=2, errors=2 if second == 61 else 1)
        changes += store.evaluate_alerts(T0 + second)

    assert opened(changes, "error-rate") == []
    assert store.alerts() == []


def test_error_rate_needs_minimum_requests(store):
    # A minute without requests (no model served yet), then 4 s at 2 requests/s
    # with 5 errors: 62% of 8 requests, but too few requests to judge.
    feed(store, "rpi-a", 1, 61, requests=0, errors=0, latency_ms_p50=None, latency_ms_p95=None,
         latency_ms_p99=None)
    feed_each(store, "rpi-a", 61, 65, lambda second: {"requests": 2, "errors": 2 if second == 61 else 1})
    few = store.evaluate_alerts(T0 + 64)

    # Six more seconds make 20 requests, 11 of them errors.
    feed(store, "rpi-a", 65, 71, requests=2, errors=1)
    enough = store.evaluate_alerts(T0 + 70)

    assert MIN_ERROR_RATE_REQUESTS == 20
    assert opened(few) == []
    assert [change.rule for change in opened(enough)] == ["error-rate"]
    assert opened(enough)[0].value == pytest.approx(11 / 20)


def test_open_alert_value_follows_window(store):
    feed(store, "rpi-a", 1, 70, temp_c=85.0)
    first = store.evaluate_alerts(T0 + 69)
    opened_at = store.alerts()[0]["opened_at"]

    # 30 s at 95 °C move the window mean to 90 °C; the alert stays open.
    feed(store, "rpi-a", 70, 100, temp_c=95.0)
    second = store.evaluate_alerts(T0 + 99)
    alert = store.alerts()[0]

    assert [change.rule for change in opened(first)] == ["temperature"]
    assert second == []
    assert len(store.alerts()) == 1
    assert alert["open"] is True
    assert alert["opened_at"] == opened_at
    assert alert["value"] == pytest.approx(90.0)
    assert "temperature 90 °C over the last 1m" in alert["message"]
    assert "85 °C" not in alert["message"]
