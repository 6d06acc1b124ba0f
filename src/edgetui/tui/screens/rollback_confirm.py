"""A modal dialog that names the devices to roll back and the release each one returns to."""

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from edgetui.tui.rollback_plan import RollbackTarget

NAME_WIDTH = 24
"""Width of the device name column in the list of devices."""


class RollbackConfirmScreen(ModalScreen[bool]):
    """The devices and their target releases. It dismisses with True to roll back, False to cancel."""

    BINDINGS = [
        Binding("y", "confirm", "Roll back", id="rollback.confirm",
                tooltip="Roll the listed devices back to the releases shown"),
        Binding("n,escape", "cancel", "Cancel", id="rollback.cancel",
                tooltip="Close the dialog and change nothing"),
    ]

    DEFAULT_CSS = """
    RollbackConfirmScreen {
        align: center middle;
    }
    RollbackConfirmScreen > Vertical {
        width: 90;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        padding: 0 1;
        border: thick $warning;
        border-title-color: $warning;
        background: $surface;
    }
    RollbackConfirmScreen VerticalScroll {
        height: auto;
        max-height: 16;
        margin: 1 0;
    }
    RollbackConfirmScreen Horizontal {
        height: auto;
        align-horizontal: center;
    }
    RollbackConfirmScreen Button {
        margin: 0 2;
    }
    """

    def __init__(self, targets: list[RollbackTarget]) -> None:
        super().__init__()
        self.targets = targets

    def compose(self) -> ComposeResult:
        """Lay out the question, one line per device and the two buttons."""
        count = self.rollback_count
        noun = "device" if count == 1 else "devices"
        with Vertical() as dialog:
            dialog.border_title = "Roll back"
            if count:
                question = (f"Roll back {count} {noun}? Each one switches to the release shown, "
                            "and the console confirms it with the device's status.")
            else:
                question = "No selected device has a release to return to, so nothing can be rolled back."
            yield Static(Content(question))
            with VerticalScroll(id="rollback-devices"):
                yield Static(self._device_lines())
            with Horizontal():
                # With nothing to roll back, only the way out is offered.
                yield Button("Roll back (y)", variant="warning", id="confirm", disabled=count == 0)
                yield Button("Cancel (n)" if count else "Close (n)", variant="primary", id="cancel")

    @property
    def rollback_count(self) -> int:
        """Number of listed devices that have a release to return to."""
        return sum(1 for target in self.targets if target.to is not None)

    def on_mount(self) -> None:
        """Focus Cancel, so a stray Enter never rolls devices back."""
        self.query_one("#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Dismiss with True for Roll back and False for Cancel."""
        self.dismiss(event.button.id == "confirm")

    def action_confirm(self) -> None:
        """Roll the devices back, when any of them has a release to return to."""
        if self.rollback_count:
            self.dismiss(True)

    def action_cancel(self) -> None:
        """Close without a change."""
        self.dismiss(False)

    def _device_lines(self) -> Content:
        """Return one line per device: its name in bold, then the release it returns to."""
        lines = [Content.assemble((target.name.ljust(NAME_WIDTH), "bold"), target.note) for target in self.targets]
        return Content("\n").join(lines)
