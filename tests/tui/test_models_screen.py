"""The Models screen on a store filled by the real optimize pipeline, and optimize run from the screen."""

import contextlib
from pathlib import Path

from textual.message import Message
from textual.widgets import Input, ProgressBar, Static
from textual.worker import WorkerFailed
from textual_plotext import PlotextPlot

from edgetui.tui.app import EdgetuiApp
from edgetui.tui.messages import OptimizeProgressed
from edgetui.tui.screens.fleet import FleetScreen
from edgetui.tui.screens.models import ModelsScreen
from edgetui.tui.screens.optimize_dialog import OptimizeDialog
from edgetui.tui.screens.variant_details import VariantDetailsScreen
from tui.models_data import DIGITS, FAST


def column_texts(table, key: str) -> list[str]:
    """Return the plain text of one column, top to bottom."""
    return [str(table.get_cell(row_key, key)) for row_key in table.rows]


async def open_models(pilot) -> ModelsScreen:
    """Press m on the fleet screen and return the Models screen."""
    await pilot.press("m")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, ModelsScreen)
    return screen


async def test_lists_model_and_variants(models_app: EdgetuiApp):
    async with models_app.run_test(size=(120, 40)) as pilot:
        screen = await open_models(pilot)
        assert column_texts(screen.models_table, "name") == ["digits_mlp"]
        assert column_texts(screen.models_table, "task") == ["classifier"]
        assert column_texts(screen.variants_table, "kind") == ["fp32-optimized", "int8-dynamic"]
        assert column_texts(screen.variants_table, "quantized")[1] == "3"
        for agreement in column_texts(screen.variants_table, "agreement"):
            assert agreement.endswith(" top1")
        # Random inputs leave a warning on every variant, listed in full in the detail pane.
        assert column_texts(screen.variants_table, "warnings") == ["1", "1"]
        detail = str(screen.query_one("#variant-detail", Static).render())
        assert "random inputs: accuracy was not measured" in detail
        assert "Deploy: press u" in detail


async def test_chart_renders_bars(models_app: EdgetuiApp):
    async with models_app.run_test(size=(120, 40)) as pilot:
        screen = await open_models(pilot)
        await pilot.pause()
        size_chart = str(screen.query_one("#size-chart", PlotextPlot).render())
        latency_chart = str(screen.query_one("#latency-chart", PlotextPlot).render())
        assert "size MB" in size_chart
        assert "p50 ms (laptop)" in latency_chart
        for chart in (size_chart, latency_chart):
            assert "int8-dynamic" in chart
            assert "█" in chart or "▇" in chart


async def test_enter_shows_variant_details(models_app: EdgetuiApp):
    async with models_app.run_test(size=(120, 40)) as pilot:
        screen = await open_models(pilot)
        await pilot.press("enter")
        assert models_app.focused is screen.variants_table
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(models_app.screen, VariantDetailsScreen)
        assert models_app.screen.variant.kind == "int8-dynamic"
        note = str(models_app.screen.query_one("#deploy-note", Static).render())
        assert note.startswith("Deploy: press u")
        build = str(models_app.screen.query_one("#variant-build", Static).render())
        assert "op_types_to_quantize" in build

        await pilot.press("escape", "escape")
        await pilot.pause()
        assert isinstance(models_app.screen, FleetScreen)


async def test_palette_opens_models(models_app: EdgetuiApp):
    async with models_app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+p", *"open models")
        await models_app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(models_app.screen, ModelsScreen)


async def fill_dialog(pilot, model: str, calibration: str = "") -> None:
    """Open the optimize dialog, fill in the paths and press Enter.

    The paths are set, not typed, because typing a long tmp_path key by key takes seconds.
    """
    await pilot.press("o")
    await pilot.pause()
    dialog = pilot.app.screen
    assert isinstance(dialog, OptimizeDialog)
    dialog.query_one("#model-path", Input).value = model
    dialog.query_one("#calibration-path", Input).value = calibration
    await pilot.press("enter")
    await pilot.pause()


async def test_enter_in_model_path_submits(models_app: EdgetuiApp):
    async with models_app.run_test(size=(100, 30)) as pilot:
        await open_models(pilot)
        await pilot.press("o")
        await pilot.pause()
        dialog = models_app.screen
        assert isinstance(dialog, OptimizeDialog)
        assert dialog.query_one("#model-path", Input).has_focus
        dialog.query_one("#model-path", Input).value = str(DIGITS)

        await pilot.press("enter")
        await pilot.pause()

        assert not isinstance(models_app.screen, OptimizeDialog)
        await models_app.workers.wait_for_complete()


async def test_bad_paths_show_errors(models_app: EdgetuiApp, tmp_path: Path):
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a model")
    cases = [
        (str(tmp_path / "missing.onnx"), "", "missing.onnx does not exist"),
        (str(text_file), "", "does not end in .onnx"),
        ("", "", "Give the path of an .onnx model file."),
        (str(DIGITS), str(tmp_path / "no-data.npz"), "Calibration data"),
    ]
    async with models_app.run_test(size=(100, 30)) as pilot:
        await open_models(pilot)
        for model, calibration, expected in cases:
            await fill_dialog(pilot, model, calibration)
            dialog = models_app.screen
            assert isinstance(dialog, OptimizeDialog)
            assert expected in str(dialog.query_one("#optimize-error", Static).render())
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(models_app.screen, ModelsScreen)


async def test_optimize_runs_with_progress(models_app: EdgetuiApp, tmp_path: Path):
    # A copy under another name becomes a second model in the store.
    model = tmp_path / "digits_copy.onnx"
    model.write_bytes(DIGITS.read_bytes())
    steps: list[str] = []
    progress_shown: list[bool] = []

    def record(message: Message) -> None:
        if isinstance(message, OptimizeProgressed):
            steps.append(message.step)
            screen = models_app.screen
            if isinstance(screen, ModelsScreen):
                progress_shown.append(screen.query_one("#optimize-progress").display)

    async with models_app.run_test(size=(120, 40), message_hook=record) as pilot:
        screen = await open_models(pilot)
        screen.optimize_options = dict(FAST)
        await fill_dialog(pilot, str(model))
        assert isinstance(models_app.screen, ModelsScreen)
        await screen.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()

        assert steps[0].startswith("inspecting")
        assert "building int8-dynamic" in steps
        assert steps[-1] == "done"
        assert progress_shown and all(progress_shown)
        assert screen.query_one("#optimize-bar", ProgressBar).progress == 100
        assert not screen.query_one("#optimize-progress").display
        # The same bytes under a new name update the model's name; the table lists it first.
        assert column_texts(screen.models_table, "name") == ["digits_copy"]
        assert column_texts(screen.variants_table, "kind") == ["fp32-optimized", "int8-dynamic"]
        titles = [notice.title for notice in models_app._notifications]
        assert titles == ["Optimized digits_copy.onnx"]


async def test_optimize_error_notified(models_app: EdgetuiApp, tmp_path: Path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"this is not protobuf")
    async with models_app.run_test(size=(120, 40)) as pilot:
        screen = await open_models(pilot)
        screen.optimize_options = dict(FAST)
        await fill_dialog(pilot, str(broken))
        with contextlib.suppress(WorkerFailed):
            # It raises the worker's error when it catches the worker still running.
            await screen.workers.wait_for_complete()
        await pilot.pause()
        notices = list(models_app._notifications)
        assert len(notices) == 1
        assert "broken.onnx" in notices[0].message
        assert not screen.query_one("#optimize-progress").display
        assert column_texts(screen.models_table, "name") == ["digits_mlp"]
        # The dialog's own Input widgets are gone with it.
        assert not models_app.screen.query(Input)
