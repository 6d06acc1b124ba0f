"""Telemetry of the fleet: parsing stream lines, storage, roll-ups, retention and alerts.

The collector (collector.py) and the probe (probe.py) are imported from their
own modules, so that this package loads without the SSH layer.
"""

from edgetui.telemetry.alert_rules import METRICS, AlertRuleError
from edgetui.telemetry.alerts import AlertChange
from edgetui.telemetry.durations import DurationError, format_duration, parse_duration
from edgetui.telemetry.ingest import IngestResult
from edgetui.telemetry.retention import retention_from_settings
from edgetui.telemetry.samples import GarbageLine, Sample, StreamNotice, parse_line
from edgetui.telemetry.store import TelemetryStore

__all__ = [
    "METRICS",
    "AlertChange",
    "AlertRuleError",
    "DurationError",
    "GarbageLine",
    "IngestResult",
    "Sample",
    "StreamNotice",
    "TelemetryStore",
    "format_duration",
    "parse_duration",
    "parse_line",
    "retention_from_settings",
]
