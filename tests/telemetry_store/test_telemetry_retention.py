"""prune: raw samples and roll-ups are deleted exactly past their retention, in one call."""

import json

import pytest

from edgetui.errors import InputError
from edgetui.settings import Settings
from edgetui.telemetry import retention_from_settings

from .conftest import T0, sample

DAY = 86400.0
NOW = T0 + 40 * DAY


def test_prune_keeps_samples_at_the_bound(store):
    cutoff = NOW - DAY
    store.ingest("rpi-a", [sample(1, cutoff - 0.5), sample(2, cutoff), sample(3, cutoff + 0.5), sample(4, NOW)],
                 NOW, 0.0)

    raw_deleted, _ = store.prune(NOW)

    assert raw_deleted == 1
    assert [row["seq"] for row in store.samples("rpi-a", 0)] == [2, 3, 4]


def test_prune_keeps_rollups_for_30_days(store):
    old_minute = T0
    kept_minute = NOW - 30 * DAY
    store.ingest("rpi-a", [sample(1, old_minute + 1), sample(2, kept_minute + 1), sample(3, NOW - 60)], NOW, 0.0)

    raw_deleted, rollups_deleted = store.prune(NOW)

    assert raw_deleted == 2
    assert rollups_deleted == 1
    assert [row["minute"] for row in store.rollups("rpi-a", 0)] == [kept_minute, NOW - 60]


def test_prune_with_custom_retention(store):
    store.ingest("rpi-a", [sample(seq, NOW - 3600 + seq * 600) for seq in range(1, 7)], NOW, 0.0)

    # Samples and their minutes start at NOW - 3000, -2400, -1800, -1200, -600 and NOW.
    raw_deleted, rollups_deleted = store.prune(NOW, raw_keep_s=1800, rollup_keep_s=2400)

    assert raw_deleted == 2
    assert rollups_deleted == 1
    assert [row["seq"] for row in store.samples("rpi-a", 0)] == [3, 4, 5, 6]
    assert len(store.rollups("rpi-a", 0)) == 5


def test_prune_removes_old_resolved_alerts_only(store):
    store.ingest("rpi-a", [sample(seq, T0 + seq, latency_ms_p95=500.0) for seq in range(1, 200)], T0 + 200, 0.0)
    store.evaluate_alerts(T0 + 199, online={"rpi-a": T0 + 199})
    store.evaluate_alerts(T0 + 1000, online={"rpi-a": T0 + 199})

    store.prune(NOW)

    remaining = store.alerts()
    assert [alert["rule"] for alert in remaining] == ["offline"]
    assert remaining[0]["open"] is True


@pytest.mark.parametrize(("raw", "rollup"), [(0, DAY), (DAY, -1), (float("nan"), DAY)])
def test_prune_rejects_invalid_retention(store, raw, rollup):
    with pytest.raises(InputError, match="retention"):
        store.prune(NOW, raw_keep_s=raw, rollup_keep_s=rollup)


def test_retention_from_settings():
    assert retention_from_settings(Settings()) == (DAY, 30 * DAY)
    assert retention_from_settings(Settings(telemetry_raw_keep_hours=2, telemetry_rollup_keep_days=7)) == (
        7200.0, 7 * DAY)


def test_invalid_retention_setting_gives_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    Settings.path().parent.mkdir(parents=True)
    Settings.path().write_text(json.dumps({"telemetry_raw_keep_hours": -5}), encoding="utf-8")

    assert Settings.load().telemetry_raw_keep_hours == 24.0
