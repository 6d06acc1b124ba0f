"""The device screen: every fact of one device, its releases, its update timeline, what changed, and its events."""

from typing import TYPE_CHECKING

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
from edgetui.tui.messages import DeviceDiscovered, DeviceDiscoveryStarted, ReconcileFinished, ReleasesLoaded
from edgetui.tui.screens.device_sections import (
    changes_section,
    events_section,
    facts_section,
    simulated_note,
    status_section,
)
from edgetui.tui.timeline import releases_section, timeline_entries, timeline_section

if TYPE_CHECKING:
    from edgetui.tui.app import EdgetuiApp

EVENTS_SHOWN = 10
"""Number of recent events the screen lists."""

TIMELINE_EVENTS = 200
"""Recent events of the device searched for rollbacks and halted waves."""

RELEASES_GROUP = "releases"
"""Worker group that reads the device's releases."""


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
    ]

    CSS_PATH = "device.tcss"

    app: "EdgetuiApp"

    def __init__(self, device_name: str) -> None:
        super().__init__()
        self.device_name = device_name

    def compose(self) -> ComposeResult:
        """Lay out a title line and the scrollable sections."""
        yield Static(id="device-title")
        with VerticalScroll(id="device-body"):
            yield Static("Status", classes="section-title")
            yield Static(id="status")
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
        """Fill the sections from the store and let arrow keys scroll them."""
        self.refresh_sections()
        self.query_one("#device-body").focus()
        # Only a device that discovery reached has a trusted host key. Any other device would
        # raise a host key prompt here, so its releases are read only when l is pressed.
        if self.app.fleet.device(self.device_name).status is DeviceStatus.ONLINE:
            self.action_load_releases()
        else:
            self.query_one("#releases", Static).update(Content("Not read, because the device is not online. Press l to read them."))

    def on_screen_resume(self) -> None:
        """Read the store again when the screen returns to the top, after a rollback or a deploy."""
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
        self.query_one("#status", Static).update(status_section(device, now))
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
