"""The rollback confirmation when no selected device has a release to return to."""

from textual.app import App
from textual.widgets import Button

from edgetui.tui.rollback_plan import RollbackTarget
from edgetui.tui.screens.rollback_confirm import RollbackConfirmScreen

NOTHING_TO_DO = [
    RollbackTarget(name="jetson-nano", to=None, version=None,
                   note="serves 1.0.0 and has no earlier release: skipped"),
]


class ConfirmHost(App):
    """Show the dialog alone and record its result."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[bool] = []

    def on_mount(self) -> None:
        self.push_screen(RollbackConfirmScreen(NOTHING_TO_DO), self.answers.append)


async def test_nothing_to_roll_back_offers_only_close():
    app = ConfirmHost()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, RollbackConfirmScreen)
        assert dialog.query_one("#confirm", Button).disabled
        assert "Close" in str(dialog.query_one("#cancel", Button).label)

        await pilot.press("y")
        await pilot.pause()
        assert app.screen is dialog
        assert app.answers == []

        await pilot.press("n")
        await pilot.pause()
        assert app.answers == [False]
