"""The TUI's live telemetry: the collector while the app runs, the fleet's sparklines and the alert list.

Samples arrive far more often than a screen needs to redraw. The collector's
`on_sample` callback appends the sample's sparkline values to an in-memory
history (read once from the store at start) and marks the device dirty. A
timer then tells the screens, at most once per tick, which devices changed.
The store is read per tick only for the alert list, in a thread worker, so
SQLite never runs on the event loop.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.timer import Timer

from edgetui.tui.messages import TelemetryUpdated
from edgetui.tui.telemetry_format import DeviceTelemetry, worst_severity
from edgetui.tui.telemetry_history import SparklineHistory, StoredRecent, read_recent, sample_point

if TYPE_CHECKING:
    from edgetui.telemetry import TelemetryStore
    from edgetui.tui.app import EdgetuiApp

log = logging.getLogger("edgetui.tui.telemetry")

REFRESH_SECONDS = 1.0
"""Seconds between two updates of the visible widgets."""

ALERTS_EVERY_TICKS = 5
"""Ticks after which the alert list is read again even when no sample arrived (offline alerts open that way)."""

RECENT_ALERTS_SECONDS = 86400.0
"""How far back the alert list reaches for resolved alerts."""

READ_GROUP = "telemetry-read"
"""Worker group of the thread that reads the store; at most one runs at a time."""

SEED_GROUP = "telemetry-seed"
"""Worker group of the thread that reads every device's recent samples once at start."""

COLLECTOR_GROUP = "telemetry-collector"
"""Worker group that starts the collector."""


@dataclass
class AlertsRead:
    """One read of the store for a tick: the alert list, and whether the store has any telemetry."""

    alerts: list[dict]
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
        self.last_sample_at: dict[str, float] = {}
        """Unix time (this computer's clock) at which each device's newest sample arrived."""
        self.has_data = False
        self.history = SparklineHistory()
        self._dirty: set[str] = set()
        self._reading = False
        self._seeded = False
        self._ticks_since_alerts = ALERTS_EVERY_TICKS
        self._timer: Timer | None = None
        self._stopped = False
        self._collector_store: "TelemetryStore | None" = None

    @property
    def active(self) -> bool:
        """Whether the screens show telemetry: the collector runs, or the store has samples or alerts."""
        return self.collector is not None or self.has_data

    def start(self) -> None:
        """Open the store, read every device's recent samples once, then start the refresh timer and the collector."""
        try:
            self.store = self.open_store()
        except Exception as error:  # noqa: BLE001 - the console still works without telemetry
            log.error("telemetry store could not be opened, so no telemetry is shown: %s", error)
            return
        self._timer = self.app.set_interval(self.refresh_s, self.tick, name="telemetry-refresh")
        names = [device.name for device in self.app.fleet.devices()]
        self._reading = True
        self.app.run_worker(partial(self._seed, self.store, names), thread=True, group=SEED_GROUP,
                            description=f"read the recent telemetry of {len(names)} device(s)",
                            exit_on_error=False)

    def _seed(self, store: "TelemetryStore", names: list[str]) -> None:
        """Read the recent samples and the alerts in the worker thread, then hand them to the event loop."""
        started = time.monotonic()
        try:
            recent = read_recent(store, names)
            alerts = read_alerts(store, self.app.clock().timestamp(), know_data=False)
        except Exception as error:  # noqa: BLE001 - the sparklines then start empty and fill from new samples
            log.error("reading the recent telemetry of %d device(s) failed: %s", len(names), error)
            recent, alerts = {}, None
        log.info("read the recent telemetry of %d device(s) in %.3f s", len(recent), time.monotonic() - started)
        self._hand_over(partial(self._apply_seed, recent, alerts))

    def _apply_seed(self, recent: dict[str, StoredRecent], alerts: AlertsRead | None) -> None:
        """Put the stored values under the samples reported meanwhile, show them, and start the collector."""
        self._reading = False
        self._seeded = True
        if self._stopped:
            self._close_store()
            return
        for name, stored in recent.items():
            self.history.seed(name, stored)
            # Samples reported meanwhile are newer than the stored ones.
            if stored.received_at is not None and name not in self.last_sample_at:
                self.last_sample_at[name] = stored.received_at
        self._dirty |= set(recent)
        if alerts is not None:
            self._ticks_since_alerts = 0
            self._apply_alerts(alerts)
        self.tick()
        # The collector starts only now, so every sample it reports is newer than the ones just read.
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
        """Append the sample's sparkline values and mark ``device`` dirty. Called by the collector on the event loop.

        The collector reports a sample before its writer commits it, so the
        fleet table shows it without waiting for the store.
        """
        self.history.add(device, sample_point(sample))
        self.last_sample_at[device] = self.app.clock().timestamp()
        self.has_data = True
        self._dirty.add(device)

    def on_alert(self, change: Any) -> None:
        """Read the alert list at the next tick, because an alert opened or resolved."""
        self._ticks_since_alerts = ALERTS_EVERY_TICKS

    def on_state(self, device: str, state: Any) -> None:
        """Remember the device's link state for the device screen. Called by the collector on the event loop."""
        self.link_states[device] = state
        self._dirty.add(device)

    def tick(self) -> None:
        """Tell the screens which devices changed since the last tick, and start a read of the alerts when due."""
        if self._stopped or not self._seeded:
            return
        self._ticks_since_alerts += 1
        changed = frozenset(self._dirty)
        self._dirty.clear()
        for name in changed:
            alert = self.devices[name].alert if name in self.devices else None
            telemetry = self.history.telemetry(name, alert)
            telemetry.unsupported = unsupported_reason(self.link_states.get(name))
            self.devices[name] = telemetry
        if changed:
            self.app.broadcast(lambda: TelemetryUpdated(changed))

        # Alerts open and resolve while samples arrive, or on their own (offline) every few ticks.
        if self._reading or self.store is None or not (changed or self._ticks_since_alerts >= ALERTS_EVERY_TICKS):
            return
        self._ticks_since_alerts = 0
        self._reading = True
        read = partial(read_alerts, self.store, self.app.clock().timestamp(), self.has_data)
        self.app.run_worker(partial(self._read, read), thread=True, group=READ_GROUP,
                            description="read the telemetry alerts", exit_on_error=False)

    def _read(self, read: Callable[[], AlertsRead]) -> None:
        """Run ``read`` in the worker thread, then hand its result to the event loop."""
        try:
            result = read()
        except Exception as error:  # noqa: BLE001 - the next tick tries again
            log.error("reading the telemetry alerts failed: %s", error)
            result = None
        self._hand_over(partial(self._apply_read, result))

    def _hand_over(self, apply: Callable[[], None]) -> None:
        """Run ``apply`` on the event loop, or close the store when the app stopped meanwhile."""
        if self._stopped:
            self._close_store()
            return
        try:
            self.app.call_from_thread(apply)
        except RuntimeError:
            # The app stopped while the thread read; no screen is left to show the result.
            log.debug("telemetry read finished after the app stopped")
            self._close_store()

    def _apply_read(self, result: AlertsRead | None) -> None:
        """Keep the alert list and tell the screens, when it changed."""
        self._reading = False
        if self._stopped:
            self._close_store()
            return
        if result is not None:
            self._apply_alerts(result)

    def _apply_alerts(self, result: AlertsRead) -> None:
        """Keep the read alerts and set the markers; tell the screens only about what changed."""
        became_active = result.has_data and not self.has_data
        self.has_data = self.has_data or result.has_data
        if result.alerts == self.alerts and not became_active:
            return
        self.alerts = result.alerts
        changed = self._apply_alert_markers()
        self.app.broadcast(lambda: TelemetryUpdated(changed, alerts_changed=True))

    def _apply_alert_markers(self) -> frozenset[str]:
        """Set each device's marker to its most severe open alert; return the devices whose marker changed."""
        severities: dict[str, list[str]] = {}
        for alert in self.alerts:
            if alert.get("resolved_at") is None:
                severities.setdefault(alert["device"], []).append(alert["severity"])
        changed = set()
        for name in set(self.devices) | set(severities):
            telemetry = self.devices.get(name)
            if telemetry is None:
                telemetry = self.devices[name] = self.history.telemetry(name)
            marker = worst_severity(severities.get(name, []))
            if telemetry.alert != marker:
                telemetry.alert = marker
                changed.add(name)
        return frozenset(changed)


def unsupported_reason(link_state: Any) -> str | None:
    """Return why a device can never stream telemetry, when its link state is "unsupported"; else None."""
    if link_state is None or link_state.state != "unsupported":
        return None
    return link_state.last_error or "the device cannot run the telemetry stream"


def read_alerts(store: "TelemetryStore", now: float, know_data: bool) -> AlertsRead:
    """Read the alerts of the last RECENT_ALERTS_SECONDS, and whether the store has telemetry while ``know_data`` is false.

    Each alert gets the "metric" of its rule (None when the rule is gone), so the alerts screen formats its value.
    """
    # The store keeps open alerts however old they are, and resolved ones that ended after ``since``.
    alerts = store.alerts(since=now - RECENT_ALERTS_SECONDS)
    if alerts:
        metrics = {rule["name"]: rule["metric"] for rule in store.rules()}
        alerts = [{**alert, "metric": metrics.get(alert["rule"])} for alert in alerts]
    has_data = know_data or bool(alerts) or bool(store.devices())
    return AlertsRead(alerts, has_data)
