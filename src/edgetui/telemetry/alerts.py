"""Alert evaluation: open an alert when a rule's window aggregate meets its condition, resolve it when not.

A metric rule compares an aggregate of the device's samples in the window
(now - W, now], where W = max(for_s, FRESH_S, 2 sample intervals), so one
quiet or fast second among noisy ones does not decide the rule: error rate is
the window's errors over its requests, a latency percentile the
request-weighted mean of the samples' values, and the other metrics the mean
of their non-null values. A window without a value (no requests, no drift
yet) does not meet a condition.

An alert opens when three things are true. The aggregate meets the condition.
The newest sample is at most FRESH_S (or 2 sample intervals) old. And the
device has streamed for the whole window: its oldest sample in the window is
at most max(5 s, 2 sample intervals) after now - for_s, so a device that just
started does not alert before for_s. The alert resolves when the aggregate no longer meets the
condition or no sample is fresh. An error_rate rule also needs at least
MIN_ERROR_RATE_REQUESTS requests in its window before it opens. While an alert
stays open, each evaluation stores the current value and message in it, and
opened_at stays as it was. An offline_s rule compares the time since the last
telemetry line.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import sqlite_utils

from edgetui.telemetry.alert_rules import METRICS, AlertRule, list_rules
from edgetui.telemetry.durations import format_duration

log = logging.getLogger("edgetui.telemetry")

# A metric rule needs a sample from the last FRESH_S seconds (or two sample
# intervals, when longer), and its window spans at least that long, so a rule
# with a short for_s still averages a few samples.
FRESH_S = 15.0

# The oldest sample of the window may start this much after now - for_s (or
# two sample intervals, when longer) and the device still counts as streaming
# for the whole window: samples do not land exactly on the window's start.
START_SLACK_S = 5.0

# An error_rate rule opens only when its window contains at least this many
# requests. With fewer, a handful of failed requests is a large fraction: a
# device whose model started serving 4 s ago at 2 requests/s has 8 requests,
# and 5 errors among them are 62%, although nothing has been failing for long.
MIN_ERROR_RATE_REQUESTS = 20

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
    """True when the condition is met now. An open alert resolves when it is not."""
    value: float | None
    since: float | None = None
    """Offline rules: the receive time of the device's last line."""
    window_s: float | None = None
    """Metric rules: the length of the window that ``value`` aggregates."""
    full_window: bool = True
    """True when the device streamed for the whole window."""
    enough_requests: bool = True
    """False when an error_rate window contains fewer than MIN_ERROR_RATE_REQUESTS requests."""

    @property
    def may_open(self) -> bool:
        """True when the condition is met and the window is long and busy enough to open an alert."""
        return self.holds and self.full_window and self.enough_requests


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
        if check.may_open and key not in open_alerts:
            changes.append(_open(db, rule, key[1], check, now))
        elif check.holds and key in open_alerts:
            _update_value(db, open_alerts[key][0], rule, key[1], check)
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
    """Check the aggregate of the device's samples in the rule's window against the rule."""
    newest = db.execute(
        "SELECT ts, interval_s FROM telemetry_samples WHERE device = ? AND ts <= ? ORDER BY ts DESC LIMIT 1",
        [device, now],
    ).fetchone()
    if newest is None:
        return _Check(holds=False, value=None)
    newest_ts, interval_s = newest[0], newest[1] or 0.0
    # A device that samples less often than every FRESH_S / 2 would otherwise
    # look stale between its samples, and its alerts would open and resolve in turn.
    fresh_s = max(FRESH_S, 2 * interval_s)
    if newest_ts <= now - fresh_s:
        return _Check(holds=False, value=None)

    window_s = max(rule.for_s, fresh_s)
    # aggregate_sql comes from METRICS, not from the rule's stored text.
    value, oldest_ts, requests = db.execute(
        f"SELECT {METRICS[rule.metric].aggregate_sql}, min(ts), sum(requests) FROM telemetry_samples "
        "WHERE device = ? AND ts > ? AND ts <= ?",
        [device, now - window_s, now],
    ).fetchone()
    latest_start = now - rule.for_s + max(START_SLACK_S, 2 * interval_s)
    full_window = oldest_ts <= latest_start
    enough_requests = rule.metric != "error_rate" or (requests or 0) >= MIN_ERROR_RATE_REQUESTS
    if value is None:
        return _Check(holds=False, value=None, window_s=window_s, full_window=full_window,
                      enough_requests=enough_requests)

    holds = value > rule.threshold if rule.op == ">" else value < rule.threshold
    return _Check(holds=holds, value=value, window_s=window_s, full_window=full_window,
                  enough_requests=enough_requests)


def _open(db: sqlite_utils.Database, rule: AlertRule, device: str, check: _Check, now: float) -> AlertChange:
    message = _opened_message(rule, device, check)
    cursor = db.execute(
        "INSERT INTO alerts (rule, device, severity, opened_at, resolved_at, value, message) "
        "VALUES (?, ?, ?, ?, NULL, ?, ?)",
        [rule.name, device, rule.severity, now, check.value, message],
    )
    log.warning("alert opened (%s): %s", rule.severity, message)
    return AlertChange("opened", cursor.lastrowid, rule.name, device, rule.severity, check.value, message, now)


def _update_value(db: sqlite_utils.Database, alert_id: int, rule: AlertRule, device: str, check: _Check) -> None:
    """Store the current value and message in an alert that stays open, so `edgetui alerts` shows them."""
    db.execute("UPDATE alerts SET value = ?, message = ? WHERE id = ?",
               [check.value, _opened_message(rule, device, check), alert_id])


def _resolve(db: sqlite_utils.Database, row: tuple[Any, ...], now: float, message: str,
             value: float | None = None) -> AlertChange:
    """Resolve an open alert; the change carries the current value, else the value last stored in the alert."""
    alert_id, rule_name, device, severity, _opened_at, opened_value = row
    value = opened_value if value is None else value
    db.execute("UPDATE alerts SET resolved_at = ? WHERE id = ?", [now, alert_id])
    log.info("alert resolved: %s", message)
    return AlertChange("resolved", alert_id, rule_name, device, severity, value, message, now)


def _opened_message(rule: AlertRule, device: str, check: _Check) -> str:
    """Name the device, the metric, the value, its window and the threshold, such as
    "rpi-1: p95 latency 130.2 ms over the last 1m, above the threshold 100 ms (rule latency-p95)".
    """
    metric = METRICS[rule.metric]
    if rule.metric == "offline_s":
        since = format_time(check.since) if check.since is not None else "an unknown time"
        return (f"{device}: no telemetry for {check.value:.0f} s, above the threshold {rule.threshold:g} s; "
                f"last line received {since} (rule {rule.name})")
    return (f"{device}: {metric.label} {metric.format(check.value)}{_over_window(check)}, "
            f"{_OPERATOR_WORDS[rule.op]} the threshold {metric.format(rule.threshold)} (rule {rule.name})")


def _resolved_message(rule: AlertRule, device: str, check: _Check) -> str:
    metric = METRICS[rule.metric]
    if check.value is None:
        return f"{device}: {metric.label} has no recent value, alert of rule {rule.name} resolved"
    return (f"{device}: {metric.label} {metric.format(check.value)}{_over_window(check)}, no longer "
            f"{_OPERATOR_WORDS[rule.op]} the threshold {metric.format(rule.threshold)} (rule {rule.name})")


def _over_window(check: _Check) -> str:
    """Return " over the last 1m" for a metric rule's window, and "" when the check has none."""
    if check.window_s is None:
        return ""
    return f" over the last {format_duration(check.window_s)}"


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
