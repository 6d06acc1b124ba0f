"""The edgetui Textual application and the factory that the CLI and the tests call."""

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen
from textual.theme import Theme
from textual.worker import Worker, WorkerState

from edgetui.domain import DiscoveryResult, DiscoveryUpdate, HostKeyRequest
from edgetui.errors import EdgetuiError
from edgetui.service import Fleet
from edgetui.settings import Settings
from edgetui.themes import load_themes, resolve_theme_name
from edgetui.tui.auto_reconcile import AutoReconcile
from edgetui.tui.commands import EdgetuiCommands
from edgetui.tui.failures import failure_notices
from edgetui.tui.messages import (
    DeviceDiscovered,
    DeviceDiscoveryStarted,
    DiscoveryFinished,
    DiscoveryStarted,
    ReconcileFinished,
)
from edgetui.tui.screens.alerts import AlertsScreen, AlertsTable
from edgetui.tui.screens.deploy import DeployScreen
from edgetui.tui.screens.device import DeviceScreen
from edgetui.tui.screens.fleet import FleetScreen
from edgetui.tui.screens.help import HelpScreen
from edgetui.tui.screens.host_key import HostKeyScreen
from edgetui.tui.screens.models import ModelsScreen
from edgetui.tui.screens.optimize_dialog import OptimizeDialog
from edgetui.tui.screens.rollback_confirm import RollbackConfirmScreen
from edgetui.tui.screens.version_dialog import VersionDialog
from edgetui.tui.screens.variant_details import VariantDetailsScreen
from edgetui.tui.telemetry_feed import REFRESH_SECONDS, TelemetryFeed
from edgetui.tui.widgets.fleet_table import FleetTable
from edgetui.tui.widgets.navigable_table import NavigableTable

if TYPE_CHECKING:
    from edgetui.telemetry import TelemetryStore

log = logging.getLogger("edgetui.tui")

TELEMETRY_LEGEND = [
    ("▲", "An open alert of severity act: something needs action now (default: error rate over 5 %, "
          "offline for 2 minutes, drift PSI over 0.25)."),
    ("△", "An open alert of severity watch: worth a look (default: p95 latency over 100 ms, "
          "temperature over 80 °C, drift PSI over 0.1)."),
    ("▁▃█", "Sparklines of the last 30 samples, newest on the right; a narrow column draws the max of each group "
            "of samples per cell, so a spike stays visible. p95 latency is scaled from 0 ms to the row's own "
            "maximum; errors use a fixed scale from 0 to 100 %, and any error draws at least the second block."),
    ("∅", "The device cannot stream telemetry, because python3 is missing on it. The collector checks again "
          "every 10 minutes."),
]
"""Symbols of the telemetry columns and what they mean, for the help screen."""

MODELS_SCREEN = "models"
"""Name under which the one Models screen is installed."""

DISCOVERY_GROUP = "discovery"
"""Worker group of discovery runs. `start_discovery` runs at most one at a time."""


def utc_now() -> datetime:
    """Return the current time in UTC, the default clock for "last seen"."""
    return datetime.now(UTC)


class EdgetuiApp(App):
    """The fleet console: the fleet screen first, the device screen on Enter."""

    BINDINGS = [
        Binding(
            "question_mark",
            "help",
            "Help",
            key_display="?",
            id="app.help",
            tooltip="List every key and what it does",
        ),
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Leave edgetui"),
        Binding(
            "a",
            "open_alerts",
            "Alerts",
            # The fleet screen shows its own "a" in the footer once there is telemetry; this one works everywhere.
            show=False,
            id="app.alerts",
            tooltip="List open and recently resolved telemetry alerts",
        ),
        Binding(
            "ctrl+p",
            "command_palette",
            # Textual's own word; one letter shorter than "Commands", so Quit fits at 80 columns.
            "Palette",
            show=False,
            id="app.command-palette",
            tooltip="Search every command: discovery, devices, themes, help, quit",
        ),
    ]

    CSS_PATH = "app.tcss"
    COMMANDS = {EdgetuiCommands}
    TITLE = "edgetui"
    # A mode, not get_default_screen: Textual 8.2 reads a screen's CSS_PATH only
    # for modes and pushed screens, so a default screen would lose fleet.tcss.
    MODES = {"fleet": FleetScreen}
    DEFAULT_MODE = "fleet"

    def __init__(
        self,
        fleet: Fleet,
        settings: Settings,
        *,
        discover_on_start: bool = False,
        clock: Callable[[], datetime] | None = None,
        reconcile_interval: float | None = None,
        collect_telemetry: bool = False,
        telemetry_refresh_s: float = REFRESH_SECONDS,
    ) -> None:
        super().__init__()
        self.fleet = fleet
        self.settings = settings
        self.clock = clock or utc_now
        self.discover_on_start = discover_on_start
        if reconcile_interval is None:
            reconcile_interval = settings.reconcile_interval_s
        self.auto_reconcile = AutoReconcile(self, reconcile_interval)
        self.telemetry = TelemetryFeed(self, partial(open_telemetry_store, fleet), collect=collect_telemetry,
                                       refresh_s=telemetry_refresh_s)
        self.edgetui_theme_names = self._register_themes()
        self.theme = resolve_theme_name(settings.theme, set(self.available_themes))
        fleet.set_host_key_policy(self.ask_host_key)

    def _register_themes(self) -> list[str]:
        """Register the themes of `edgetui.themes` and return their names."""
        themes = load_themes()
        for theme in themes:
            self.register_theme(theme)
        return [theme.name for theme in themes]

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """Give edgetui's own theme variables a value in themes that do not set them, such as Textual's."""
        return {"footer-separator": "#808080"}

    def on_mount(self) -> None:
        """Remember theme switches and start discovery when asked to."""
        log.info("edgetui started with %d device(s), theme %s", len(self.fleet.devices()), self.theme)
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        # Installed, so leaving the screen keeps it and its optimize worker alive.
        self.install_screen(ModelsScreen(), name=MODELS_SCREEN)
        if self.discover_on_start:
            self.start_discovery(None)
        self.auto_reconcile.start()
        self.telemetry.start()

    async def on_unmount(self) -> None:
        """Stop the telemetry collector and log the stop. The caller that opened the fleet closes it."""
        await self.telemetry.stop()
        log.info("edgetui stopped")

    @property
    def discovery_running(self) -> bool:
        """Whether a discovery worker is pending or running."""
        return any(
            worker.group == DISCOVERY_GROUP and not worker.is_finished for worker in self.workers
        )

    def start_discovery(self, names: list[str] | None) -> Worker | None:
        """Discover ``names`` (None for every device) in a worker, unless a discovery already runs.

        Returns the worker, or None when another discovery was still running."""
        if self.discovery_running:
            self.notify("Wait for the running discovery to finish.", title="Discovery is running")
            return None
        description = f"discover {', '.join(names)}" if names else "discover all devices"
        return self.run_worker(
            self._discover(names),
            group=DISCOVERY_GROUP,
            description=description,
            exit_on_error=False,
        )

    async def _discover(self, names: list[str] | None) -> list[DiscoveryResult]:
        """Run discovery and post a message for each step, leaving widgets to the screens."""
        log.info("discovery started on %s", names or "all devices")
        self.broadcast(lambda: DiscoveryStarted(names))
        results: list[DiscoveryResult] = []
        try:
            results = await self.fleet.discover(names, on_update=self._post_update)
        finally:
            # Screens must leave the "discovering…" state even when the run failed.
            self.broadcast(lambda: DiscoveryFinished(results))
            self.post_message(DiscoveryFinished(results))
        failed = sum(1 for result in results if not result.ok)
        log.info("discovery finished: %d ok, %d failed", len(results) - failed, failed)
        return results

    def _post_update(self, update: DiscoveryUpdate) -> None:
        """Turn a progress update from the fleet into a message for each screen."""
        if update.result is None:
            self.broadcast(lambda: DeviceDiscoveryStarted(update.name))
        else:
            self.broadcast(lambda: DeviceDiscovered(update))

    def broadcast(self, make_message: Callable[[], object]) -> None:
        """Post a new message from ``make_message`` to every screen on the stack."""
        for screen in self.screen_stack:
            screen.post_message(make_message())

    def on_discovery_finished(self, message: DiscoveryFinished) -> None:
        """Group the run's per-device failures into a few notifications."""
        failures = [
            (result.name, self.fleet.device(result.name).status, result.error or "no reason given")
            for result in message.results
            if not result.ok
        ]
        for title, text in failure_notices(failures):
            self.notify(text, title=title, severity="error", timeout=10, markup=False)

    def on_reconcile_finished(self, message: ReconcileFinished) -> None:
        """Say which devices the automatic reconcile updated, and let each screen show their new state."""
        lines = [f"{result['name']}: {result['state']}" + (f" ({result['error']})" if result.get("error") else "")
                 for result in message.results]
        failed = any(result["state"] != "committed" for result in message.results)
        self.notify("\n".join(lines), title="Automatic reconcile", severity="warning" if failed else "information",
                    markup=False)
        self.broadcast(lambda: ReconcileFinished(message.results))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Show the failure of a worker that the app runs, such as discovery."""
        if event.state is WorkerState.ERROR:
            self.report_worker_error(event.worker)

    def report_worker_error(self, worker: Worker) -> None:
        """Show a failed worker's error as a notification with the error's title and message.

        Screens call it for their own workers, because Worker.StateChanged does not bubble.
        """
        error = worker.error
        if isinstance(error, EdgetuiError):
            title, message = error.title, error.message
        else:
            title, message = "Unexpected error", f"{type(error).__name__}: {error}"
        log.error("worker %r failed: %s", worker.description, message, exc_info=error)
        self.notify(message, title=title, severity="error", timeout=10, markup=False)

    async def ask_host_key(self, request: HostKeyRequest) -> bool:
        """Ask the user whether to trust a new host key and return the decision.

        It awaits a future instead of `push_screen_wait`, so it also works in tasks
        that are not workers, such as the SSH layer's host key callback."""
        log.info("asking about the host key of %s (%s)", request.device, request.fingerprint)
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def on_dismiss(accepted: bool | None) -> None:
            if not answer.done():
                answer.set_result(bool(accepted))

        self.push_screen(HostKeyScreen(request), callback=on_dismiss)
        accepted = await answer
        log.info("host key of %s %s", request.device, "accepted" if accepted else "rejected")
        return accepted

    def _remember_theme(self, theme: Theme) -> None:
        """Save the theme in the settings file, so the next start uses it."""
        if self.settings.theme == theme.name:
            return
        self.settings.theme = theme.name
        try:
            self.settings.save()
        except OSError as exc:
            log.error("could not save settings to %s: %s", Settings.path(), exc)
            self.notify(
                f"{Settings.path()}: {exc}", title="Settings not saved", severity="warning", markup=False
            )

    def help_sections(self) -> list[tuple[str, list[Binding]]]:
        """Return the bindings of every screen, grouped for the help screen."""
        return [
            # The fleet screen's "a" only puts the app's Alerts key in its footer, so it is listed once, under Everywhere.
            ("Fleet screen", [*(binding for binding in FleetScreen.BINDINGS if binding.id != "fleet.alerts"),
                              *FleetTable.BINDINGS]),
            ("Tables", list(NavigableTable.BINDINGS)),
            ("Device screen", list(DeviceScreen.BINDINGS)),
            ("Alerts screen", [*AlertsScreen.BINDINGS, *AlertsTable.BINDINGS]),
            ("Deploy screen", list(DeployScreen.BINDINGS)),
            ("Rollback dialog", list(RollbackConfirmScreen.BINDINGS)),
            ("Models screen", list(ModelsScreen.BINDINGS)),
            ("Version dialog", list(VersionDialog.BINDINGS)),
            ("Optimize dialog", list(OptimizeDialog.BINDINGS)),
            ("Variant details", list(VariantDetailsScreen.BINDINGS)),
            ("Host key dialog", list(HostKeyScreen.BINDINGS)),
            ("Everywhere", list(EdgetuiApp.BINDINGS)),
        ]

    def action_help(self) -> None:
        """Open the help screen."""
        self.push_screen(HelpScreen(self.help_sections(), TELEMETRY_LEGEND))

    def action_open_alerts(self) -> None:
        """Show the alerts screen, unless it is already on top."""
        if not isinstance(self.screen, AlertsScreen):
            self.push_screen(AlertsScreen())

    def action_discover_marked(self) -> None:
        """Discover the marked devices of the fleet table, or the row under the cursor."""
        table = self.get_screen_of_type(FleetScreen).table
        names = sorted(table.marked) or ([table.selected_name] if table.selected_name else [])
        if not names:
            self.notify("Mark rows with space first.", title="No device selected", severity="warning")
            return
        self.start_discovery(names)

    def action_open_deploy(self, artifact_id: str | None = None) -> DeployScreen:
        """Open the Deploy screen with the fleet table's marked devices and ``artifact_id`` selected."""
        table = self.get_screen_of_type(FleetScreen).table
        screen = DeployScreen(sorted(table.marked), artifact_id)
        self.push_screen(screen)
        return screen

    def action_rollback_selected(self) -> None:
        """Roll back the fleet table's marked devices, or the row under the cursor, after a confirmation."""
        fleet_screen = self.get_screen_of_type(FleetScreen)
        if self.screen is not fleet_screen:
            self.notify("Roll back from the fleet screen, where the marked rows are.", severity="warning")
            return
        fleet_screen.action_rollback()

    def action_reconcile_now(self) -> None:
        """Check the devices' desired releases now instead of at the next tick."""
        if self.auto_reconcile.tick() is None:
            self.notify("Every device serves its desired release, or an update is running.", title="Nothing to reconcile")

    def action_open_device(self, name: str) -> None:
        """Open the device screen of ``name``."""
        self.push_screen(DeviceScreen(name))

    def action_open_models(self) -> None:
        """Show the Models screen, unless it is already on top."""
        if not isinstance(self.screen, ModelsScreen):
            self.push_screen(MODELS_SCREEN)

    def action_switch_theme(self, name: str) -> None:
        """Apply the theme ``name``. The theme signal saves it in the settings."""
        self.theme = name

    def get_screen_of_type(self, screen_type: type[Screen]) -> Screen:
        """Return the first screen of ``screen_type`` on the stack."""
        return next(screen for screen in self.screen_stack if isinstance(screen, screen_type))


def create_app(
    fleet: Fleet,
    settings: Settings,
    *,
    discover_on_start: bool = False,
    clock: Callable[[], datetime] | None = None,
    reconcile_interval: float | None = None,
    collect_telemetry: bool = False,
    telemetry_refresh_s: float = REFRESH_SECONDS,
) -> EdgetuiApp:
    """Build the console for ``fleet``. A fixed ``clock`` makes "last seen" reproducible.

    ``reconcile_interval`` sets the seconds between automatic reconcile checks (0 turns them off).
    ``collect_telemetry`` starts a telemetry stream per device while the app runs. It is off by
    default, so tests and scripts open no SSH streams; `edgetui tui` turns it on.
    ``telemetry_refresh_s`` sets the seconds between redraws of the telemetry widgets.

    The caller keeps ownership of ``fleet`` and closes it with `Fleet.aclose` after the app exits.
    """
    return EdgetuiApp(fleet, settings, discover_on_start=discover_on_start, clock=clock,
                      reconcile_interval=reconcile_interval, collect_telemetry=collect_telemetry,
                      telemetry_refresh_s=telemetry_refresh_s)


def open_telemetry_store(fleet: Fleet) -> "TelemetryStore":
    """Open the fleet database's telemetry tables on a connection of their own, for reads in worker threads."""
    from edgetui.telemetry import TelemetryStore

    return TelemetryStore(fleet.store.path)
