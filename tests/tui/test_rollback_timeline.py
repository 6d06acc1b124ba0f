"""Rollback from the fleet screen, the device timeline, the releases section and the automatic reconcile."""

from textual.widgets import Button, Static

from edgetui.service import Fleet
from edgetui.settings import Settings
from edgetui.tui.app import create_app
from edgetui.tui.screens.device import DeviceScreen
from edgetui.tui.screens.fleet import FleetScreen
from edgetui.tui.screens.rollback_confirm import RollbackConfirmScreen
from tui.deploy_data import DEVICE_NAMES, FAST, GOOD_V1, GOOD_V2, SLOW, set_fault

DEVICE = DEVICE_NAMES[0]
RECONCILE_PAUSES = 400
"""Upper bound on pauses of 50 ms while the reconcile worker runs; the loop ends as soon as it committed."""


async def deploy(fleet: Fleet, ref: str, **settings) -> None:
    """Deploy ``ref`` to DEVICE alone through the engine."""
    await fleet.deploy(ref, DEVICE, waves="100%", **{**FAST, **settings})


async def press_rollback(app, pilot) -> RollbackConfirmScreen:
    """Press R on the fleet screen's first row and return the confirmation once the releases were read."""
    await pilot.press("R")
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert isinstance(app.screen, RollbackConfirmScreen)
    return app.screen


async def test_rollback_key_cancel_then_confirm(sample_fleet: Fleet):
    await deploy(sample_fleet, GOOD_V1)
    await deploy(sample_fleet, GOOD_V2)
    status_before = sample_fleet.device(DEVICE).status
    app = create_app(sample_fleet, Settings(), reconcile_interval=0)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.screen.query_one("#devices").selected_name == DEVICE
        dialog = await press_rollback(app, pilot)
        text = str(dialog.query_one("#rollback-devices Static", Static).render())
        assert DEVICE in text
        assert "returns to 1.0.0 (previous), from 2.0.0" in text
        assert app.focused is dialog.query_one("#cancel", Button)

        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, FleetScreen)
        assert sample_fleet.device(DEVICE).status == status_before
        assert (await sample_fleet.releases(DEVICE))["current"] == "2.0.0"

        await press_rollback(app, pilot)
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()

        releases = await sample_fleet.releases(DEVICE)
        assert releases["current"] == "1.0.0"
        assert sample_fleet.device(DEVICE).current_release.startswith("vad-1.0.0-")


async def test_timeline_lists_triggers(sample_fleet: Fleet):
    await deploy(sample_fleet, GOOD_V1)
    await deploy(sample_fleet, SLOW)
    await sample_fleet.rollback(DEVICE, to="previous")
    app = create_app(sample_fleet, Settings(), reconcile_interval=0)
    async with app.run_test(size=(140, 60)) as pilot:
        app.action_open_device(DEVICE)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DeviceScreen)
        timeline = str(screen.query_one("#timeline", Static).render())
        lines = timeline.splitlines()

        assert "rollback to" in lines[0]
        assert "rolled back" in lines[0]
        assert lines[1].strip() == "triggered by the user"
        assert "deploy vad-3.0.0-slow" in lines[2]
        assert "rolled_back" in lines[2]
        assert lines[3].strip().startswith("triggered by a failed health check: ")
        assert "deploy vad-1.0.0" in lines[4]
        assert "committed" in lines[4]
        assert lines[5].strip() == "triggered by the user"


async def test_releases_section_loads(sample_fleet: Fleet):
    await deploy(sample_fleet, GOOD_V1)
    await deploy(sample_fleet, GOOD_V2)
    app = create_app(sample_fleet, Settings(), reconcile_interval=0)
    async with app.run_test(size=(140, 60)) as pilot:
        app.action_open_device(DEVICE)
        await pilot.pause()
        await pilot.press("l")
        await app.workers.wait_for_complete()
        await pilot.pause()

        text = str(app.screen.query_one("#releases", Static).render())
        assert "current           2.0.0" in text
        assert "known good        2.0.0" in text
        assert "others            1.0.0 (" in text


async def test_reconcile_worker_commits(sample_fleet: Fleet, sample):
    set_fault(sample, DEVICE, "--cut-after-bytes", "200000")
    await deploy(sample_fleet, GOOD_V1, transfer_attempts=1)
    assert sample_fleet.out_of_sync_devices() == [DEVICE]
    app = create_app(sample_fleet, Settings(), reconcile_interval=0.1)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(RECONCILE_PAUSES):
            if not sample_fleet.out_of_sync_devices():
                break
            await pilot.pause(0.05)
        await app.workers.wait_for_complete()
        await pilot.pause()

        assert sample_fleet.out_of_sync_devices() == []
        assert sample_fleet.device(DEVICE).current_release.startswith("vad-1.0.0-")
        titles = [notification.title for notification in app._notifications]
        assert "Automatic reconcile" in titles
