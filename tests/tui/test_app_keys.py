"""Help, command palette, themes and bindings of the console."""

import json
import logging

from textual.binding import Binding
from textual.command import CommandList, CommandPalette
from textual.widgets import Static

from edgetui.settings import Settings
from edgetui.tui.app import EdgetuiApp, create_app
from edgetui.tui.screens.fleet import FleetScreen
from edgetui.tui.screens.help import HelpScreen
from tui.fleet_data import fixed_clock


def all_bindings(app: EdgetuiApp) -> list[Binding]:
    """Return every binding that the help screen lists."""
    return [binding for _title, bindings in app.help_sections() for binding in bindings]


def palette_prompts(app: EdgetuiApp) -> list[str]:
    """Return the text of every command the open palette offers."""
    options = app.screen.query_one(CommandList)
    return [
        str(options.get_option_at_index(i).prompt).splitlines()[0]
        for i in range(options.option_count)
    ]


async def wait_for_search(pilot) -> None:
    """Wait until the palette's search worker has listed its hits."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_every_binding_has_id_and_tooltip(app: EdgetuiApp):
    bindings = all_bindings(app)
    assert len(bindings) >= 10
    for binding in bindings:
        assert binding.id, binding
        assert binding.tooltip, binding


async def test_help_lists_every_binding(app: EdgetuiApp):
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        shown = {str(widget.render()) for widget in app.screen.query(".help-description").results(Static)}
        for binding in all_bindings(app):
            assert binding.description in shown

        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, FleetScreen)


async def test_palette_lists_commands(app: EdgetuiApp):
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"theme")
        await wait_for_search(pilot)
        prompts = palette_prompts(app)
        for name in app.edgetui_theme_names:
            assert any(prompt.startswith(f"Switch theme: {name}") for prompt in prompts), name


async def test_palette_switches_theme_and_saves(app: EdgetuiApp):
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.theme == "edgetui-dark"
        await pilot.press("ctrl+p")
        await pilot.press(*"switch theme high")
        await wait_for_search(pilot)
        assert palette_prompts(app)[0] == "Switch theme: edgetui-high-contrast"
        await pilot.press("enter")
        await pilot.pause()
        assert app.theme == "edgetui-high-contrast"

    saved = json.loads(Settings.path().read_text(encoding="utf-8"))
    assert saved["theme"] == "edgetui-high-contrast"
    assert Settings.load().theme == "edgetui-high-contrast"


async def test_palette_opens_device(app: EdgetuiApp):
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"open device jetson")
        await wait_for_search(pilot)
        assert palette_prompts(app)[0] == "Open device: jetson-nano"
        await pilot.press("enter")
        await pilot.pause()
        assert getattr(app.screen, "device_name", None) == "jetson-nano"


async def test_themes_registered(app: EdgetuiApp):
    assert {"edgetui-dark", "edgetui-high-contrast", "edgetui-light"} <= set(app.available_themes)
    high_contrast = app.available_themes["edgetui-high-contrast"]
    assert high_contrast.background == "#000000"
    assert high_contrast.foreground == "#FFFFFF"


async def test_unknown_theme_falls_back(fleet, caplog):
    with caplog.at_level(logging.WARNING, logger="edgetui.themes"):
        app = create_app(fleet, Settings(theme="no-such-theme"), clock=fixed_clock)
    assert app.theme == "edgetui-dark"
    assert "no-such-theme" in caplog.text


async def test_settings_theme_applied(fleet):
    app = create_app(fleet, Settings(theme="edgetui-light"), clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == "edgetui-light"
    # Starting with a theme is not a switch, so nothing is written.
    assert not Settings.path().exists()


async def test_q_quits(app: EdgetuiApp):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert app.return_code == 0
        assert not app.is_running


async def test_palette_marks_current_theme(app: EdgetuiApp):
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+p", *"switch theme")
        await wait_for_search(pilot)
        prompts = palette_prompts(app)
        assert "Switch theme: edgetui-dark (current)" in prompts
        assert "Switch theme: edgetui-light" in prompts
        assert "Switch theme: edgetui-light (current)" not in prompts


async def test_help_lists_table_keys(app: EdgetuiApp):
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        sections = [str(widget.render()) for widget in app.screen.query(".help-section").results(Static)]
        assert "Tables" in sections
        keys = {str(widget.render()) for widget in app.screen.query(".help-key").results(Static)}
        assert {"home", "end", "pgup", "pgdn"} <= keys


NEW_BINDING_IDS = {"fleet.deploy", "fleet.rollback", "deploy.start", "deploy.back", "rollback.confirm",
                   "rollback.cancel", "device.releases", "models.deploy", "version.cancel", "version.submit"}


def test_help_lists_deploy_keys(app: EdgetuiApp):
    bindings = [binding for _title, group in app.help_sections() for binding in group]
    listed = {binding.id for binding in bindings}
    assert NEW_BINDING_IDS <= listed
    assert [binding.id for binding in bindings if not binding.tooltip] == []
