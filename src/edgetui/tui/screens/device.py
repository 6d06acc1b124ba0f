"""The device screen: every fact of one device, its releases, its update timeline, what changed, and its events."""

import logging
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from edgetui.domain import DeviceStatus
from edgetui.errors import EdgetuiError

from edgetui.tui.formatting import is_simulated
from edgetui.tui.messages import (
    DeviceDiscovered,
    DeviceDiscoveryStarted,
    ReconcileFinished,
    ReleasesLoaded,
    TelemetryUpdated,
)
from edgetui.tui.screens.device_sections import (
    changes_section,
    events_section,
    facts_section,
    simulated_note,
    status_section,
)
from edgetui.tui.telemetry_series import RANGE_BY_KEY, RANGES, DeviceView, TimeRange, read_device_view
from edgetui.tui.timeline import releases_section, timeline_entries, timeline_section
from edgetui.tui.widgets.telemetry_section import TelemetrySection

if TYPE_CHECKING:
    from edgetui.tui.app import EdgetuiApp

log = logging.getLogger("edgetui.tui")

EVENTS_SHOWN = 10
"""Number of recent events the screen lists."""

TIMELINE_EVENTS = 200
"""Recent events of the device searched for rollbacks and halted waves."""

RELEASES_GROUP = "releases"
"""Worker group that reads the device's releases."""

TELEMETRY_GROUP = "device-telemetry"
"""Worker group of the thread that reads the device's telemetry; at most one runs at a time."""

AGE_REFRESH_SECONDS = 1.0
"""Seconds between redraws of the relative times ("12s ago") of the status block and the telemetry header."""

TELEMETRY_ACTIONS = frozenset({"next_range", "show_range"})
"""Actions that exist only while the fleet has telemetry, and so are hidden from the footer before."""


class DeviceScreen(Screen):
    """The stored state of one device: status, facts, changes and events."""

    BINDINGS = [
        Binding(
            "escape",
            "app.pop_screen",
            "Back",
            id="device.back",
            tooltip="Return to the fleet table",
        ),
        Binding(
            "r",
            "rediscover",
            "Rediscover",
            id="device.rediscover",
            tooltip="Run discovery again on this device only",
        ),
        Binding(
            "l",
            "load_releases",
            "Releases",
            id="device.releases",
            tooltip="Read this device's releases again: current, known good and the others",
        ),
        Binding(
            "t",
            "next_range",
            "Range",
            id="device.telemetry-range",
            tooltip="Show the telemetry charts over the next range: 5 minutes, 1 hour, 24 hours",
        ),
        Binding("1", "show_range('5m')", "5 min", show=False, id="device.range-5m",
                tooltip="Show the telemetry of the last 5 minutes, every raw sample"),
        Binding("2", "show_range('1h')", "1 hour", show=False, id="device.range-1h",
                tooltip="Show the telemetry of the last hour, as per-minute roll-ups"),
        Binding("3", "show_range('24h')", "24 hours", show=False, id="device.range-24h",
                tooltip="Show the telemetry of the last 24 hours, as per-minute roll-ups"),
    ]

    CSS_PATH = "device.tcss"

    app: "EdgetuiApp"

    def __init__(self, device_name: str) -> None:
        super().__init__()
        self.device_name = device_name
        self.time_range = RANGES[0]
        self._telemetry_reading = False
        self._telemetry_stale = False
        self._telemetry_shown = False
        self._filled = False
        self._device: Any = None
        self._sample_release: str | None = None

    def compose(self) -> ComposeResult:
        """Lay out a title line and the scrollable sections."""
        yield Static(id="device-title")
        with VerticalScroll(id="device-body"):
            yield Static("Status", classes="section-title")
            yield Static(id="status")
            yield Static("Telemetry", classes="section-title telemetry")
            yield TelemetrySection(classes="telemetry")
            yield Static("Releases", classes="section-title")
            yield Static(id="releases")
            yield Static("Timeline", classes="section-title")
            yield Static(id="timeline")
            yield Static("Facts", classes="section-title")
            yield Static(id="simulated-note")
            yield Static(id="facts")
            yield Static("What changed", classes="section-title")
            yield Static(id="changes")
            yield Static("Recent events", classes="section-title")
            yield Static(id="events")
        yield Footer()

    def on_mount(self) -> None:
        """Let arrow keys scroll the sections, and fill them once the screen's first frame is shown."""
        self.query_one("#device-title", Static).update(Content(self.device_name))
        self.query_one("#device-body").focus()
        # Reading the store and drawing the charts wait for the first frame, so Enter shows the screen at once.
        self.call_after_refresh(self._fill)
        self.set_interval(AGE_REFRESH_SECONDS, self._refresh_ages, name="device-ages")

    def _refresh_ages(self) -> None:
        """Redraw the status block and the telemetry header, whose "… ago" texts depend on the current time."""
        if not self._filled or not self.is_attached:
            return
        now = self.app.clock()
        self._show_status(now)
        if self._telemetry_shown:
            self.query_one(TelemetrySection).refresh_age(now)

    def _show_status(self, now: datetime) -> None:
        """Draw the status block from the stored device and the feed's newest telemetry of it."""
        if self._device is None:
            return
        seen = self.app.telemetry.last_sample_at.get(self.device_name)
        telemetry_seen = datetime.fromtimestamp(seen, UTC) if seen is not None else None
        self.query_one("#status", Static).update(
            status_section(self._device, now, telemetry_seen, self._sample_release))

    def _fill(self) -> None:
        """Read the sections from the store, show the telemetry section and start reading the releases."""
        if not self.is_attached:
            return
        self._filled = True
        self.refresh_sections()
        self._show_telemetry_section()
        # Only a device that discovery reached has a trusted host key. Any other device would
        # raise a host key prompt here, so its releases are read only when l is pressed.
        if self.app.fleet.device(self.device_name).status is DeviceStatus.ONLINE:
            self.action_load_releases()
        else:
            self.query_one("#releases", Static).update(Content("Not read, because the device is not online. Press l to read them."))

    def on_screen_resume(self) -> None:
        """Read the store again when the screen returns to the top, after a rollback or a deploy.

        Textual sends ScreenResume on the first push too; then _fill reads the store after the first frame.
        """
        if self._filled:
            self.refresh_sections()

    def on_device_discovery_started(self, message: DeviceDiscoveryStarted) -> None:
        """Show that this device's discovery is running."""
        if message.name == self.device_name:
            self.query_one("#device-title", Static).update(Content(f"{self.device_name}  discovering…"))

    def on_device_discovered(self, message: DeviceDiscovered) -> None:
        """Reload the sections when this device's discovery finished."""
        if message.name == self.device_name:
            self.refresh_sections()

    def on_reconcile_finished(self, message: ReconcileFinished) -> None:
        """Show the update that the automatic reconcile made on this device."""
        if any(result["name"] == self.device_name for result in message.results):
            self.refresh_sections()
            self.action_load_releases()

    def on_telemetry_updated(self, message: TelemetryUpdated) -> None:
        """Read this device's charts again when the feed saw new telemetry from it."""
        if not self._filled or not self._show_telemetry_section():
            return
        if self.device_name in message.names:
            self.load_telemetry()

    def _show_telemetry_section(self) -> bool:
        """Show the section once the fleet has telemetry, reading it the first time; return whether it shows."""
        active = self.app.telemetry.active
        if active == self._telemetry_shown:
            return active
        self._telemetry_shown = active
        sections = self.query(".telemetry")
        if active:
            sections.set(display=True)
            self.query_one(TelemetrySection).show_loading(self.device_name, self.time_range)
            self.load_telemetry()
        else:
            sections.set(display=False)
        # The range keys appear in the footer only with telemetry; a rebuild of the footer is costly, so only on a change.
        self.refresh_bindings()
        return active

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide the range keys until the fleet has telemetry, so the footer lists only keys that do something."""
        if action in TELEMETRY_ACTIONS:
            return self.app.telemetry.active
        return True

    def action_next_range(self) -> None:
        """Switch the charts to the next range: 5 minutes, 1 hour, 24 hours, then 5 minutes again."""
        index = RANGES.index(self.time_range)
        self.action_show_range(RANGES[(index + 1) % len(RANGES)].key)

    def action_show_range(self, key: str) -> None:
        """Switch the charts to the range ``key`` and read it."""
        self.time_range = RANGE_BY_KEY[key]
        self.query_one(TelemetrySection).show_loading(self.device_name, self.time_range)
        self.load_telemetry()

    def load_telemetry(self) -> None:
        """Read the range in a thread worker; while one runs, read once more after it instead."""
        store = self.app.telemetry.store
        if store is None:
            return
        if self._telemetry_reading:
            self._telemetry_stale = True
            return
        self._telemetry_reading = True
        self._telemetry_stale = False
        now = self.app.clock().timestamp()
        self.run_worker(partial(self._read_telemetry, store, self.time_range, now), thread=True,
                        group=TELEMETRY_GROUP, description=f"read the telemetry of {self.device_name}",
                        exit_on_error=False)

    def _read_telemetry(self, store: Any, time_range: TimeRange, now: float) -> None:
        """Read the view in the worker thread and hand it to the event loop."""
        try:
            view = read_device_view(store, self.device_name, time_range, now)
        except Exception as error:  # noqa: BLE001 - the next update reads again
            log.error("reading the telemetry of %s failed: %s", self.device_name, error)
            view = None
        try:
            self.app.call_from_thread(self._apply_telemetry, time_range, view)
        except RuntimeError:
            log.debug("telemetry of %s read after the app stopped", self.device_name)

    def _apply_telemetry(self, time_range: TimeRange, view: DeviceView | None) -> None:
        """Draw the view, unless the range changed meanwhile; then start the read that waited."""
        self._telemetry_reading = False
        if view is not None and time_range == self.time_range and self.is_attached:
            feed = self.app.telemetry
            release = view.latest.get("release") if view.latest else None
            if release != self._sample_release:
                self._sample_release = release
                self._show_status(self.app.clock())
            self.query_one(TelemetrySection).show(self.device_name, view, feed.link_states.get(self.device_name),
                                                  feed.collector is not None, self.app.clock())
        if self._telemetry_stale or time_range != self.time_range:
            self.load_telemetry()

    def action_load_releases(self) -> Worker:
        """Read the device's releases over SSH in a worker, showing a loading line until they arrive."""
        self.query_one("#releases", Static).update(releases_section(None, None))
        return self.run_worker(self._load_releases(), group=RELEASES_GROUP, exclusive=True,
                               description=f"read the releases of {self.device_name}", exit_on_error=False)

    async def _load_releases(self) -> None:
        """Post the releases, or the reason they could not be read."""
        try:
            releases = await self.app.fleet.releases(self.device_name)
        except EdgetuiError as error:
            self.post_message(ReleasesLoaded(self.device_name, None, error.message))
            return
        self.post_message(ReleasesLoaded(self.device_name, releases, None))

    def on_releases_loaded(self, message: ReleasesLoaded) -> None:
        """Show the releases that the worker read."""
        self.query_one("#releases", Static).update(releases_section(message.releases, message.error))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Show an unexpected failure of the releases worker in the section and as a notification."""
        if event.worker.group == RELEASES_GROUP and event.state is WorkerState.ERROR:
            error = event.worker.error
            self.query_one("#releases", Static).update(releases_section(None, f"{type(error).__name__}: {error}"))
            self.app.report_worker_error(event.worker)

    def refresh_sections(self) -> None:
        """Read the device, its facts, history and events from the fleet and show them."""
        fleet = self.app.fleet
        now = self.app.clock()
        device = fleet.device(self.device_name)
        self.query_one("#device-title", Static).update(
            Content(f"{device.name}  {device.status}  {device.address}")
        )
        self._device = device
        self._show_status(now)
        note = self.query_one("#simulated-note", Static)
        note.update(simulated_note(device))
        note.display = is_simulated(device)
        self.query_one("#facts", Static).update(facts_section(fleet.latest_facts(device.name)))
        history = fleet.facts_history(device.name)
        self.query_one("#changes", Static).update(changes_section(history, now))
        events = fleet.events(device.name, limit=TIMELINE_EVENTS)
        entries = timeline_entries(fleet.device_deployments(device.name), events)
        self.query_one("#timeline", Static).update(timeline_section(entries, now))
        self.query_one("#events", Static).update(events_section(events[:EVENTS_SHOWN], now))

    def action_rediscover(self) -> None:
        """Start discovery of this device alone."""
        self.app.start_discovery([self.device_name])
