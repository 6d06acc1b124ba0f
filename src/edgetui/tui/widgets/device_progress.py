"""One device's line on the Deploy screen: its name, a bytes progress bar and the current step."""

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import ProgressBar, Static

from edgetui.tui.deploy_rows import FAILED_STATES, step_text


class DeviceProgress(Horizontal):
    """A device update's progress: bytes sent over bytes to send, and the step it reached."""

    DEFAULT_CSS = """
    DeviceProgress {
        height: 1;
    }
    DeviceProgress .device-name {
        width: 24;
        text-style: bold;
    }
    DeviceProgress ProgressBar {
        width: 32;
    }
    DeviceProgress .device-step {
        width: 1fr;
        padding-left: 1;
    }
    DeviceProgress.-failed .device-step {
        color: $text-error;
    }
    DeviceProgress.-committed .device-step {
        color: $text-success;
    }
    """

    def __init__(self, device: str, wave: int) -> None:
        super().__init__(classes="device-progress")
        self.device = device
        self.wave = wave
        self.state = "planned"

    def compose(self) -> ComposeResult:
        """Lay out the name, the bar and the step."""
        yield Static(Content(self.device), classes="device-name")
        yield ProgressBar(total=None, show_eta=False)
        yield Static(Content(f"wave {self.wave}: planned"), classes="device-step")

    @property
    def bar(self) -> ProgressBar:
        """The bytes progress bar."""
        return self.query_one(ProgressBar)

    def show(self, state: str, bytes_done: int, bytes_total: int, error: str | None = None) -> None:
        """Show a step; a committed update fills the bar, even when nothing had to be sent."""
        self.state = state
        if state == "committed":
            total = bytes_total or 1
            self.bar.update(total=total, progress=total)
        elif bytes_total > 0:
            self.bar.update(total=bytes_total, progress=bytes_done)
        text = step_text(state, bytes_done, bytes_total)
        if error:
            text = f"{text}: {error}"
        self.query_one(".device-step", Static).update(Content(f"wave {self.wave}: {text}"))
        self.set_class(state in FAILED_STATES, "-failed")
        self.set_class(state == "committed", "-committed")
