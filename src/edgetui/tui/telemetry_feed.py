"""The TUI's live telemetry: the collector while the app runs, and throttled reads of the store for the screens.

Samples arrive far more often than a screen needs to redraw. The collector's
`on_sample` callback only marks the device dirty. A timer then starts at most
one thread worker per tick that reads the dirty devices' sparklines and the
alert list. So the SQLite reads of 200 devices run off the event loop, and
the screens get at most one update message per tick.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.timer import Timer

from edgetui.tui.messages import TelemetryUpdated
from edgetui.tui.telemetry_format import SPARKLINE_SAMPLES, DeviceTelemetry, worst_severity

if TYPE_CHECKING:
    from edgetui.telemetry import TelemetryStore
    from edgetui.tui.app import EdgetuiApp

log = logging.getLogger("edgetui.tui.telemetry")

REFRESH_SECONDS = 1.0
"""Seconds between two reads of the store for the visible widgets."""

ALERTS_EVERY_TICKS = 5
"""Ticks after which the alert list is read again even when no sample arrived (offline alerts open that way)."""

RECENT_ALERTS_SECONDS = 86400.0
"""How far back the alert list reaches for resolved alerts."""

READ_GROUP = "telemetry-read"
"""Worker group of the thread that reads the store; at most one runs at a time."""

COLLECTOR_GROUP = "telemetry-collector"
"""Worker group that starts the collector."""


@dataclass
class TelemetryRead:
    """One read of the store: the devices read again, the alert list, and the stored sequence numbers."""

    devices: dict[str, DeviceTelemetry]
    alerts: list[dict] | None
    stored_seq: dict[str, tuple[str, int]]
    has_data: bool


class TelemetryFeed:
    """Run the collector (when ``collect``) and keep the fleet's sparklines and alerts current for the screens.

    ``open_store`` returns the TelemetryStore to read from. It is opened once,
    on its own database connection, so reads in the worker thread do not wait
    for the fleet store's lock.
    """

    def __init__(self, app: "EdgetuiApp", open_store: Callable[[], "TelemetryStore"], *, collect: bool,
                 refresh_s: float = REFRESH_SECONDS) -> None:
        self.app = app
        self.open_store = open_store
        self.collect = collect
        self.refresh_s = refresh_s
        self.store: "TelemetryStore | None" = None
        self.collector: Any = None
        self.devices: dict[str, DeviceTelemetry] = {}
        self.alerts: list[dict] = []
        self.link_states: dict[str, Any] = {}
        self.has_data = False
        self._dirty: set[str] = set()
        self._received_seq: dict[str, tuple[str, int]] = {}
        self._reading = False
        self._ticks_since_alerts = ALERTS_EVERY_TICKS
        self._timer: Timer | None = None
        self._stopped = False
        self._collector_store: "TelemetryStore | None" = None

    @property
    def active(self) -> bool:
        """Whether the screens show telemetry: the collector runs, or the store has samples or alerts."""
        return self.collector is not None or self.has_data

    def start(self) -> None:
        """Open the store, read every device once, start the refresh timer and, when asked, the collector."""
        try:
            self.store = self.open_store()
        except Exception as error:  # noqa: BLE001 - the console still works without telemetry
            log.error("telemetry store could not be opened, so no telemetry is shown: %s", error)
            return
        self._dirty = {device.name for device in self.app.fleet.devices()}
        self._timer = self.app.set_interval(self.refresh_s, self.tick, name="telemetry-refresh")
        self.tick()
        if self.collect:
            self.app.run_worker(self._start_collector(), group=COLLECTOR_GROUP,
                                description="start the telemetry collector", exit_on_error=False)

    async def _start_collector(self) -> None:
        """Start one telemetry stream per device of the fleet."""
        from edgetui.telemetry import TelemetryStore, retention_from_settings
        from edgetui.telemetry.collector import Collector

        fleet = self.app.fleet
        # TODO: devices imported while the app runs get no stream until the next start.
        devices = fleet.devices()
        # The collector writes from its own worker threads, so it gets its own connection too.
        store = TelemetryStore(fleet.store.path)
        self._collector_store = store
        collector = Collector(store, fleet.pool, fleet.shim, devices,
                              on_sample=self.on_sample, on_state=self.on_state, on_alert=self.on_alert,
                              retention=retention_from_settings(self.app.settings))
        self.collector = collector
        log.info("telemetry collector starting for %d device(s)", len(devices))
        await collector.start()

    async def stop(self) -> None:
        """Stop the timer and the collector, and close the stores (a running read closes its store when done)."""
        self._stopped = True
        if self._timer is not None:
            self._timer.stop()
        collector, self.collector = self.collector, None
        if collector is not None:
            log.info("telemetry collector stopping")
            await collector.stop()
        if self._collector_store is not None:
            self._collector_store.close()
            self._collector_store = None
        if not self._reading:
            self._close_store()

    def _close_store(self) -> None:
        """Close the store that the reads use."""
        store, self.store = self.store, None
        if store is not None:
            store.close()

    def on_sample(self, device: str, sample: Any) -> None:
        """Mark ``device`` dirty; the next tick reads it. Called by the collector on the event loop."""
        self._dirty.add(device)
        stream, seq = getattr(sample, "stream", None), getattr(sample, "seq", None)
        if stream is not None and seq is not None:
            self._received_seq[device] = (stream, seq)

    def on_alert(self, change: Any) -> None:
        """Read the alert list at the next tick, because an alert opened or resolved."""
        self._ticks_since_alerts = ALERTS_EVERY_TICKS

    def on_state(self, device: str, state: Any) -> None:
        """Remember the device's link state for the device screen. Called by the collector on the event loop."""
        self.link_states[device] = state
        self._dirty.add(device)

    def tick(self) -> None:
        """Start a read of the dirty devices, unless one is still running or nothing changed."""
        if self._stopped:
            return
        self._ticks_since_alerts += 1
        read_alerts = bool(self._dirty) or self._ticks_since_alerts >= ALERTS_EVERY_TICKS
        if self._reading or self.store is None or not (self._dirty or read_alerts):
            return
        names = sorted(self._dirty)
        self._dirty.clear()
        if read_alerts:
            self._ticks_since_alerts = 0
        self._reading = True
        now = self.app.clock().timestamp()
        check_seq = set(self._received_seq) & set(names)
        read = partial(read_telemetry, self.store, names, read_alerts, now, check_seq, self.has_data)
        self.app.run_worker(partial(self._read, read, names), thread=True,
                            group=READ_GROUP, description=f"read telemetry of {len(names)} device(s)",
                            exit_on_error=False)

    def _read(self, read: Callable[[], TelemetryRead], names: list[str]) -> None:
        """Run ``read`` in the worker thread, then hand its result to the event loop."""
        try:
            result = read()
        except Exception as error:  # noqa: BLE001 - the next tick tries again
            log.error("telemetry read of %s failed: %s", ", ".join(names) or "alerts", error)
            result = None
        if self._stopped:
            self._close_store()
            return
        try:
            self.app.call_from_thread(self._apply, names, result)
        except RuntimeError:
            # The app stopped while the thread read; no screen is left to show the result.
            log.debug("telemetry read finished after the app stopped")
            self._close_store()

    def _apply(self, names: list[str], result: TelemetryRead | None) -> None:
        """Keep the read values and tell the screens which devices changed."""
        self._reading = False
        if self._stopped:
            self._close_store()
            return
        if result is None:
            self._dirty |= set(names)
            return
        self.devices.update(result.devices)
        if result.alerts is not None:
            self.alerts = result.alerts
            self._apply_alert_markers()
        self.has_data = self.has_data or result.has_data
        # The collector may call on_sample before its batch is committed; read such a device again.
        for name, (stream, seq) in list(self._received_seq.items()):
            stored = result.stored_seq.get(name)
            if name in result.devices and (stored is None or stored[0] != stream or stored[1] < seq):
                self._dirty.add(name)
            elif name in result.devices:
                del self._received_seq[name]
        changed = frozenset(result.devices)
        self.app.broadcast(lambda: TelemetryUpdated(changed))

    def _apply_alert_markers(self) -> None:
        """Set each device's marker to its most severe open alert."""
        severities: dict[str, list[str]] = {}
        for alert in self.alerts:
            if alert.get("resolved_at") is None:
                severities.setdefault(alert["device"], []).append(alert["severity"])
        for name in set(self.devices) | set(severities):
            self.devices.setdefault(name, DeviceTelemetry()).alert = worst_severity(severities.get(name, []))


def read_telemetry(store: "TelemetryStore", names: list[str], read_alerts: bool, now: float,
                   check_seq: set[str], know_data: bool) -> TelemetryRead:
    """Read the last SPARKLINE_SAMPLES p95 latencies and error rates of ``names``, and the alerts of the last day.

    The stored sequence number is read only for the devices in ``check_seq``,
    and whether the store has any telemetry only while ``know_data`` is false.
    """
    devices: dict[str, DeviceTelemetry] = {}
    stored_seq: dict[str, tuple[str, int]] = {}
    started = time.monotonic()
    for name in names:
        p95 = store.recent(name, "latency_ms_p95", SPARKLINE_SAMPLES)
        rates = store.recent(name, "error_rate", SPARKLINE_SAMPLES)
        devices[name] = DeviceTelemetry(p95=p95, error_rate=rates)
        latest = store.latest(name) if name in check_seq else None
        if latest is not None:
            stored_seq[name] = (latest["stream"], latest["seq"])
    alerts = None
    if read_alerts:
        # The store keeps open alerts however old they are, and resolved ones that ended after ``since``.
        alerts = store.alerts(since=now - RECENT_ALERTS_SECONDS)
    has_data = know_data or bool(alerts) or bool(store.devices())
    log.debug("read telemetry of %d device(s) in %.3f s", len(names), time.monotonic() - started)
    return TelemetryRead(devices, alerts, stored_seq, has_data)
