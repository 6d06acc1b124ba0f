"""Discovery from the fleet screen against simulated devices on 127.0.0.1."""

import socket
from pathlib import Path

import pytest
import sample_fleet
from sample_fleet import SampleFleet
from textual.message import Message

from edgetui.domain import Device, DeviceStatus
from edgetui.service import Fleet
from edgetui.settings import Settings
from edgetui.tui.app import create_app
from edgetui.tui.columns import COLUMNS
from edgetui.tui.messages import DeviceDiscovered, DeviceDiscoveryStarted, DiscoveryFinished
from edgetui.tui.screens.fleet import FleetScreen
from edgetui.tui.screens.host_key import HostKeyScreen
from edgetui.tui.widgets.fleet_summary import FleetSummary
from edgetui.tui.widgets.fleet_table import FleetTable

PROFILES = Path(sample_fleet.__file__).parent / "profiles"
RPI4_BOARD = "Raspberry Pi 4 Model B Rev 1.4"
"""The Model line of the rpi4-aarch64 profile's proc/cpuinfo."""


def free_port() -> int:
    """Return a port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_discover_all_updates_rows(tmp_path: Path):
    async with SampleFleet(tmp_path / "sample", devices=2, profiles=[PROFILES / "rpi4-aarch64"]) as sample:
        fleet = Fleet.open(tmp_path / "fleet.db")
        fleet.import_inventory(sample.inventory_path)
        names = [device.name for device in fleet.devices()]
        app = create_app(fleet, Settings())
        status_before_result: dict[str, str] = {}

        def record(message: Message) -> None:
            # The hook runs before the screen's handler, so the cell still shows the state in between.
            if isinstance(message, DeviceDiscovered) and isinstance(app.screen, FleetScreen):
                table = app.screen.query_one(FleetTable)
                status_before_result[message.name] = str(table.get_cell(message.name, "status"))

        try:
            async with app.run_test(size=(120, 40), message_hook=record) as pilot:
                await pilot.press("d")
                await pilot.pause()
                await app.workers.wait_for_complete()
                await pilot.pause()

                table = app.screen.query_one(FleetTable)
                for name in names:
                    assert status_before_result[name] == "discovering…"
                    assert str(table.get_cell(name, "status")) == "online"
                    assert str(table.get_cell(name, "board")) == RPI4_BOARD
                    assert str(table.get_cell(name, "arch")) == "aarch64"
                assert "idle" in str(app.screen.query_one(FleetSummary).render())
                assert "2 online" in str(app.screen.query_one(FleetSummary).render())

                # The columns were sized while every board cell was empty;
                # discovery must widen them to show what it found.
                await pilot.pause()
                table = app.screen.query_one(FleetTable)
                widths = {key.value: column.width for key, column in table.columns.items()}
                board_cap = next(spec.max_width for spec in COLUMNS if spec.key == "board")
                assert widths["board"] == min(len(RPI4_BOARD), board_cap)
                assert widths["arch"] >= len("aarch64")
        finally:
            await fleet.aclose()


async def test_unreachable_device_offline_with_reason(tmp_path: Path):
    fleet = Fleet.open(tmp_path / "fleet.db", connect_timeout=5.0)
    fleet.store.upsert_device(Device(name="gone", host="127.0.0.1", port=free_port(), user="edge"))
    app = create_app(fleet, Settings())
    messages: list[Message] = []

    def record(message: Message) -> None:
        if isinstance(message, (DeviceDiscoveryStarted, DeviceDiscovered, DiscoveryFinished)):
            messages.append(message)

    try:
        async with app.run_test(size=(80, 24), message_hook=record) as pilot:
            await pilot.press("r")
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()

            assert fleet.device("gone").status is DeviceStatus.OFFLINE
            reason = fleet.device("gone").status_reason
            assert reason
            status = str(app.screen.query_one(FleetTable).get_cell("gone", "status"))
            assert status.startswith("offline: ")
            assert status[len("offline: "):].rstrip("…") in reason

            kinds = [type(message) for message in messages]
            assert kinds.index(DeviceDiscoveryStarted) < kinds.index(DeviceDiscovered)
            assert kinds[-1] is DiscoveryFinished
            # run_test hides toasts, so the test reads the app's list of notifications.
            notices = list(app._notifications)
            assert [notice.title for notice in notices] == ["gone unreachable"]
            assert "[Errno 111]" in notices[0].message
            assert notices[0].markup is False
    finally:
        await fleet.aclose()


async def test_host_key_prompt_during_discovery(tmp_path: Path):
    async with SampleFleet(tmp_path / "sample", devices=1, profiles=[PROFILES / "rpi4-aarch64"]) as sample:
        fleet = Fleet.open(tmp_path / "fleet.db")
        fleet.import_inventory(sample.inventory_path)
        device = fleet.devices()[0]
        # Without the key that the inventory recorded, the SSH layer must ask the user.
        fleet.store.forget_host_keys(device.host, device.port)
        app = create_app(fleet, Settings())
        try:
            async with app.run_test(size=(80, 24)) as pilot:
                await pilot.press("d")
                await pilot.wait_for_scheduled_animations()
                await wait_for_screen(pilot, HostKeyScreen)
                assert app.screen.request.device == device.name
                assert app.screen.request.fingerprint.startswith("SHA256:")

                await pilot.press("y")
                await app.workers.wait_for_complete()
                await pilot.pause()
                assert fleet.device(device.name).status is DeviceStatus.ONLINE
                assert fleet.store.known_host_keys(device.host, device.port)
        finally:
            await fleet.aclose()


async def wait_for_screen(pilot, screen_type, attempts: int = 200) -> None:
    """Let the app process messages until ``screen_type`` is on top; fail after ``attempts`` rounds."""
    for _ in range(attempts):
        if isinstance(pilot.app.screen, screen_type):
            return
        await pilot.pause()
    raise AssertionError(f"{screen_type.__name__} did not open; top screen is {pilot.app.screen!r}")


@pytest.mark.parametrize("on_start", [False, True])
async def test_worker_failure_notified(tmp_path: Path, on_start: bool):
    fleet = Fleet.open(tmp_path / "empty.db")
    app = create_app(fleet, Settings(), discover_on_start=on_start)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            if not on_start:
                await pilot.press("d")
            await app.workers.wait_for_complete()
            await pilot.pause()

            notices = list(app._notifications)
            assert [notice.title for notice in notices] == ["Invalid input"]
            assert "Import an inventory first" in notices[0].message
            assert "idle" in str(app.screen.query_one(FleetSummary).render())
    finally:
        await fleet.aclose()


async def test_discover_marked_only(tmp_path: Path):
    async with SampleFleet(tmp_path / "sample", devices=2, profiles=[PROFILES / "rpi4-aarch64"]) as sample:
        fleet = Fleet.open(tmp_path / "fleet.db")
        fleet.import_inventory(sample.inventory_path)
        first, second = [device.name for device in fleet.devices()]
        app = create_app(fleet, Settings())
        try:
            async with app.run_test(size=(80, 24)) as pilot:
                await pilot.press("down", "space", "d")
                await app.workers.wait_for_complete()
                await pilot.pause()

                table = app.screen.query_one(FleetTable)
                assert table.marked == {second}
                assert str(table.get_cell(second, "status")) == "online"
                assert str(table.get_cell(first, "status")) == "unknown"
                assert fleet.device(first).status is DeviceStatus.UNKNOWN
        finally:
            await fleet.aclose()


async def test_rejected_host_key_tells_tui_keys(tmp_path: Path):
    async with SampleFleet(tmp_path / "sample", devices=1, profiles=[PROFILES / "rpi4-aarch64"]) as sample:
        fleet = Fleet.open(tmp_path / "fleet.db")
        fleet.import_inventory(sample.inventory_path)
        device = fleet.devices()[0]
        fleet.store.forget_host_keys(device.host, device.port)
        app = create_app(fleet, Settings())
        try:
            async with app.run_test(size=(80, 24)) as pilot:
                await pilot.press("d")
                await wait_for_screen(pilot, HostKeyScreen)
                await pilot.press("n")
                await app.workers.wait_for_complete()
                await pilot.pause()

                notices = list(app._notifications)
                assert len(notices) == 1
                assert "--accept-new-host-keys" not in notices[0].message
                assert "press d (or r for one device) again and press y" in notices[0].message
                # The stored reason keeps the command-line wording for `edgetui` on the shell.
                assert "--accept-new-host-keys" in fleet.device(device.name).status_reason

                app.action_open_device(device.name)
                await pilot.pause()
                status = str(app.screen.query_one("#status").render())
                assert "--accept-new-host-keys" not in status
                assert "press d" in status

                # Pressing d again asks again, as the notice promises.
                await pilot.press("escape", "d")
                await wait_for_screen(pilot, HostKeyScreen)
                await pilot.press("y")
                await app.workers.wait_for_complete()
                await pilot.pause()
                assert fleet.device(device.name).status is DeviceStatus.ONLINE
        finally:
            await fleet.aclose()
