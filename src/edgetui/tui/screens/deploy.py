"""The Deploy screen: pick an artifact and devices, start a rollout in waves, and watch every device's progress."""

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Input, Static
from textual.worker import Worker, WorkerState

from edgetui.deploy.waves import DEFAULT_WAVES, plan_waves
from edgetui.errors import EdgetuiError
from edgetui.tui.deploy_rows import ARTIFACT_COLUMNS, artifact_cells, summary_text, wave_statuses
from edgetui.tui.messages import DeployProgressed
from edgetui.tui.widgets.device_progress import DeviceProgress
from edgetui.tui.widgets.navigable_table import NavigableTable

if TYPE_CHECKING:
    from edgetui.tui.app import EdgetuiApp

DEPLOY_GROUP = "deploy"
"""Worker group of rollouts started from the Deploy screen. It runs at most one at a time."""


class DeployScreen(Screen):
    """An artifact table, the target and wave inputs, then one progress line per device."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="deploy.back",
                tooltip="Return to the previous screen once no rollout is running"),
        Binding("ctrl+s", "start", "Start rollout", key_display="^s", priority=True, id="deploy.start",
                tooltip="Deploy the selected artifact to the selected devices in the waves given"),
    ]

    CSS_PATH = "deploy.tcss"

    app: "EdgetuiApp"

    def __init__(self, targets: list[str] | None = None, artifact_id: str | None = None) -> None:
        super().__init__()
        self.initial_selector = ",".join(targets or [])
        self.initial_artifact = artifact_id
        self.deploy_settings: dict[str, Any] = {}
        """Extra keyword arguments of `Fleet.deploy`, such as retry_delay_s, for every rollout."""
        self.waves_planned: list[list[str]] = []
        self.report: dict | None = None
        """The deploy JSON of the last finished rollout, or None."""

    def compose(self) -> ComposeResult:
        """Lay out the artifact table beside the inputs, then the wave line, the devices and the summary."""
        yield Static(Content("Deploy an artifact"), id="deploy-title")
        with Horizontal(id="deploy-form"):
            yield NavigableTable(id="artifacts")
            with Vertical(id="deploy-options"):
                yield Static("Devices: names, all, or a filter such as arch=aarch64", classes="field-label")
                yield Input(self.initial_selector, placeholder="all", compact=True, id="selector")
                yield Static(id="selector-message", classes="field-message")
                yield Static("Waves: cumulative counts or percentages", classes="field-label")
                yield Input(DEFAULT_WAVES, compact=True, id="waves")
                yield Static(id="waves-message", classes="field-message")
                yield Static("Max failures per wave", classes="field-label")
                yield Input("0", type="integer", compact=True, id="max-failures")
        yield Static(id="wave-status")
        yield VerticalScroll(id="device-progress")
        yield Static(id="halt-reason")
        yield Static(id="deploy-summary")
        yield Footer()

    def on_mount(self) -> None:
        """Fill the artifact table, select the artifact given, and check the inputs."""
        table = self.artifacts_table
        for key, label in ARTIFACT_COLUMNS:
            table.add_column(label, key=key)
        for artifact in self.app.fleet.artifacts():
            cells = artifact_cells(artifact)
            table.add_row(*(Text(cells[key]) for key, _label in ARTIFACT_COLUMNS), key=artifact.id)
        if self.initial_artifact is not None and self.initial_artifact in table.rows:
            table.move_cursor(row=table.get_row_index(self.initial_artifact))
        if table.row_count == 0:
            # Say at once why the table is empty, not only when ctrl+s fails.
            self.query_one("#deploy-summary", Static).update(Content(
                "No artifact recorded yet. Add one with `edgetui artifact add MODEL --name NAME "
                "--version VERSION`, or press u on a variant in the Models screen (m)."
            ))
        self.validate_targets()
        table.focus()

    @property
    def artifacts_table(self) -> NavigableTable:
        """The table of recorded artifacts."""
        return self.query_one("#artifacts", NavigableTable)

    @property
    def selected_artifact(self) -> str | None:
        """Id of the artifact under the cursor, or None when the store records none."""
        table = self.artifacts_table
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return row_key.value

    @property
    def deploying(self) -> bool:
        """Whether a rollout worker of this screen is pending or running."""
        return any(worker.group == DEPLOY_GROUP and not worker.is_finished for worker in self.workers)

    def on_input_changed(self, event: Input.Changed) -> None:
        """Check the selector and the waves as the user types."""
        if event.input.id in ("selector", "waves"):
            self.validate_targets()

    def validate_targets(self) -> list[str] | None:
        """Resolve the selector and plan the waves; show errors inline and return the names, or None."""
        selector = self.query_one("#selector", Input).value.strip() or "all"
        selector_message = self.query_one("#selector-message", Static)
        waves_message = self.query_one("#waves-message", Static)
        waves_message.update("")
        try:
            names = [device.name for device in self.app.fleet.select_devices(selector)]
        except EdgetuiError as error:
            self._show_field(selector_message, error.message, ok=False)
            return None
        self._show_field(selector_message, f"{len(names)} devices: {', '.join(names)}", ok=True)
        try:
            self.waves_planned = plan_waves(self.query_one("#waves", Input).value, names)
        except EdgetuiError as error:
            self._show_field(waves_message, error.message, ok=False)
            return None
        sizes = " + ".join(str(len(wave)) for wave in self.waves_planned)
        self._show_field(waves_message, f"{len(self.waves_planned)} waves of {sizes} devices", ok=True)
        return names

    def action_back(self) -> None:
        """Return to the previous screen, unless a rollout runs: closing the screen would cancel its worker."""
        if self.deploying:
            self.notify("Wait for the summary; leaving now would interrupt the rollout.", title="Rollout is running",
                        severity="warning")
            return
        self.app.pop_screen()

    def action_start(self) -> Worker | None:
        """Start the rollout in a worker when an artifact is selected and every input is valid."""
        artifact_id = self.selected_artifact
        if self.deploying:
            self.notify("Wait for the running rollout to finish.", title="Rollout is running")
            return None
        if artifact_id is None:
            self.notify("Add one with `edgetui artifact add` or press u on a Models variant.",
                        title="No artifact recorded", severity="warning")
            return None
        max_failures = self.query_one("#max-failures", Input).value.strip() or "0"
        if self.validate_targets() is None or not max_failures.isdigit():
            self.notify("Fix the inputs marked in red first.", title="Invalid rollout", severity="warning")
            return None
        selector = self.query_one("#selector", Input).value.strip() or "all"
        self._show_planned_devices()
        return self.run_worker(
            self._deploy(artifact_id, selector, self.query_one("#waves", Input).value, int(max_failures)),
            group=DEPLOY_GROUP, description=f"deploy {artifact_id[:12]} to {selector}", exit_on_error=False,
        )

    async def _deploy(self, artifact_id: str, selector: str, waves: str, max_failures: int) -> dict:
        """Run the rollout, posting each progress report as a message, and return its deploy JSON."""
        rollout = await self.app.fleet.deploy(
            artifact_id, selector, waves=waves, max_failures=max_failures,
            on_progress=lambda progress: self.post_message(
                DeployProgressed(progress.device, progress.state, progress.bytes_done, progress.bytes_total)),
            **self.deploy_settings,
        )
        return self.app.fleet.rollout_report(rollout.id)

    def on_deploy_progressed(self, message: DeployProgressed) -> None:
        """Move the device's bar and step, and mark its wave running and the waves before it passed."""
        for line in self.query(DeviceProgress):
            if line.device == message.device:
                line.show(message.state, message.bytes_done, message.bytes_total)
                self._show_running_wave(line.wave)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Leave the finished rollout's summary on screen, or report why it could not run."""
        if event.worker.group != DEPLOY_GROUP or not event.worker.is_finished:
            return
        if event.state is WorkerState.ERROR:
            self.app.report_worker_error(event.worker)
            error = event.worker.error
            text = error.message if isinstance(error, EdgetuiError) else f"{type(error).__name__}: {error}"
            self.query_one("#deploy-summary", Static).update(Content(f"Deploy failed: {text}"))
        elif event.state is WorkerState.SUCCESS:
            self.show_report(event.worker.result)

    def show_report(self, report: dict) -> None:
        """Show each device's final state, each wave's status, the halt reason and the summary."""
        self.report = report
        lines = {line.device: line for line in self.query(DeviceProgress)}
        for wave in report["waves"]:
            for device in wave["devices"]:
                line = lines.get(device["name"])
                if line is not None:
                    line.show(device["state"], device.get("bytes_sent", 0), device.get("bytes_total", 0),
                              device.get("error"))
        self._show_waves(wave_statuses(report))
        halt = self.query_one("#halt-reason", Static)
        halt.update(Content(f"Halted: {report['halt_reason']}") if report.get("halt_reason") else "")
        halt.set_class(bool(report.get("halt_reason")), "-shown")
        self.query_one("#deploy-summary", Static).update(Content(summary_text(report)))

    def _show_planned_devices(self) -> None:
        """Replace the progress lines with one planned line per device, in wave order."""
        container = self.query_one("#device-progress", VerticalScroll)
        container.remove_children()
        container.mount_all(DeviceProgress(name, index)
                            for index, wave in enumerate(self.waves_planned, start=1) for name in wave)
        self.query_one("#halt-reason", Static).update("")
        self.query_one("#deploy-summary", Static).update(Content("Rollout running…"))
        self._show_waves(["waiting"] * len(self.waves_planned))

    def _show_running_wave(self, running: int) -> None:
        """Mark wave ``running`` running and the waves before it passed, as the engine ran them in order."""
        statuses = []
        for index in range(1, len(self.waves_planned) + 1):
            if index < running:
                statuses.append("passed")
            elif index == running:
                statuses.append("running")
            else:
                statuses.append("waiting")
        self._show_waves(statuses)

    def _show_waves(self, statuses: list[str]) -> None:
        """Show every wave's status on one line."""
        parts = [f"wave {index}: {status}" for index, status in enumerate(statuses, start=1)]
        self.query_one("#wave-status", Static).update(Content("   ".join(parts)))

    @staticmethod
    def _show_field(widget: Static, text: str, *, ok: bool) -> None:
        """Show an input's check result, styled as an error unless ``ok``."""
        widget.update(Content(text))
        widget.set_class(not ok, "-error")
