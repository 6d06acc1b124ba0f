"""The host key modal shows the key and returns the user's decision to the caller."""

import pytest
from textual.widgets import Static

from edgetui.domain import HostKeyRequest
from edgetui.tui.app import EdgetuiApp
from edgetui.tui.screens.fleet import FleetScreen
from edgetui.tui.screens.host_key import HostKeyScreen

REQUEST = HostKeyRequest(
    device="rpi4-aarch64",
    host="127.0.0.1",
    port=40001,
    key_type="ssh-ed25519",
    fingerprint="SHA256:Cg0sTQs1cIvBn2ZJ4v4mB3kUqvO0xU3Hc3AiX8m8i0E",
)


@pytest.mark.parametrize(("key", "expected"), [("y", True), ("n", False), ("escape", False)])
async def test_answer_from_worker(app: EdgetuiApp, key: str, expected: bool):
    async with app.run_test(size=(80, 24)) as pilot:
        worker = app.run_worker(app.ask_host_key(REQUEST), exit_on_error=False)
        await pilot.pause()
        assert isinstance(app.screen, HostKeyScreen)

        await pilot.press(key)
        await worker.wait()
        assert worker.result is expected
        assert isinstance(app.screen, FleetScreen)


async def test_modal_shows_key_details(app: EdgetuiApp):
    async with app.run_test(size=(80, 24)) as pilot:
        app.run_worker(app.ask_host_key(REQUEST), exit_on_error=False)
        await pilot.pause()
        text = " ".join(str(widget.render()) for widget in app.screen.query(Static))
        assert "rpi4-aarch64" in text
        assert "127.0.0.1:40001" in text
        assert "ssh-ed25519" in text
        assert REQUEST.fingerprint in text
        await pilot.press("n")


async def test_accept_button(app: EdgetuiApp):
    async with app.run_test(size=(80, 24)) as pilot:
        worker = app.run_worker(app.ask_host_key(REQUEST), exit_on_error=False)
        await pilot.pause()
        await pilot.click("#accept")
        await worker.wait()
        assert worker.result is True
