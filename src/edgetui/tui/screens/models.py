"""The Models screen: optimized models, their variants, a size and latency chart, optimize as a job, and deploy."""

import re
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, ProgressBar, Static
from textual.worker import Worker, WorkerState

from edgetui.artifacts.records import ModelRecord, VariantRecord
from edgetui.tui.messages import OptimizeProgressed
from edgetui.tui.screens.optimize_dialog import OptimizeDialog, OptimizeRequest
from edgetui.tui.screens.variant_details import VariantDetailsScreen
from edgetui.tui.screens.version_dialog import VersionDialog
from edgetui.tui.variant_rows import (
    DEPLOY_NOTE,
    MODEL_COLUMNS,
    VARIANT_COLUMNS,
    model_cells,
    variant_cells,
    variant_details,
)
from edgetui.tui.widgets.navigable_table import NavigableTable
from edgetui.tui.widgets.variant_chart import VariantChart

if TYPE_CHECKING:
    from edgetui.tui.app import EdgetuiApp

OPTIMIZE_GROUP = "optimize"
"""Worker group of optimize runs. The screen runs at most one at a time."""

PACKAGE_GROUP = "package"
"""Worker group that packages a variant as an artifact before the Deploy screen opens."""

NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
"""Characters that an artifact name cannot contain, replaced by "-" in a model's name."""

NO_MODELS = "No model optimized yet. Press o and give an .onnx file to build and measure its variants."
"""Text of the detail pane while the store has no model."""


class ModelsScreen(Screen):
    """Models in the store; the selected model's variants in a table, a chart and a detail pane."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="models.back", tooltip="Return to the fleet table"),
        Binding(
            "o",
            "optimize",
            "Optimize",
            id="models.optimize",
            tooltip="Optimize an .onnx file in the background: build, measure and record its variants",
        ),
        Binding(
            "u",
            "deploy_variant",
            "Deploy",
            id="models.deploy",
            tooltip="Package the selected variant as an artifact, asking for its version, and open the Deploy screen",
        ),
        Binding(
            "enter",
            "details",
            "Details",
            id="models.details",
            tooltip="In the models table, move to its variants; in the variants table, show every detail",
        ),
    ]

    CSS_PATH = "models.tcss"

    app: "EdgetuiApp"

    def __init__(self) -> None:
        super().__init__()
        self.optimize_options: dict[str, Any] = {}
        """Extra keyword arguments of `Fleet.optimize`, such as kinds or runs, for every run."""
        self._models: dict[str, ModelRecord] = {}
        self._variants: dict[str, list[VariantRecord]] = {}

    def compose(self) -> ComposeResult:
        """Lay out the title, both tables, the detail pane beside the chart, the progress line and the keys."""
        yield Static(id="models-title")
        yield NavigableTable(id="models")
        yield NavigableTable(id="variants")
        with Horizontal(id="variant-panes"):
            with VerticalScroll(id="variant-detail-pane"):
                yield Static(id="variant-detail")
            yield VariantChart(id="chart")
        with Horizontal(id="optimize-progress"):
            yield Static(id="optimize-step")
            yield ProgressBar(total=100, show_eta=False, id="optimize-bar")
        yield Footer()

    def on_mount(self) -> None:
        """Add the table columns and focus the models table.

        Cells are Rich Text, not Content: DataTable 8.2 sizes auto-width columns only from Rich renderables.
        """
        for table, columns in ((self.models_table, MODEL_COLUMNS), (self.variants_table, VARIANT_COLUMNS)):
            for key, label in columns:
                table.add_column(label, key=key)
        self.models_table.focus()

    def on_screen_resume(self) -> None:
        """Read the store again each time the screen is shown."""
        self.reload()

    @property
    def models_table(self) -> NavigableTable:
        """The table of models."""
        return self.query_one("#models", NavigableTable)

    @property
    def variants_table(self) -> NavigableTable:
        """The table of the selected model's variants."""
        return self.query_one("#variants", NavigableTable)

    @property
    def optimizing(self) -> bool:
        """Whether an optimize worker is pending or running."""
        return any(worker.group == OPTIMIZE_GROUP and not worker.is_finished for worker in self.workers)

    def reload(self, select: str | None = None) -> None:
        """Read every model and its variants from the fleet, keeping or moving to the model ``select``."""
        fleet = self.app.fleet
        selected = select or self._selected_key(self.models_table)
        self._models = {model.sha256: model for model in fleet.models()}
        self._variants = {sha256: fleet.variants(sha256) for sha256 in self._models}
        table = self.models_table
        table.clear()
        now = self.app.clock()
        for sha256, model in self._models.items():
            cells = model_cells(model, self._variants[sha256], now)
            table.add_row(*(Text(cells[key]) for key, _label in MODEL_COLUMNS), key=sha256)
        self._update_title()
        if selected in self._models:
            table.move_cursor(row=table.get_row_index(selected))
        self.show_model(self._selected_key(table))

    def show_model(self, sha256: str | None) -> None:
        """Fill the variants table, the chart and the detail pane with one model's variants."""
        variants = self._variants.get(sha256, []) if sha256 else []
        table = self.variants_table
        table.clear()
        for index, variant in enumerate(variants):
            cells = variant_cells(variant)
            table.add_row(*(Text(cells[key]) for key, _label in VARIANT_COLUMNS), key=str(index))
        self.query_one(VariantChart).show(variants)
        self.show_variant(variants[0] if variants else None)

    def show_variant(self, variant: VariantRecord | None) -> None:
        """Show one variant's measurements and full warnings in the detail pane."""
        if variant is None:
            text = NO_MODELS if not self._models else "This model has no recorded variant. Press o to optimize it again."
        else:
            text = "\n".join([*variant_details(variant), DEPLOY_NOTE])
        self.query_one("#variant-detail", Static).update(Content(text))

    def selected_variant(self) -> VariantRecord | None:
        """Return the variant under the variants table's cursor, or None."""
        model, row = self._selected_key(self.models_table), self._selected_key(self.variants_table)
        if model is None or row is None:
            return None
        return self._variants[model][int(row)]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Follow the cursor: a model shows its variants, a variant its details."""
        if event.data_table is self.models_table:
            self.show_model(event.row_key.value)
        else:
            self.show_variant(self.selected_variant())

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a model moves to its variants; Enter on a variant opens its details."""
        self.action_details()

    def action_details(self) -> None:
        """Move from a model to its variants, or open the details of the selected variant."""
        if self.focused is self.models_table:
            self.variants_table.focus()
            return
        variant = self.selected_variant()
        if variant is not None:
            self.app.push_screen(VariantDetailsScreen(variant))

    def action_optimize(self) -> None:
        """Ask for a model file, unless an optimize run is still going."""
        if self.optimizing:
            self.notify("Wait for the running optimize to finish.", title="Optimize is running")
            return
        self.app.push_screen(OptimizeDialog(), callback=self.start_optimize)

    def start_optimize(self, request: OptimizeRequest | None) -> Worker | None:
        """Run the optimize pipeline on ``request`` in a thread worker; None when cancelled."""
        if request is None:
            return None
        self._show_progress(f"starting {request.model.name}", 0.0)
        self.query_one("#optimize-progress").add_class("-running")
        # A thread: onnxruntime is CPU-bound, and the pipeline runs its own event loop for device benchmarks.
        return self.run_worker(
            partial(self._optimize, request),
            thread=True,
            group=OPTIMIZE_GROUP,
            description=f"optimize {request.model}",
            exit_on_error=False,
        )

    def _optimize(self, request: OptimizeRequest):
        """Run the pipeline (in the worker thread) and return its report."""
        return self.app.fleet.optimize(
            request.model,
            calibration=request.calibration,
            progress=lambda step, fraction: self.post_message(OptimizeProgressed(step, fraction)),
            **self.optimize_options,
        )

    def action_deploy_variant(self) -> None:
        """Ask for a version under which to package the selected variant."""
        variant = self.selected_variant()
        if variant is None:
            self.notify("Optimize a model first; its variants appear in the lower table.",
                        title="No variant selected", severity="warning")
            return
        name = self.artifact_name(variant)
        self.app.push_screen(VersionDialog(name, variant.kind), callback=partial(self.start_package, variant, name))

    def artifact_name(self, variant: VariantRecord) -> str:
        """Return the artifact name of a variant: its model's file name without extension, made safe."""
        model = self._models.get(variant.model_sha256)
        stem = Path(model.name).stem if model is not None else variant.model_sha256[:12]
        return NAME_UNSAFE.sub("-", stem).strip("-._") or variant.model_sha256[:12]

    def start_package(self, variant: VariantRecord, name: str, version: str | None) -> Worker | None:
        """Package the variant in a thread worker, because the packager runs onnxruntime; None when cancelled."""
        if version is None:
            return None
        return self.run_worker(partial(self.app.fleet.package_variant, variant, name, version), thread=True,
                               group=PACKAGE_GROUP, description=f"package {variant.kind} as {name}:{version}",
                               exit_on_error=False)

    def on_optimize_progressed(self, message: OptimizeProgressed) -> None:
        """Show the pipeline's current step and how much of the run is done."""
        self._show_progress(message.step, message.fraction)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Refresh the tables after a run, open the Deploy screen after packaging, or report why either failed."""
        if event.worker.group == PACKAGE_GROUP and event.worker.is_finished:
            self._package_finished(event.worker)
            return
        if event.worker.group != OPTIMIZE_GROUP or not event.worker.is_finished:
            return
        self.query_one("#optimize-progress").remove_class("-running")
        if event.state is WorkerState.ERROR:
            self.app.report_worker_error(event.worker)
        elif event.state is WorkerState.SUCCESS:
            report = event.worker.result
            self.reload(select=report.model.sha256)
            chosen = ", ".join(f"{name}: {rec.kind or 'keep the original'}"
                               for name, rec in report.recommendations.items())
            self.notify(f"{len(report.variants)} variants measured. Recommended {chosen}.",
                        title=f"Optimized {report.model.path.name}", markup=False)

    def _package_finished(self, worker: Worker) -> None:
        """Open the Deploy screen with the new artifact selected, or report why packaging failed."""
        if worker.state is WorkerState.ERROR:
            self.app.report_worker_error(worker)
        if worker.state is not WorkerState.SUCCESS:
            return
        result = worker.result
        verb = "Packaged" if result.added else "Already packaged"
        self.notify(f"{verb} {result.artifact.entrypoint} as {result.artifact.ref}.",
                    title="Artifact ready", markup=False)
        self.app.action_open_deploy(result.artifact.id)

    def _show_progress(self, step: str, fraction: float) -> None:
        """Update the step text and the progress bar."""
        self.query_one("#optimize-step", Static).update(Content(f"optimize: {step}"))
        self.query_one("#optimize-bar", ProgressBar).update(progress=round(fraction * 100))

    def _update_title(self) -> None:
        """Count the models in the title line."""
        count = len(self._models)
        noun = "model" if count == 1 else "models"
        self.query_one("#models-title", Static).update(Content(f"Models  {count} {noun} optimized"))

    @staticmethod
    def _selected_key(table: DataTable) -> str | None:
        """Return the row key under the cursor, or None for an empty table."""
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return row_key.value
