"""A modal dialog that lets the user decide whether to trust a host key that a device presented for the first time."""

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from edgetui.domain import HostKeyRequest


class HostKeyScreen(ModalScreen[bool]):
    """A device's new host key. The screen dismisses with True to accept it, False to reject it."""

    BINDINGS = [
        Binding(
            "y",
            "accept",
            "Accept",
            id="host-key.accept",
            tooltip="Trust this host key and remember it in the fleet database",
        ),
        Binding(
            "n,escape",
            "reject",
            "Reject",
            id="host-key.reject",
            tooltip="Do not connect; the device's discovery fails",
        ),
    ]

    DEFAULT_CSS = """
    HostKeyScreen {
        align: center middle;
    }
    HostKeyScreen > Vertical {
        width: 76;
        max-width: 100%;
        height: auto;
        padding: 0 1;
        border: thick $warning;
        border-title-color: $warning;
        background: $surface;
    }
    HostKeyScreen #host-key-details {
        margin: 1 0;
    }
    HostKeyScreen Horizontal {
        height: auto;
        align-horizontal: center;
    }
    HostKeyScreen Button {
        margin: 0 2;
    }
    """

    def __init__(self, request: HostKeyRequest) -> None:
        super().__init__()
        self.request = request

    def compose(self) -> ComposeResult:
        """Lay out the key's details and the two buttons."""
        request = self.request
        with Vertical() as dialog:
            dialog.border_title = "Unknown host key"
            yield Static(
                Content.from_markup(
                    "Device [b]$device[/b] at [b]$address[/b] presented a key "
                    "that is not in known_hosts or the fleet database.\n"
                    "Compare the fingerprint with the device's before you accept it.",
                    device=request.device,
                    address=f"{request.host}:{request.port}",
                )
            )
            yield Static(
                Content.from_markup(
                    "key type     $key_type\nfingerprint  [b]$fingerprint[/b]",
                    key_type=request.key_type,
                    fingerprint=request.fingerprint,
                ),
                id="host-key-details",
            )
            with Horizontal():
                yield Button("Accept (y)", variant="success", id="accept")
                yield Button("Reject (n)", variant="error", id="reject")

    def on_mount(self) -> None:
        """Focus Reject, so a stray Enter never trusts a key."""
        self.query_one("#reject", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Dismiss with True for Accept and False for Reject."""
        self.dismiss(event.button.id == "accept")

    def action_accept(self) -> None:
        """Trust the key."""
        self.dismiss(True)

    def action_reject(self) -> None:
        """Reject the key."""
        self.dismiss(False)
