"""A modal screen with everything recorded about one variant, and the state of deploying it."""

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from edgetui.artifacts.records import VariantRecord
from edgetui.tui.formatting import value_text
from edgetui.tui.variant_rows import DEPLOY_NOTE, variant_details, variant_label


class VariantDetailsScreen(ModalScreen[None]):
    """One variant's measurements, warnings and build details, with the deploy note."""

    BINDINGS = [
        Binding(
            "escape,enter",
            "app.pop_screen",
            "Close",
            id="variant.close",
            tooltip="Return to the Models screen",
        ),
    ]

    DEFAULT_CSS = """
    VariantDetailsScreen {
        align: center middle;
    }
    VariantDetailsScreen > VerticalScroll {
        width: 96;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        padding: 0 1;
        border: round $primary;
        border-title-color: $primary;
        background: $surface;
    }
    VariantDetailsScreen #deploy-note {
        margin-top: 1;
        color: $text-warning;
    }
    """

    def __init__(self, variant: VariantRecord) -> None:
        super().__init__()
        self.variant = variant

    def compose(self) -> ComposeResult:
        """Lay out the measurements, the build details and the deploy note."""
        with VerticalScroll() as body:
            body.border_title = f"Variant {variant_label(self.variant)} (Escape closes)"
            yield Static(Content("\n".join(variant_details(self.variant))), id="variant-measurements")
            build = [f"{key}: {value_text(value)}" for key, value in sorted(self.variant.details.items())]
            yield Static(Content("build details\n" + "\n".join(f"  {line}" for line in build)), id="variant-build")
            yield Static(Content(DEPLOY_NOTE), id="deploy-note")

    def on_mount(self) -> None:
        """Let arrow keys scroll long details."""
        self.query_one(VerticalScroll).focus()
