"""The Deploy screen against the sample fleet: a rollout to every device, and a canary that halts."""

from textual.message import Message
from textual.widgets import ProgressBar, Static

from edgetui.service import Fleet
from edgetui.settings import Settings
from edgetui.tui.app import create_app
from edgetui.tui.messages import DeployProgressed
from edgetui.tui.screens.deploy import DeployScreen
from edgetui.tui.widgets.device_progress import DeviceProgress
from tui.deploy_data import DEVICE_NAMES, FAST, GOOD_V1, set_fault


def static_text(screen, selector: str) -> str:
    """Return the plain text of a Static on ``screen``."""
    return str(screen.query_one(selector, Static).render())


async def open_deploy(app, pilot) -> DeployScreen:
    """Press u on the fleet screen and return the Deploy screen with fast retry settings."""
    await pilot.press("u")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, DeployScreen)
    screen.deploy_settings = dict(FAST)
    return screen


def select_artifact(screen: DeployScreen, fleet: Fleet, ref: str) -> None:
    """Move the artifact table's cursor to NAME:VERSION."""
    name, version = ref.split(":")
    artifact = next(a for a in fleet.artifacts() if a.name == name and a.version == version)
    screen.artifacts_table.move_cursor(row=screen.artifacts_table.get_row_index(artifact.id))


async def test_deploy_commits_every_device(sample_fleet: Fleet):
    seen: list[Message] = []
    app = create_app(sample_fleet, Settings(), reconcile_interval=0)
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        screen = await open_deploy(app, pilot)
        select_artifact(screen, sample_fleet, GOOD_V1)
        assert "3 devices" in static_text(screen, "#selector-message")
        assert "2 waves of 1 + 2 devices" in static_text(screen, "#waves-message")

        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()

        progress = [message for message in seen if isinstance(message, DeployProgressed)]
        assert {message.device for message in progress} == set(DEVICE_NAMES)
        assert any(message.state == "transferring" and message.bytes_done > 0 for message in progress)
        assert {message.device for message in progress if message.state == "committed"} == set(DEVICE_NAMES)
        states = [device["state"] for wave in screen.report["waves"] for device in wave["devices"]]
        assert states == ["committed"] * 3
        lines = list(screen.query(DeviceProgress))
        assert [line.device for line in lines] == DEVICE_NAMES
        assert [line.query_one(ProgressBar).percentage for line in lines] == [1.0, 1.0, 1.0]
        assert static_text(screen, "#wave-status") == "wave 1: passed   wave 2: passed"
        assert "completed: 3 committed" in static_text(screen, "#deploy-summary")
        assert static_text(screen, "#halt-reason") == ""


async def test_disk_full_canary_halts(sample_fleet: Fleet, sample):
    # The first contact installs the shim, which a full disk would reject as well.
    await sample_fleet.releases(DEVICE_NAMES[0])
    set_fault(sample, DEVICE_NAMES[0], "--disk-full")
    app = create_app(sample_fleet, Settings(), reconcile_interval=0)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_deploy(app, pilot)
        select_artifact(screen, sample_fleet, GOOD_V1)

        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()

        halt = static_text(screen, "#halt-reason")
        assert halt.startswith("Halted: wave 1:")
        assert "insufficient_disk" in halt
        assert static_text(screen, "#wave-status") == "wave 1: halted   wave 2: not started"
        assert [line.state for line in screen.query(DeviceProgress)] == ["failed", "planned", "planned"]
        assert "halted" in static_text(screen, "#deploy-summary")


async def test_invalid_selector_shown_inline(sample_fleet: Fleet):
    app = create_app(sample_fleet, Settings(), reconcile_interval=0)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_deploy(app, pilot)
        screen.query_one("#selector").focus()
        await pilot.press(*"nosuch-1")
        await pilot.pause()

        message = screen.query_one("#selector-message", Static)
        assert message.has_class("-error")
        assert "nosuch-1" in str(message.render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert list(screen.query(DeviceProgress)) == []


async def test_no_artifact_explained_on_open(tmp_path):
    fleet = Fleet.open(tmp_path / "empty.db")
    app = create_app(fleet, Settings(), reconcile_interval=0)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_deploy(app, pilot)

            summary = static_text(screen, "#deploy-summary")
            assert "No artifact recorded yet" in summary
            assert "edgetui artifact add" in summary
    finally:
        await fleet.aclose()
