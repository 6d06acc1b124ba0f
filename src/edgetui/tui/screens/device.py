"""The device screen: every fact of one device, what changed, and its events."""

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from edgetui.tui.formatting import is_simulated
from edgetui.tui.messages import DeviceDiscovered, DeviceDiscoveryStarted
from edgetui.tui.screens.device_sections import (
    changes_section,
    events_section,
    facts_section,
    simulated_note,
    status_section,
)

if TYPE_CHECKING:
    from edgetui.tui.app import EdgetuiApp

EVENTS_SHOWN = 10
"""Number of recent events the screen lists."""


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

    def on_device_discovery_started(self, message: DeviceDiscoveryStarted) -> None:
        """Show that this device's discovery is running."""
        if message.name == self.device_name:
            self.query_one("#device-title", Static).update(Content(f"{self.device_name}  discovering…"))

    def on_device_discovered(self, message: DeviceDiscovered) -> None:
        """Reload the sections when this device's discovery finished."""
        if message.name == self.device_name:
            self.refresh_sections()

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
        events = fleet.events(device.name, limit=EVENTS_SHOWN)
        self.query_one("#events", Static).update(events_section(events, now))

    def action_rediscover(self) -> None:
        """Start discovery of this device alone."""
        self.app.start_discovery([self.device_name])
