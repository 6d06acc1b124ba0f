"""Schema migrations, applied in order and recorded in PRAGMA user_version.

To change the schema, append a `Migration` with the next version number to
`MIGRATIONS`. Never edit a migration that has shipped: databases in the field
have already run it, and only the new migration reaches them.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from edgetui.store.check import APPLICATION_ID
from edgetui.store.errors import StoreMigrationError, StoreTooNewError

log = logging.getLogger("edgetui.store")


@dataclass(frozen=True)
class Migration:
    """One schema step: ``apply`` turns version ``version - 1`` into ``version``."""

    version: int
    description: str
    apply: Callable[[sqlite_utils.Database], None]


def _create_initial_schema(db: sqlite_utils.Database) -> None:
    """Create the devices, facts, events and host_keys tables."""
    # Fixed SQL instead of sqlite-utils' create(): a shipped migration must
    # produce the same schema whatever version of the library runs it.
    statements = [
        f"PRAGMA application_id = {APPLICATION_ID}",
        """CREATE TABLE devices (
            name TEXT PRIMARY KEY,
            host TEXT NOT NULL,
            port INTEGER,
            user TEXT,
            key_file TEXT,
            proxy_jump TEXT,
            tags TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL DEFAULT 'unknown',
            status_reason TEXT,
            last_seen TEXT,
            current_release TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        """CREATE TABLE facts (
            id INTEGER PRIMARY KEY,
            device TEXT NOT NULL REFERENCES devices(name) ON DELETE CASCADE,
            at TEXT NOT NULL,
            facts TEXT NOT NULL,
            changes TEXT NOT NULL DEFAULT '[]'
        )""",
        "CREATE INDEX facts_device_at ON facts(device, at)",
        # Events keep no foreign key: the log outlives a removed device.
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            ts TEXT NOT NULL,
            action TEXT NOT NULL,
            device TEXT,
            ok INTEGER NOT NULL,
            message TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '{}'
        )""",
        "CREATE INDEX events_ts ON events(ts)",
        "CREATE INDEX events_device_ts ON events(device, ts)",
        """CREATE TABLE host_keys (
            host TEXT NOT NULL,
            port INTEGER NOT NULL,
            key TEXT NOT NULL,
            added_at TEXT NOT NULL,
            PRIMARY KEY (host, port, key)
        )""",
    ]
    for statement in statements:
        db.execute(statement)


def _create_model_tables(db: sqlite_utils.Database) -> None:
    """Create the models and variants tables of `edgetui optimize`."""
    statements = [
        """CREATE TABLE models (
            sha256 TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            path TEXT NOT NULL,
            size_bytes INTEGER NOT NULL,
            opset INTEGER,
            task TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        # JSON columns: device_latency maps device name to its latency object,
        # warnings and recommended_for are lists of text, details an object.
        """CREATE TABLE variants (
            id INTEGER PRIMARY KEY,
            model_sha256 TEXT NOT NULL REFERENCES models(sha256) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            blob_sha256 TEXT NOT NULL,
            file_name TEXT NOT NULL,
            size_bytes INTEGER NOT NULL,
            compressed_bytes INTEGER NOT NULL,
            latency_ms_p50 REAL,
            latency_ms_p95 REAL,
            threads INTEGER NOT NULL,
            device_latency TEXT NOT NULL DEFAULT '{}',
            metric TEXT,
            agreement REAL,
            max_abs_error REAL,
            quantized_nodes INTEGER NOT NULL DEFAULT 0,
            warnings TEXT NOT NULL DEFAULT '[]',
            within_budget INTEGER NOT NULL,
            accuracy_budget REAL NOT NULL,
            recommended_for TEXT NOT NULL DEFAULT '[]',
            details TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX variants_model ON variants(model_sha256)",
    ]
    for statement in statements:
        db.execute(statement)


def _create_artifact_and_audit_tables(db: sqlite_utils.Database) -> None:
    """Create the artifacts, artifact_files, audit and audit_head tables."""
    statements = [
        # target and health are JSON objects copied from the signed manifest,
        # which stays the authority: it is the blob named by id.
        """CREATE TABLE artifacts (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            version TEXT NOT NULL,
            created TEXT NOT NULL,
            size_bytes INTEGER NOT NULL,
            entrypoint TEXT NOT NULL,
            target TEXT NOT NULL,
            health TEXT NOT NULL,
            signature TEXT NOT NULL,
            signer_fingerprint TEXT NOT NULL,
            signer_key_name TEXT NOT NULL,
            signer_public_key TEXT NOT NULL,
            added_at TEXT NOT NULL,
            UNIQUE (name, version)
        )""",
        """CREATE TABLE artifact_files (
            artifact_id TEXT NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            path TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            PRIMARY KEY (artifact_id, path)
        )""",
        "CREATE INDEX artifact_files_sha256 ON artifact_files(sha256)",
        # Append-only: each hash covers the entry's fields and prev_hash.
        # devices and detail are JSON. No foreign keys, so the log outlives
        # removed devices and artifacts.
        """CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            ts TEXT NOT NULL,
            user TEXT NOT NULL,
            ssh_key_fingerprint TEXT,
            action TEXT NOT NULL,
            devices TEXT NOT NULL DEFAULT '[]',
            artifact_id TEXT,
            result TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '{}',
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )""",
        # One row: the entry count and the newest hash, updated with each append,
        # so that removing the newest entry is detected too.
        """CREATE TABLE audit_head (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            count INTEGER NOT NULL,
            hash TEXT NOT NULL
        )""",
    ]
    for statement in statements:
        db.execute(statement)


def _create_deployment_tables(db: sqlite_utils.Database) -> None:
    """Create the rollouts, deployments, device_trust and desired_releases tables."""
    statements = [
        # waves and detail are JSON. owner_pid is the process running the
        # rollout, so `rollout resume` does not run it twice at once.
        """CREATE TABLE rollouts (
            id TEXT PRIMARY KEY,
            artifact_id TEXT NOT NULL,
            artifact_ref TEXT NOT NULL,
            selector TEXT NOT NULL,
            waves TEXT NOT NULL,
            max_failures INTEGER NOT NULL,
            watchdog_s REAL NOT NULL,
            state TEXT NOT NULL,
            halt_reason TEXT,
            trigger TEXT NOT NULL,
            owner_pid INTEGER,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        # One row per device and rollout; rollout_id is NULL for reconcile and
        # single-device updates. No foreign key to devices, so the history
        # outlives a removed device.
        """CREATE TABLE deployments (
            id INTEGER PRIMARY KEY,
            rollout_id TEXT REFERENCES rollouts(id) ON DELETE CASCADE,
            wave INTEGER NOT NULL DEFAULT 0,
            device TEXT NOT NULL,
            artifact_id TEXT NOT NULL,
            release TEXT NOT NULL,
            state TEXT NOT NULL,
            bytes_sent INTEGER NOT NULL DEFAULT 0,
            bytes_total INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            error_code TEXT,
            trigger TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        "CREATE INDEX deployments_rollout ON deployments(rollout_id, wave)",
        "CREATE INDEX deployments_device ON deployments(device, updated_at)",
        """CREATE TABLE device_trust (
            device TEXT NOT NULL,
            key_name TEXT NOT NULL,
            public_key TEXT NOT NULL,
            trusted_at TEXT NOT NULL,
            PRIMARY KEY (device, key_name)
        )""",
        """CREATE TABLE desired_releases (
            device TEXT PRIMARY KEY,
            artifact_id TEXT NOT NULL,
            rollout_id TEXT,
            set_at TEXT NOT NULL
        )""",
    ]
    for statement in statements:
        db.execute(statement)


def _create_boot_hook_table(db: sqlite_utils.Database) -> None:
    """Create device_boot_hooks: the shim version whose @reboot line each device's crontab contains."""
    db.execute("""CREATE TABLE device_boot_hooks (
        device TEXT PRIMARY KEY,
        shim_sha256 TEXT NOT NULL,
        crontab_line TEXT NOT NULL,
        installed_at TEXT NOT NULL
    )""")


def _create_telemetry_tables(db: sqlite_utils.Database) -> None:
    """Create the telemetry, roll-up, stream, alert rule and alert tables, and the default alert rules."""
    statements = [
        # ts is the device's timestamp plus the stream's clock offset, so samples
        # of devices with skewed clocks line up on the laptop's clock. device_ts
        # keeps the device's own value. There is no foreign key to devices,
        # because the history outlives a removed device.
        """CREATE TABLE telemetry_samples (
            device TEXT NOT NULL,
            stream TEXT NOT NULL,
            seq INTEGER NOT NULL,
            ts REAL NOT NULL,
            device_ts REAL NOT NULL,
            received_at REAL NOT NULL,
            interval_s REAL NOT NULL,
            requests INTEGER NOT NULL,
            errors INTEGER NOT NULL,
            latency_ms_p50 REAL,
            latency_ms_p95 REAL,
            latency_ms_p99 REAL,
            cpu_percent REAL,
            mem_used_mb REAL,
            mem_total_mb REAL,
            temp_c REAL,
            disk_free_mb REAL,
            disk_used_percent REAL,
            release TEXT,
            serving INTEGER NOT NULL,
            drift_psi REAL,
            drift_input_psi REAL,
            PRIMARY KEY (device, stream, seq)
        )""",
        "CREATE INDEX telemetry_samples_device_ts ON telemetry_samples(device, ts)",
        "CREATE INDEX telemetry_samples_ts ON telemetry_samples(ts)",
        # One row per device and minute (minute = unix seconds of the minute's
        # start), recomputed from the raw samples whenever a sample of that
        # minute arrives. interval_s is the sum of the samples' intervals, so
        # throughput = requests / interval_s.
        """CREATE TABLE telemetry_rollups (
            device TEXT NOT NULL,
            minute INTEGER NOT NULL,
            samples INTEGER NOT NULL,
            interval_s REAL NOT NULL,
            requests INTEGER NOT NULL,
            errors INTEGER NOT NULL,
            latency_ms_p50 REAL,
            latency_ms_p95 REAL,
            latency_ms_p99 REAL,
            cpu_percent REAL,
            mem_used_mb REAL,
            temp_c REAL,
            drift_psi REAL,
            drift_input_psi REAL,
            release TEXT,
            PRIMARY KEY (device, minute)
        )""",
        "CREATE INDEX telemetry_rollups_minute ON telemetry_rollups(minute)",
        # dropped_through_seq is the highest seq of the dropped ranges already
        # counted, so a range the device reports again after a reconnect is not
        # counted twice.
        """CREATE TABLE telemetry_streams (
            device TEXT NOT NULL,
            stream TEXT NOT NULL,
            last_seq INTEGER,
            clock_offset_s REAL NOT NULL DEFAULT 0,
            dropped_total INTEGER NOT NULL DEFAULT 0,
            dropped_through_seq INTEGER NOT NULL DEFAULT 0,
            gaps INTEGER NOT NULL DEFAULT 0,
            duplicates INTEGER NOT NULL DEFAULT 0,
            garbage INTEGER NOT NULL DEFAULT 0,
            last_received_at REAL,
            PRIMARY KEY (device, stream)
        )""",
        # device NULL means the rule applies to the whole fleet. metric has no
        # CHECK, so a later version can add metrics without rebuilding the table.
        """CREATE TABLE alert_rules (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            metric TEXT NOT NULL,
            op TEXT NOT NULL CHECK (op IN ('>', '<')),
            threshold REAL NOT NULL,
            for_s REAL NOT NULL DEFAULT 0,
            device TEXT,
            severity TEXT NOT NULL CHECK (severity IN ('watch', 'act')),
            enabled INTEGER NOT NULL DEFAULT 1
        )""",
        """CREATE TABLE alerts (
            id INTEGER PRIMARY KEY,
            rule TEXT NOT NULL,
            device TEXT NOT NULL,
            severity TEXT NOT NULL,
            opened_at REAL NOT NULL,
            resolved_at REAL,
            value REAL,
            message TEXT NOT NULL
        )""",
        # At most one open alert per rule and device.
        "CREATE UNIQUE INDEX alerts_open ON alerts(rule, device) WHERE resolved_at IS NULL",
        "CREATE INDEX alerts_opened_at ON alerts(opened_at)",
    ]
    for statement in statements:
        db.execute(statement)

    default_rules = [
        ("latency-p95", "latency_ms_p95", ">", 100.0, 60.0, "watch"),
        ("error-rate", "error_rate", ">", 0.05, 60.0, "act"),
        ("offline", "offline_s", ">", 120.0, 0.0, "act"),
        ("temperature", "temp_c", ">", 80.0, 60.0, "watch"),
        ("drift-watch", "drift_psi", ">", 0.1, 300.0, "watch"),
        ("drift-act", "drift_psi", ">", 0.25, 300.0, "act"),
    ]
    db.conn.executemany(
        "INSERT INTO alert_rules (name, metric, op, threshold, for_s, device, severity, enabled) "
        "VALUES (?, ?, ?, ?, ?, NULL, ?, 1)",
        default_rules,
    )


MIGRATIONS: list[Migration] = [
    Migration(1, "create devices, facts, events and host_keys", _create_initial_schema),
    Migration(2, "create models and variants", _create_model_tables),
    Migration(3, "create artifacts, artifact_files, audit and audit_head", _create_artifact_and_audit_tables),
    Migration(4, "create rollouts, deployments, device_trust and desired_releases", _create_deployment_tables),
    Migration(5, "create device_boot_hooks", _create_boot_hook_table),
    Migration(6, "create telemetry_samples, telemetry_rollups, telemetry_streams, alert_rules and alerts",
              _create_telemetry_tables),
]


def latest_version(migration_list: list[Migration] | None = None) -> int:
    """Return the schema version that the last migration produces."""
    migration_list = MIGRATIONS if migration_list is None else migration_list
    return migration_list[-1].version if migration_list else 0


def migrate(db: sqlite_utils.Database, path: Path,
            migration_list: list[Migration] | None = None) -> int:
    """Apply the pending migrations in one transaction and return the new version.

    If any migration raises, the whole transaction rolls back, so the file keeps
    its previous version and tables, and StoreMigrationError names the step.
    ``migration_list`` defaults to MIGRATIONS, read at call time so tests can
    replace it.
    """
    migration_list = MIGRATIONS if migration_list is None else migration_list
    _check_sequence(migration_list)
    newest = latest_version(migration_list)

    # BEGIN IMMEDIATE takes the write lock before reading the version, so two
    # processes that open a new file at once do not both run the same steps.
    db.execute("BEGIN IMMEDIATE")
    try:
        current = db.execute("PRAGMA user_version").fetchone()[0]
        if current > newest:
            raise StoreTooNewError(path, current, newest)
        for migration in migration_list:
            if migration.version > current:
                _apply(db, path, migration)
        db.execute("COMMIT")
    except BaseException:
        db.rollback()
        raise
    return max(current, newest)


def _apply(db: sqlite_utils.Database, path: Path, migration: Migration) -> None:
    """Run one migration inside the open transaction and set user_version."""
    log.info("migrating %s to schema version %d: %s",
             path, migration.version, migration.description)
    try:
        migration.apply(db)
    except Exception as error:
        log.error("migration %d of %s failed, rolling back: %s", migration.version, path, error)
        raise StoreMigrationError(path, migration.version, migration.description, error) from error
    # PRAGMA takes no bound parameters; the version is an int from our own list.
    db.execute(f"PRAGMA user_version = {int(migration.version)}")


def _check_sequence(migration_list: list[Migration]) -> None:
    """Raise ValueError unless the versions run 1, 2, 3 ... without gaps."""
    versions = [migration.version for migration in migration_list]
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"migration versions must be 1, 2, 3 ... in order, not {versions}")
