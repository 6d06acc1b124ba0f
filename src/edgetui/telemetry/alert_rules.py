"""Alert rules: which metric, compared how, for how long, on which devices, and how urgent.

A rule with a device applies to that device only, and for that device it
replaces the fleet rules of the same metric, comparison and severity. A
fleet rule has no device and applies to every device with telemetry.
"""

import logging
import re
import sqlite3
from dataclasses import dataclass
from typing import Any, Literal

import sqlite_utils
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from edgetui.errors import InputError

log = logging.getLogger("edgetui.telemetry")

RULE_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
RULE_NAME_RULE = "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"

Severity = Literal["watch", "act"]
Operator = Literal[">", "<"]


@dataclass(frozen=True)
class Metric:
    """A metric that rules compare: how messages name it, its unit, and its window aggregate in SQL."""

    label: str
    unit: str
    aggregate_sql: str | None
    """SQL aggregate over the telemetry_samples rows of the rule's window; NULL when the window has no value."""
    percent: bool = False
    """True when the value is a fraction that messages show as a percentage."""
    minimum: float | None = None
    """Smallest threshold a rule may use; None when any value is meaningful."""
    maximum: float | None = None
    """Largest threshold a rule may use; None when there is no upper bound."""

    def threshold_problem(self, name: str, threshold: float) -> str | None:
        """Return why a rule on the metric ``name`` with ``threshold`` would fire always or never, else None."""
        in_range = ((self.minimum is None or threshold >= self.minimum)
                    and (self.maximum is None or threshold <= self.maximum))
        if in_range:
            return None
        if self.percent:
            problem = (f"threshold {threshold:g} is out of range for {name}, which is a fraction "
                       f"from {self.minimum:g} to {self.maximum:g}")
            # 5 meant as 5% is the likely mistake, so give the fraction it stands for.
            return problem + (f" ({threshold:g}% is {threshold / 100:g})" if threshold > self.maximum else "")
        if self.maximum is None:
            return f"threshold {threshold:g} is out of range for {name}: use {self.minimum:g} or more"
        return f"threshold {threshold:g} is out of range for {name}: use {self.minimum:g} to {self.maximum:g}"

    def format(self, value: float | None) -> str:
        """Format a value with its unit, such as "130.2 ms" or "6.0%"."""
        if value is None:
            return "no value"
        if self.percent:
            return f"{value * 100:.1f}%"
        return f"{value:.4g}{self.unit}"


def _request_weighted_mean(column: str) -> str:
    """Return the SQL mean of a latency percentile column, weighted by each sample's requests.

    A sample without requests has no latency (null), and the weights make a
    second with 2 requests count less than one with 20. NOTE: a mean of
    per-second percentiles is not the percentile of the window's requests,
    because that would need the raw latencies. It is close when seconds are alike.
    """
    counted = f"CASE WHEN requests > 0 AND {column} IS NOT NULL THEN requests END"
    return f"(sum({column} * ({counted})) / sum({counted}))"


# errors / requests of the whole window: NULL (no value) when the window has no requests.
ERROR_RATE_AGGREGATE_SQL = "(CAST(sum(errors) AS REAL) / nullif(sum(requests), 0))"

# offline_s has no SQL: it is the time since the device's last telemetry line.
# The other aggregates use avg(), which skips nulls and is NULL when every value is.
# A threshold outside minimum..maximum would make a rule fire always or never,
# so rules reject it. Temperatures below 0 °C are real, so temp_c has no bounds,
# and CPU use has no maximum because it exceeds 100% on several cores.
METRICS: dict[str, Metric] = {
    "latency_ms_p50": Metric("p50 latency", " ms", _request_weighted_mean("latency_ms_p50"), minimum=0.0),
    "latency_ms_p95": Metric("p95 latency", " ms", _request_weighted_mean("latency_ms_p95"), minimum=0.0),
    "latency_ms_p99": Metric("p99 latency", " ms", _request_weighted_mean("latency_ms_p99"), minimum=0.0),
    "error_rate": Metric("error rate", "", ERROR_RATE_AGGREGATE_SQL, percent=True, minimum=0.0, maximum=1.0),
    "offline_s": Metric("time without telemetry", " s", None, minimum=0.0),
    "temp_c": Metric("temperature", " °C", "avg(temp_c)"),
    "drift_psi": Metric("output drift (PSI)", "", "avg(drift_psi)", minimum=0.0),
    "drift_input_psi": Metric("input drift (PSI)", "", "avg(drift_input_psi)", minimum=0.0),
    "cpu_percent": Metric("CPU use", "%", "avg(cpu_percent)", minimum=0.0),
    "mem_used_mb": Metric("memory used", " MB", "avg(mem_used_mb)", minimum=0.0),
}


class AlertRuleError(InputError):
    """An alert rule is invalid, unknown, or its name is taken."""

    title = "Invalid alert rule"


class AlertRule(BaseModel):
    """One alert rule as the alert_rules table stores it."""

    model_config = ConfigDict(frozen=True)

    id: int | None = None
    name: str
    metric: str
    op: Operator
    threshold: float = Field(allow_inf_nan=False)
    for_s: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    device: str | None = None
    severity: Severity = "watch"
    enabled: bool = True

    @field_validator("name")
    @classmethod
    def _check_name(cls, name: str) -> str:
        if not RULE_NAME_PATTERN.fullmatch(name):
            raise ValueError(f"invalid rule name {name!r}: use {RULE_NAME_RULE}")
        return name

    @field_validator("metric")
    @classmethod
    def _check_metric(cls, metric: str) -> str:
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}: use one of {', '.join(METRICS)}")
        return metric

    @model_validator(mode="after")
    def _check_offline_op(self) -> "AlertRule":
        if self.metric == "offline_s" and self.op != ">":
            raise ValueError("an offline_s rule must use the operator '>' (offline for more than N seconds)")
        return self

    @model_validator(mode="after")
    def _check_threshold_range(self) -> "AlertRule":
        problem = METRICS[self.metric].threshold_problem(self.metric, self.threshold)
        if problem is not None:
            raise ValueError(problem)
        return self

    def override_key(self) -> tuple[str, str, str]:
        """Return what a device rule shares with the fleet rules it replaces on its device."""
        return (self.metric, self.op, self.severity)

    def as_json(self) -> dict[str, Any]:
        """Return the rule as the dict of the API and of `alerts rules --json`."""
        return self.model_dump()


def make_rule(**fields: Any) -> AlertRule:
    """Validate the fields of a new rule; raise AlertRuleError naming the first invalid one."""
    try:
        return AlertRule(**fields)
    except ValidationError as error:
        problem = error.errors()[0]
        message = problem["msg"].removeprefix("Value error, ")
        # The model's own checks name the value; pydantic's type checks do not.
        if problem["type"] != "value_error":
            field = ".".join(str(part) for part in problem["loc"])
            message = f"{field} is {problem.get('input')!r}: {message}"
        raise AlertRuleError(f"Cannot add alert rule {fields.get('name')!r}: {message}.") from None


def list_rules(db: sqlite_utils.Database) -> list[AlertRule]:
    """Return every rule, fleet rules first, then by name."""
    rows = db.execute(
        "SELECT id, name, metric, op, threshold, for_s, device, severity, enabled FROM alert_rules "
        "ORDER BY device IS NOT NULL, device, name"
    ).fetchall()
    return [_from_row(row) for row in rows]


def insert_rule(db: sqlite_utils.Database, rule: AlertRule) -> AlertRule:
    """Insert a validated rule and return it with its id; raise AlertRuleError when the name is taken."""
    try:
        cursor = db.execute(
            "INSERT INTO alert_rules (name, metric, op, threshold, for_s, device, severity, enabled) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [rule.name, rule.metric, rule.op, rule.threshold, rule.for_s, rule.device, rule.severity,
             int(rule.enabled)],
        )
    except sqlite3.IntegrityError:
        raise AlertRuleError(
            f"An alert rule named {rule.name!r} already exists. Choose another name, or remove it first "
            f"with `edgetui alerts rule remove {rule.name}`."
        ) from None
    log.info("added alert rule %s: %s %s %s for %ss on %s (%s)", rule.name, rule.metric, rule.op,
             rule.threshold, rule.for_s, rule.device or "the fleet", rule.severity)
    return rule.model_copy(update={"id": cursor.lastrowid})


def delete_rule(db: sqlite_utils.Database, name: str) -> None:
    """Delete the named rule; raise AlertRuleError listing the rule names when there is none."""
    if db.execute("DELETE FROM alert_rules WHERE name = ?", [name]).rowcount == 0:
        raise _unknown_rule(db, name)
    log.info("removed alert rule %s", name)


def update_enabled(db: sqlite_utils.Database, name: str, enabled: bool) -> None:
    """Enable or disable the named rule; raise AlertRuleError listing the rule names when there is none."""
    cursor = db.execute("UPDATE alert_rules SET enabled = ? WHERE name = ?", [int(enabled), name])
    if cursor.rowcount == 0:
        raise _unknown_rule(db, name)
    log.info("%s alert rule %s", "enabled" if enabled else "disabled", name)


def _unknown_rule(db: sqlite_utils.Database, name: str) -> AlertRuleError:
    names = [row[0] for row in db.execute("SELECT name FROM alert_rules ORDER BY name")]
    known = ", ".join(names) if names else "none"
    return AlertRuleError(
        f"No alert rule named {name!r}. The rules are: {known}. List them with `edgetui alerts rules`.",
        title="Alert rule not found",
    )


def _from_row(row: tuple[Any, ...]) -> AlertRule:
    rule_id, name, metric, op, threshold, for_s, device, severity, enabled = row
    # model_construct: stored rules were validated on insert, and a metric that
    # a newer edgetui added must not make the whole list unreadable.
    return AlertRule.model_construct(
        id=rule_id, name=name, metric=metric, op=op, threshold=threshold, for_s=for_s, device=device,
        severity=severity, enabled=bool(enabled),
    )
