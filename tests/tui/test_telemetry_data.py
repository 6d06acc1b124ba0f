"""Deterministic telemetry for the fixed fleet (tui/fleet_data.py), stored through the real TelemetryStore.

The other telemetry tests import `fill_telemetry`; the tests here check that it
stores what the snapshots describe.

- rpi4-aarch64: one sample a minute for 24 hours, then one a second for the
  last 5 minutes. Its p95 latency rose over 100 ms half an hour ago for five
  minutes, so a "watch" alert opened and resolved. Its drift rises from 0.02 to 0.14.
- jetson-nano: one sample a second for 150 s; the last 90 s fail 20 % of
  requests, so the error-rate "act" alert is open.
- coral-devboard: one sample a second for 100 s at 150 ms p95, so the p95 "watch" alert is open.
- nuc-gateway: its last sample is 10 minutes old, so the "offline" alert is open.
- imx8-kiosk and new-device have no telemetry.
"""

import math
from pathlib import Path

from edgetui.telemetry import Sample, TelemetryStore
from tui.fleet_data import NOW

NOW_TS = NOW.timestamp()
"""The fixed "now" in unix seconds."""

STREAM = "0123456789abcdef"
"""Stream id of every device's samples."""


def sample(seq: int, ts: float, *, interval: float = 1.0, requests: int = 10, errors: int = 0,
           p95: float = 5.0, drift: float | None = 0.02, cpu: float = 35.0, temp: float = 52.0) -> Sample:
    """Return one sample with the given values and fixed, plausible system readings."""
    return Sample(
        stream=STREAM, seq=seq, ts=ts, interval_s=interval, requests=requests, errors=errors,
        latency_ms_p50=round(p95 * 0.6, 3), latency_ms_p95=round(p95, 3), latency_ms_p99=round(p95 * 1.3, 3),
        cpu_percent=cpu, mem_used_mb=1480.0, mem_total_mb=3794.0, temp_c=temp, disk_free_mb=21504.0,
        disk_used_percent=38.0, release="vad-1.2.0", serving=True, drift_psi=drift, drift_input_psi=0.01,
    )


def rpi_samples() -> list[Sample]:
    """Return the Pi's day of per-minute samples followed by its last 5 minutes of per-second samples."""
    samples = []
    seq = 0
    for minute in range(1440, 5, -1):
        seq += 1
        ts = NOW_TS - minute * 60
        daily = 6.0 + 2.0 * math.sin(minute / 1440 * 2 * math.pi)
        # Half an hour ago the p95 latency stayed above 100 ms for five minutes.
        p95 = 140.0 if 26 <= minute <= 30 else daily
        samples.append(sample(seq, ts, interval=60.0, requests=600 + minute % 7 * 20, p95=p95,
                              cpu=30.0 + minute % 11, temp=50.0 + minute % 5))
    for second in range(300, 0, -1):
        seq += 1
        step = 300 - second
        p95 = 5.0 + 3.0 * math.sin(step / 9) + (25.0 if 290 <= step < 294 else 0.0)
        samples.append(sample(seq, NOW_TS - second, requests=8 + step % 5, errors=1 if step % 37 == 0 else 0,
                              p95=p95, drift=round(0.02 + 0.12 * step / 299, 4), cpu=40.0 + step % 9,
                              temp=61.5))
    return samples


def fill_telemetry(db_path: Path) -> None:
    """Store the telemetry that the module docstring describes and evaluate the default alert rules."""
    store = TelemetryStore(db_path)
    try:
        store.ingest("rpi4-aarch64", rpi_samples(), NOW_TS, 0.0)
        jetson = [sample(index + 1, NOW_TS - 150 + index, requests=20, errors=4 if index >= 60 else 0, p95=12.0)
                  for index in range(150)]
        store.ingest("jetson-nano", jetson, NOW_TS, 0.0)
        coral = [sample(index + 1, NOW_TS - 100 + index, p95=150.0 + index % 3) for index in range(100)]
        store.ingest("coral-devboard", coral, NOW_TS, 0.0)
        nuc = [sample(index + 1, NOW_TS - 660 + index) for index in range(60)]
        store.ingest("nuc-gateway", nuc, NOW_TS - 600, 0.0)
        # The Pi's slow five minutes open an alert that the later samples resolve.
        store.evaluate_alerts(NOW_TS - 26 * 60 + 1)
        store.evaluate_alerts(NOW_TS)
    finally:
        store.close()


def test_fill_telemetry_opens_alerts(fleet):
    fill_telemetry(fleet.store.path)
    store = TelemetryStore(fleet.store.path)
    try:
        alerts = store.alerts(since=NOW_TS - 86400)
        open_alerts = {(alert["device"], alert["severity"]) for alert in alerts if alert["resolved_at"] is None}
        resolved = {(alert["device"], alert["severity"]) for alert in alerts if alert["resolved_at"] is not None}
        assert ("jetson-nano", "act") in open_alerts
        assert ("coral-devboard", "watch") in open_alerts
        assert ("nuc-gateway", "act") in open_alerts
        assert ("rpi4-aarch64", "watch") in resolved
        assert not any(device == "rpi4-aarch64" for device, _ in open_alerts)
    finally:
        store.close()


def test_fill_telemetry_stores_samples_and_rollups(fleet):
    fill_telemetry(fleet.store.path)
    store = TelemetryStore(fleet.store.path)
    try:
        assert len(store.samples("rpi4-aarch64", NOW_TS - 300)) == 300
        assert len(store.rollups("rpi4-aarch64", NOW_TS - 86400)) > 1400
        assert store.recent("imx8-kiosk", "latency_ms_p95", 30) == []
        assert len(store.recent("jetson-nano", "error_rate", 30)) == 30
    finally:
        store.close()
