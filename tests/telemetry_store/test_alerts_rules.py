"""Alert rules: the defaults of migration 6, validation, and add, remove, enable and disable."""

import pytest

from edgetui.store import DeviceNotFound
from edgetui.telemetry import AlertRuleError


def test_default_rules_exist(store):
    rules = {rule["name"]: rule for rule in store.rules()}

    assert set(rules) == {"latency-p95", "error-rate", "offline", "temperature", "drift-watch", "drift-act"}
    assert (rules["latency-p95"]["metric"], rules["latency-p95"]["threshold"], rules["latency-p95"]["for_s"],
            rules["latency-p95"]["severity"]) == ("latency_ms_p95", 100.0, 60.0, "watch")
    assert (rules["error-rate"]["metric"], rules["error-rate"]["threshold"], rules["error-rate"]["severity"]) == (
        "error_rate", 0.05, "act")
    assert (rules["offline"]["metric"], rules["offline"]["threshold"], rules["offline"]["severity"]) == (
        "offline_s", 120.0, "act")
    assert (rules["temperature"]["threshold"], rules["temperature"]["severity"]) == (80.0, "watch")
    assert (rules["drift-watch"]["threshold"], rules["drift-watch"]["for_s"]) == (0.1, 300.0)
    assert (rules["drift-act"]["threshold"], rules["drift-act"]["severity"]) == (0.25, "act")
    assert all(rule["device"] is None and rule["enabled"] and rule["op"] == ">" for rule in rules.values())


def test_add_rule_for_one_device(store):
    rule = store.add_rule("slow-rpi", "latency_ms_p95", ">", 400, for_s=120, device="rpi-a", severity="act")

    assert rule["id"] is not None
    assert rule["device"] == "rpi-a"
    assert "slow-rpi" in {stored["name"] for stored in store.rules()}


INVALID = [
    ({"name": "has space"}, "invalid rule name 'has space'"),
    ({"name": "-leading"}, "invalid rule name '-leading'"),
    ({"name": "x" * 65}, "invalid rule name"),
    ({"metric": "latency"}, "unknown metric 'latency'"),
    ({"op": ">="}, "op is '>='"),
    ({"severity": "page"}, "severity is 'page'"),
    ({"threshold": float("inf")}, "threshold is inf"),
    ({"for_s": -1}, "for_s is -1"),
    ({"metric": "offline_s", "op": "<"}, "offline_s rule must use the operator '>'"),
    ({"metric": "error_rate", "threshold": 5}, "threshold 5 is out of range for error_rate, which is a fraction "
     "from 0 to 1 (5% is 0.05)"),
    ({"metric": "error_rate", "threshold": -0.1}, "threshold -0.1 is out of range for error_rate"),
    ({"metric": "offline_s", "threshold": -1}, "threshold -1 is out of range for offline_s: use 0 or more"),
    ({"metric": "latency_ms_p95", "threshold": -1}, "threshold -1 is out of range for latency_ms_p95"),
    ({"metric": "drift_psi", "threshold": -0.5}, "threshold -0.5 is out of range for drift_psi"),
    ({"metric": "cpu_percent", "threshold": -1}, "threshold -1 is out of range for cpu_percent"),
    ({"metric": "mem_used_mb", "threshold": -1}, "threshold -1 is out of range for mem_used_mb"),
]


@pytest.mark.parametrize(("change", "expected"), INVALID, ids=[expected for _, expected in INVALID])
def test_invalid_rule_is_rejected(store, change, expected):
    fields = {"name": "custom", "metric": "temp_c", "op": ">", "threshold": 70.0, "for_s": 30.0, **change}

    with pytest.raises(AlertRuleError) as raised:
        store.add_rule(**fields)

    assert expected in str(raised.value)
    assert "custom" not in {rule["name"] for rule in store.rules()}


@pytest.mark.parametrize(("metric", "threshold"), [
    ("error_rate", 0.0), ("error_rate", 1.0), ("offline_s", 0.0), ("temp_c", -20.0), ("cpu_percent", 350.0),
])
def test_threshold_at_range_edge_is_accepted(store, metric, threshold):
    rule = store.add_rule("edge", metric, ">", threshold)

    assert rule["threshold"] == threshold


def test_duplicate_rule_name_is_rejected(store):
    with pytest.raises(AlertRuleError, match="'offline' already exists"):
        store.add_rule("offline", "offline_s", ">", 60)


def test_rule_for_unknown_device_is_rejected(store):
    with pytest.raises(DeviceNotFound, match="rpi-z"):
        store.add_rule("slow", "latency_ms_p95", ">", 400, device="rpi-z")
    assert "slow" not in {rule["name"] for rule in store.rules()}


def test_disable_enable_and_remove(store):
    store.set_rule_enabled("temperature", False)
    assert {rule["name"]: rule["enabled"] for rule in store.rules()}["temperature"] is False

    store.set_rule_enabled("temperature", True)
    assert {rule["name"]: rule["enabled"] for rule in store.rules()}["temperature"] is True

    store.remove_rule("temperature")
    assert "temperature" not in {rule["name"] for rule in store.rules()}


@pytest.mark.parametrize("action", ["remove", "disable"])
def test_unknown_rule_lists_rule_names(store, action):
    with pytest.raises(AlertRuleError) as raised:
        if action == "remove":
            store.remove_rule("tempreature")
        else:
            store.set_rule_enabled("tempreature", False)

    assert "'tempreature'" in str(raised.value)
    assert "temperature" in str(raised.value)
    assert "edgetui alerts rules" in str(raised.value)
