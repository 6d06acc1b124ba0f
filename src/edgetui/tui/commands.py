"""The command palette's commands: every action of the console, by name."""

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from edgetui.tui.app import EdgetuiApp

Command = tuple[str, Callable[[], object], str]
"""A command's name as shown, the callable that runs it, and its help text."""


class EdgetuiCommands(Provider):
    """Discovery, deploy, rollback, reconcile, models, device, theme, help and quit commands."""

    app: "EdgetuiApp"

    def commands(self) -> list[Command]:
        """Return every command, with one per device and one per edgetui theme."""
        app = self.app
        commands: list[Command] = [
            ("Discover all devices", partial(app.start_discovery, None),
             "Run discovery on every device of the fleet"),
            ("Discover marked devices", app.action_discover_marked,
             "Run discovery on the marked rows, or the row under the cursor"),
            ("Deploy an artifact", app.action_open_deploy,
             "Open the Deploy screen with the marked devices as targets"),
            ("Roll back selected devices", app.action_rollback_selected,
             "Roll the marked devices, or the row under the cursor, back after a confirmation"),
            ("Reconcile now", app.action_reconcile_now,
             "Update the devices whose desired release differs from the one they serve"),
            ("Open models", app.action_open_models,
             "Show the optimized models and their variants, and optimize a model"),
            ("Show keys and help", app.action_help, "List every key and what it does"),
            ("Quit", app.action_quit, "Leave edgetui"),
        ]
        for name in app.edgetui_theme_names:
            current = " (current)" if name == app.theme else ""
            commands.append(
                (f"Switch theme: {name}{current}", partial(app.action_switch_theme, name),
                 "Apply this theme now and remember it in settings.json")
            )
        for device in app.fleet.devices():
            commands.append(
                (f"Open device: {device.name}", partial(app.action_open_device, device.name),
                 f"Show the facts, changes and events of {device.address}")
            )
        return commands

    async def discover(self) -> Hits:
        """List every command before the user types."""
        for name, callback, help_text in self.commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        """Return the commands whose names fuzzy-match ``query``."""
        matcher = self.matcher(query)
        for name, callback, help_text in self.commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, text=name, help=help_text)
