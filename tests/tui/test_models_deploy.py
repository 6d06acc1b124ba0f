"""The Models screen's hand-off: a variant becomes a signed artifact and the Deploy screen opens with it selected."""

import shutil
from pathlib import Path

from textual.widgets import Input, Static

from edgetui.service import Fleet
from edgetui.settings import Settings
from edgetui.store import FleetStore
from edgetui.tui.app import create_app
from edgetui.tui.screens.deploy import DeployScreen
from edgetui.tui.screens.version_dialog import VersionDialog
from tui.fleet_data import fixed_clock


async def test_variant_becomes_artifact(optimized_db: Path, isolated_dirs: Path):
    # The variants' blobs live in the data folder that the optimize run used.
    shutil.copytree(optimized_db.parent / "data", isolated_dirs / "data", dirs_exist_ok=True)
    shutil.copyfile(optimized_db, isolated_dirs / "fleet.db")
    fleet = Fleet(FleetStore(isolated_dirs / "fleet.db"))
    app = create_app(fleet, Settings(), clock=fixed_clock, reconcile_interval=0)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("m", "enter", "u")
            await pilot.pause()
            dialog = app.screen
            assert isinstance(dialog, VersionDialog)
            dialog.query_one("#version", Input).value = "not a version!"
            await pilot.press("enter")
            await pilot.pause()
            assert "Invalid artifact version" in str(dialog.query_one("#version-message", Static).render())

            dialog.query_one("#version", Input).value = "0.1.0"
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await pilot.pause()

            artifacts = fleet.artifacts()
            assert [artifact.ref for artifact in artifacts] == ["digits_mlp:0.1.0"]
            assert isinstance(app.screen, DeployScreen)
            assert app.screen.selected_artifact == artifacts[0].id
    finally:
        fleet.store.close()
