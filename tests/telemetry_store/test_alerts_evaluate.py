"""evaluate_alerts: alerts open once a condition held for for_s, resolve when it stops, one per rule and device."""

from .conftest import T0, sample


def feed(store, device: str, start: int, stop: int, **fields) -> None:
    """Ingest one sample per second with seq = second, ts = T0 + second, for seconds start..stop-1."""
    store.ingest(device, [sample(second, T0 + second, **fields) for second in range(start, stop)],
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
    assert "since 2025-12-05 00:00:01 UTC" in message
    assert opened(later)[0].value == 250.0


def test_short_dip_restarts_the_duration(store):
    feed(store, "rpi-a", 1, 40, latency_ms_p95=250.0)
    feed(store, "rpi-a", 40, 41, latency_ms_p95=20.0)
    feed(store, "rpi-a", 41, 102, latency_ms_p95=250.0)

    # The dip at second 40 is inside the window, then it is the sample the window starts at.
    assert opened(store.evaluate_alerts(T0 + 99)) == []
    assert opened(store.evaluate_alerts(T0 + 100)) == []
    changes = opened(store.evaluate_alerts(T0 + 101))

    assert [change.rule for change in changes] == ["latency-p95"]
    assert "since 2025-12-05 00:00:41 UTC" in changes[0].message


def test_alert_opens_once_and_resolves(store):
    feed(store, "rpi-a", 1, 70, latency_ms_p95=250.0)
    first = store.evaluate_alerts(T0 + 69)
    second = store.evaluate_alerts(T0 + 69.5)

    feed(store, "rpi-a", 70, 72, latency_ms_p95=30.0)
    recovery = store.evaluate_alerts(T0 + 71)

    assert len(opened(first)) == 1
    assert second == []
    assert [(change.rule, change.value) for change in resolved(recovery)] == [("latency-p95", 30.0)]
    alerts = store.alerts()
    assert len(alerts) == 1
    assert alerts[0]["resolved_at"] == T0 + 71
    assert alerts[0]["open"] is False


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
    feed(store, "rpi-b", 70, 72, temp_c=40.0)
    store.evaluate_alerts(T0 + 71)

    assert [alert["device"] for alert in store.alerts(open_only=True)] == ["rpi-a"]
    assert [alert["device"] for alert in store.alerts(device="rpi-b")] == ["rpi-b"]
    assert len(store.alerts()) == 2
    assert [alert["device"] for alert in store.alerts(since=T0 + 80)] == ["rpi-a"]
    assert {"id", "rule", "device", "severity", "opened_at", "resolved_at", "value", "message", "open"} == set(
        store.alerts()[0])
