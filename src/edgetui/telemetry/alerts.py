"""Alert evaluation: open an alert when a rule's condition has held for its duration, resolve it when not.

A metric rule holds for a device when its newest sample is recent, no sample
of the last ``for_s`` seconds breaks the condition, and the newest sample at or
before the start of that window meets it too. That last check means the
condition covered the whole window, so a device that just started streaming
bad values does not alert before ``for_s`` has passed. A sample whose value
is null (no latency without requests, no drift yet) does not meet a condition.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import sqlite_utils

from edgetui.telemetry.alert_rules import METRICS, AlertRule, list_rules

log = logging.getLogger("edgetui.telemetry")

# A metric rule needs a sample from the last max(for_s, FRESH_S) seconds, so
# a rule with a short for_s does not judge a device by a stale sample.
FRESH_S = 15.0

_OPERATOR_WORDS = {">": "above", "<": "below"}


@dataclass(frozen=True)
class AlertChange:
    """An alert that one evaluation opened or resolved."""

    kind: Literal["opened", "resolved"]
    alert_id: int
    rule: str
    device: str
    severity: str
    value: float | None
    message: str
    at: float
    """Unix seconds of the evaluation that made the change."""


@dataclass(frozen=True)
class _Check:
    holds: bool
    value: float | None
    since: float | None = None


def evaluate_alerts(db: sqlite_utils.Database, now: float,
                    online: dict[str, float | None] | None) -> list[AlertChange]:
    """Open and resolve alerts inside the caller's transaction and return the changes.

    ``online`` maps each device that a collector streams to the time of its
    last line. When given, only those devices get the offline rules; when None,
    every device with stored telemetry does, judged by the stored receive times.
    """
    rules = [rule for rule in list_rules(db) if rule.enabled and rule.metric in METRICS]
    telemetry_devices = [row[0] for row in db.execute("SELECT DISTINCT device FROM telemetry_streams")]
    candidates = sorted(set(telemetry_devices) | set(online or {}))
    overrides = {(rule.device, *rule.override_key()) for rule in rules if rule.device is not None}

    checks: dict[tuple[str, str], tuple[AlertRule, _Check]] = {}
    for rule in rules:
        for device in _devices_of(rule, candidates, overrides, online):
            if rule.metric == "offline_s":
                check = _check_offline(db, rule, device, now, online)
            else:
                check = _check_metric(db, rule, device, now)
            checks[(rule.name, device)] = (rule, check)

    open_alerts = {
        (row[1], row[2]): row
        for row in db.execute("SELECT id, rule, device, severity, opened_at, value FROM alerts "
                              "WHERE resolved_at IS NULL")
    }
    changes: list[AlertChange] = []
    for key, (rule, check) in checks.items():
        if check.holds and key not in open_alerts:
            changes.append(_open(db, rule, key[1], check, now))
        elif not check.holds and key in open_alerts:
            changes.append(_resolve(db, open_alerts[key], now, _resolved_message(rule, key[1], check), check.value))
    for key, row in open_alerts.items():
        if key not in checks:
            # The rule was removed or disabled, a device rule now replaces it, or
            # the collector no longer streams the device.
            message = f"{key[1]}: alert of rule {key[0]} ended because the rule no longer applies to the device"
            changes.append(_resolve(db, row, now, message))
    return changes


def _devices_of(rule: AlertRule, candidates: list[str], overrides: set[tuple[str | None, str, str, str]],
                online: dict[str, float | None] | None) -> list[str]:
    """Return the devices a rule is evaluated on."""
    if rule.device is not None:
        return [rule.device]
    devices = [device for device in candidates if (device, *rule.override_key()) not in overrides]
    if rule.metric == "offline_s" and online is not None:
        devices = [device for device in devices if device in online]
    return devices


def _check_offline(db: sqlite_utils.Database, rule: AlertRule, device: str, now: float,
                   online: dict[str, float | None] | None) -> _Check:
    """Check the time since the device's last telemetry line against the rule."""
    last = (online or {}).get(device)
    if last is None:
        row = db.execute("SELECT max(last_received_at) FROM telemetry_streams WHERE device = ?",
                         [device]).fetchone()
        last = row[0]
    if last is None:
        # NOTE: a device never heard from has no start time to measure from, so
        # it gets no offline alert. The collector's link state shows it offline.
        return _Check(holds=False, value=None)
    offline_s = max(0.0, now - last)
    # The condition began at last + threshold; for_s counts from there.
    holds = offline_s > rule.threshold and offline_s - rule.threshold >= rule.for_s
    return _Check(holds=holds, value=offline_s, since=last)


def _check_metric(db: sqlite_utils.Database, rule: AlertRule, device: str, now: float) -> _Check:
    """Check the device's samples of the last ``for_s`` seconds against the rule."""
    expression = METRICS[rule.metric].sql
    # op comes from the validated set {">", "<"}, and expression from METRICS.
    condition = f"coalesce(({expression}) {rule.op} ?, 0)"
    window_start = now - rule.for_s

    newest = db.execute(
        f"SELECT ts, {expression} FROM telemetry_samples WHERE device = ? AND ts > ? AND ts <= ? "
        "ORDER BY ts DESC LIMIT 1",
        [device, now - max(rule.for_s, FRESH_S), now],
    ).fetchone()
    if newest is None:
        return _Check(holds=False, value=None)
    value = newest[1]

    broken = db.execute(
        f"SELECT 1 FROM telemetry_samples WHERE device = ? AND ts > ? AND ts <= ? AND NOT {condition} LIMIT 1",
        [device, window_start, now, rule.threshold],
    ).fetchone()
    if broken is not None:
        return _Check(holds=False, value=value)

    anchor = db.execute(
        f"SELECT {condition} FROM telemetry_samples WHERE device = ? AND ts <= ? ORDER BY ts DESC LIMIT 1",
        [rule.threshold, device, window_start],
    ).fetchone()
    if anchor is None or not anchor[0]:
        return _Check(holds=False, value=value)
    return _Check(holds=True, value=value, since=_run_start(db, device, condition, rule.threshold, now))


def _run_start(db: sqlite_utils.Database, device: str, condition: str, threshold: float, now: float) -> float:
    """Return the ts of the first sample of the run of samples, up to now, that meet the condition."""
    last_broken = db.execute(
        f"SELECT ts FROM telemetry_samples WHERE device = ? AND ts <= ? AND NOT {condition} "
        "ORDER BY ts DESC LIMIT 1",
        [device, now, threshold],
    ).fetchone()
    first = db.execute(
        "SELECT min(ts) FROM telemetry_samples WHERE device = ? AND ts > ? AND ts <= ?",
        [device, last_broken[0] if last_broken else 0.0, now],
    ).fetchone()
    return first[0]


def _open(db: sqlite_utils.Database, rule: AlertRule, device: str, check: _Check, now: float) -> AlertChange:
    message = _opened_message(rule, device, check)
    cursor = db.execute(
        "INSERT INTO alerts (rule, device, severity, opened_at, resolved_at, value, message) "
        "VALUES (?, ?, ?, ?, NULL, ?, ?)",
        [rule.name, device, rule.severity, now, check.value, message],
    )
    log.warning("alert opened (%s): %s", rule.severity, message)
    return AlertChange("opened", cursor.lastrowid, rule.name, device, rule.severity, check.value, message, now)


def _resolve(db: sqlite_utils.Database, row: tuple[Any, ...], now: float, message: str,
             value: float | None = None) -> AlertChange:
    """Resolve an open alert; the change carries the current value, else the value at opening."""
    alert_id, rule_name, device, severity, _opened_at, opened_value = row
    value = opened_value if value is None else value
    db.execute("UPDATE alerts SET resolved_at = ? WHERE id = ?", [now, alert_id])
    log.info("alert resolved: %s", message)
    return AlertChange("resolved", alert_id, rule_name, device, severity, value, message, now)


def _opened_message(rule: AlertRule, device: str, check: _Check) -> str:
    """Name the device, the metric, the value, the threshold and since when, such as
    "rpi-1: p95 latency 130.2 ms, above the threshold 100 ms since 2025-12-05 00:00:00 UTC (rule latency-p95)".
    """
    metric = METRICS[rule.metric]
    since = format_time(check.since) if check.since is not None else "an unknown time"
    if rule.metric == "offline_s":
        return (f"{device}: no telemetry for {check.value:.0f} s, above the threshold {rule.threshold:g} s; "
                f"last line received {since} (rule {rule.name})")
    return (f"{device}: {metric.label} {metric.format(check.value)}, {_OPERATOR_WORDS[rule.op]} the threshold "
            f"{metric.format(rule.threshold)} since {since} (rule {rule.name})")


def _resolved_message(rule: AlertRule, device: str, check: _Check) -> str:
    metric = METRICS[rule.metric]
    if check.value is None:
        return f"{device}: {metric.label} has no recent value, alert of rule {rule.name} resolved"
    return (f"{device}: {metric.label} {metric.format(check.value)}, no longer {_OPERATOR_WORDS[rule.op]} "
            f"the threshold {metric.format(rule.threshold)} (rule {rule.name})")


def format_time(ts: float) -> str:
    """Format unix seconds as UTC date and time to the second, for alert messages."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def list_alerts(db: sqlite_utils.Database, *, open_only: bool = False, device: str | None = None,
                since: float | None = None) -> list[dict[str, Any]]:
    """Return alerts, newest first. ``since`` keeps the alerts still open or resolved at or after it."""
    clauses, params = [], []
    if open_only:
        clauses.append("resolved_at IS NULL")
    if device is not None:
        clauses.append("device = ?")
        params.append(device)
    if since is not None:
        clauses.append("(resolved_at IS NULL OR resolved_at >= ?)")
        params.append(since)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    cursor = db.execute(
        "SELECT id, rule, device, severity, opened_at, resolved_at, value, message FROM alerts "
        f"{where} ORDER BY opened_at DESC, id DESC",
        params,
    )
    columns = [description[0] for description in cursor.description]
    alerts = []
    for row in cursor.fetchall():
        alert = dict(zip(columns, row))
        alert["open"] = alert["resolved_at"] is None
        alerts.append(alert)
    return alerts
