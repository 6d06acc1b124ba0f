"""Retention of telemetry: raw samples for a day, per-minute roll-ups for a month, by default."""

import logging

import sqlite_utils

from edgetui.errors import InputError
from edgetui.settings import Settings

log = logging.getLogger("edgetui.telemetry")

DEFAULT_RAW_KEEP_S = 24 * 3600.0
DEFAULT_ROLLUP_KEEP_S = 30 * 86400.0


def retention_from_settings(settings: Settings) -> tuple[float, float]:
    """Return (raw_keep_s, rollup_keep_s) from the telemetry_raw_keep_hours and telemetry_rollup_keep_days settings."""
    return settings.telemetry_raw_keep_hours * 3600.0, settings.telemetry_rollup_keep_days * 86400.0


def prune_telemetry(db: sqlite_utils.Database, now: float, raw_keep_s: float,
                    rollup_keep_s: float) -> tuple[int, int]:
    """Delete, inside the caller's transaction, what is older than the retention; return the counts.

    Kept: samples with ts >= now - raw_keep_s, roll-ups whose minute starts at
    or after now - rollup_keep_s, and resolved alerts resolved within the
    roll-up retention. Open alerts are always kept.
    """
    for name, value in (("raw_keep_s", raw_keep_s), ("rollup_keep_s", rollup_keep_s)):
        if not value > 0:
            raise InputError(f"Invalid telemetry retention {name}={value!r}: it must be a positive number of seconds.")

    raw_deleted = db.execute("DELETE FROM telemetry_samples WHERE ts < ?", [now - raw_keep_s]).rowcount
    rollups_deleted = db.execute("DELETE FROM telemetry_rollups WHERE minute < ?", [now - rollup_keep_s]).rowcount
    alerts_deleted = db.execute(
        "DELETE FROM alerts WHERE resolved_at IS NOT NULL AND resolved_at < ?", [now - rollup_keep_s]
    ).rowcount
    log.info("pruned telemetry: %d samples, %d roll-ups, %d resolved alerts", raw_deleted, rollups_deleted,
             alerts_deleted)
    return raw_deleted, rollups_deleted
