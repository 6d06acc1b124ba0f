"""A modal dialog that requests the version under which a model variant becomes an artifact."""

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from edgetui.artifacts.manifest import check_version
from edgetui.errors import EdgetuiError


class VersionDialog(ModalScreen[str | None]):
    """The artifact name and a version input; it dismisses with a valid version, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="version.cancel", tooltip="Close the dialog without packaging"),
        Binding("enter", "submit", "Package", show=False, id="version.submit",
                tooltip="Package the variant under this version and open the Deploy screen"),
    ]

    DEFAULT_CSS = """
    VersionDialog {
        align: center middle;
    }
    VersionDialog > Vertical {
        width: 72;
        max-width: 100%;
        height: auto;
        padding: 0 1;
        border: round $primary;
        border-title-color: $primary;
        background: $surface;
    }
    VersionDialog #version-message {
        color: $text-error;
    }
    """

    def __init__(self, name: str, variant: str, suggested: str = "1.0.0") -> None:
        super().__init__()
        self.artifact_name = name
        self.variant = variant
        self.suggested = suggested

    def compose(self) -> ComposeResult:
        """Lay out what is packaged, the version input and its error line."""
        with Vertical() as dialog:
            dialog.border_title = "Package for deploy (Enter packages, Escape cancels)"
            yield Static(Content.from_markup("Variant [b]$variant[/b] becomes the artifact [b]$name[/b]:VERSION.",
                                             variant=self.variant, name=self.artifact_name))
            yield Input(self.suggested, placeholder="version, such as 1.2.0", id="version")
            yield Static(id="version-message")

    def on_mount(self) -> None:
        """Focus the version input."""
        self.query_one("#version", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Package on Enter in the input."""
        self.action_submit()

    def action_submit(self) -> None:
        """Dismiss with the version when it is valid, else show why it is not."""
        version = self.query_one("#version", Input).value.strip()
        try:
            check_version(version)
        except EdgetuiError as error:
            self.query_one("#version-message", Static).update(Content(error.message))
            return
        self.dismiss(version)

    def action_cancel(self) -> None:
        """Close without packaging."""
        self.dismiss(None)
