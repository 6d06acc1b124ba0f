"""A help screen that lists every key, generated from the bindings themselves, and what the symbols mean."""

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    """Every key of the console, grouped by the screen where it works."""

    BINDINGS = [
        Binding(
            "escape,question_mark,q",
            "app.pop_screen",
            "Close",
            id="help.close",
            tooltip="Close the help screen",
        ),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 76;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        padding: 0 1;
        border: round $primary;
        border-title-color: $primary;
        background: $surface;
    }
    HelpScreen .help-section {
        margin-top: 1;
        color: $accent;
        text-style: bold;
    }
    HelpScreen .help-keys {
        grid-size: 3;
        grid-columns: 10 14 1fr;
        grid-rows: auto;
        height: auto;
    }
    HelpScreen .help-legend {
        grid-size: 2;
        grid-columns: 10 1fr;
        grid-rows: auto;
        height: auto;
    }
    HelpScreen .help-key {
        color: $text-primary;
        text-style: bold;
    }
    HelpScreen .help-tooltip {
        color: $text-muted;
    }
    """

    def __init__(self, sections: list[tuple[str, list[Binding]]],
                 legend: list[tuple[str, str]] | None = None) -> None:
        super().__init__()
        self.sections = sections
        self.legend = legend or []

    def compose(self) -> ComposeResult:
        """Lay out one grid per section: key, description and tooltip of each binding."""
        with VerticalScroll() as body:
            body.border_title = "Keys (Escape closes)"
            for title, bindings in self.sections:
                yield Static(title, classes="help-section")
                with Grid(classes="help-keys"):
                    for binding in bindings:
                        yield Static(self._keys_text(binding), classes="help-key")
                        yield Static(Content(binding.description), classes="help-description")
                        yield Static(Content(binding.tooltip), classes="help-tooltip")
            if self.legend:
                yield Static("Symbols", classes="help-section")
                with Grid(classes="help-legend"):
                    for symbol, meaning in self.legend:
                        yield Static(Content(symbol), classes="help-key")
                        yield Static(Content(meaning), classes="help-tooltip")

    def on_mount(self) -> None:
        """Let arrow keys scroll a long list."""
        self.query_one(VerticalScroll).focus()

    def _keys_text(self, binding: Binding) -> Content:
        """Return every key of the binding as the footer shows it, e.g. "n / esc"."""
        keys = [
            self.app.get_key_display(binding.with_key(key.strip()))
            for key in binding.key.split(",")
        ]
        return Content(" / ".join(keys))
