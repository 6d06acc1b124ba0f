"""Snapshots of the Deploy screen and the rollback confirmation on the fixed fleet (tui/fleet_data.py).

Update them with `pytest tests/tui --snapshot-update` after checking the new SVGs by eye.
"""

from edgetui.settings import Settings
from edgetui.tui.app import create_app
from edgetui.tui.messages import DeployProgressed
from edgetui.tui.rollback_plan import plan_rollback
from edgetui.tui.screens.deploy import DeployScreen
from edgetui.tui.screens.rollback_confirm import RollbackConfirmScreen
from tui.deploy_data import fixed_artifact
from tui.fleet_data import fixed_clock

TARGETS = ["coral-devboard", "jetson-nano", "rpi4-aarch64"]


def releases(current: str, known_good: str, previous: str | None) -> dict:
    """Return a fixed `Fleet.releases` dict whose release ids are the versions themselves."""
    listed = [version for version in dict.fromkeys([current, known_good, previous]) if version]
    return {"current": current, "known_good": known_good, "current_id": current, "known_good_id": known_good,
            "previous_id": previous, "releases": [{"id": v, "version": v, "state": "staged"} for v in listed]}


def test_deploy_screen_running(snap_compare, fleet):
    """The Deploy screen at 110x30 during a rollout of vad 2.0.0 to three devices in waves 1,25%,100%.

    A person should see the artifact table with vad 1.0.0 and vad 2.0.0 (2.31 MB, created
    2025-05-30), the cursor on vad 2.0.0, and beside it the selector
    "coral-devboard,jetson-nano,rpi4-aarch64" with "3 devices: …", the waves "1,25%,100%" with
    "2 waves of 1 + 2 devices" and max failures 0. Below: "wave 1: passed   wave 2: running",
    then coral-devboard with a full bar and "wave 1: committed" in green, jetson-nano with a bar
    at 52% and "wave 2: transferring 1.20 / 2.31 MB", rpi4-aarch64 with "wave 2: staged" and a
    full bar, and the line "Rollout running…". The footer lists Back and ^s Start rollout.
    """
    for version, created in (("1.0.0", "2025-05-20T09:00:00Z"), ("2.0.0", "2025-05-30T10:15:00Z")):
        fleet.store.record_artifact(fixed_artifact("vad", version, 2_310_000, created))
    app = create_app(fleet, Settings(), clock=fixed_clock, reconcile_interval=0)

    async def run_before(pilot):
        screen = DeployScreen(TARGETS, fixed_artifact("vad", "2.0.0", 0, "").id)
        await app.push_screen(screen)
        await pilot.pause()
        screen._show_planned_devices()
        await pilot.pause()
        for device, state, done in (("coral-devboard", "committed", 2_310_000), ("jetson-nano", "transferring", 1_200_000),
                                    ("rpi4-aarch64", "staged", 2_310_000)):
            screen.post_message(DeployProgressed(device, state, done, 2_310_000))
        await pilot.pause()

    assert snap_compare(app, terminal_size=(110, 30), run_before=run_before)


def test_rollback_confirmation(snap_compare, fleet):
    """The rollback confirmation at 100x24 over the fleet screen, for three devices.

    A person should see a dialog with a thick amber border titled "Roll back" and the
    question "Roll back 3 devices? …". Three lines name the devices in bold:
    coral-devboard "returns to 1.0.0 (previous), from 2.0.0", jetson-nano "returns to
    1.4.0 (known good), from 1.5.0-rc1", and rpi4-aarch64 "returns to its known-good release,
    version unknown: connection refused…". Below are the buttons "Roll back (y)" and
    "Cancel (n)", with Cancel focused.
    """
    targets = [
        plan_rollback("coral-devboard", releases("2.0.0", "2.0.0", "1.0.0")),
        plan_rollback("jetson-nano", releases("1.5.0-rc1", "1.4.0", "1.4.0")),
        plan_rollback("rpi4-aarch64", None, "connection refused by 127.0.0.1:40001"),
    ]
    app = create_app(fleet, Settings(), clock=fixed_clock, reconcile_interval=0)

    async def run_before(pilot):
        await app.push_screen(RollbackConfirmScreen(targets))
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 24), run_before=run_before)
