"""One line that counts devices by status and shows whether discovery is running."""

from collections import Counter

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from edgetui.domain import DeviceStatus


class FleetSummary(Static):
    """Device counts (online, offline, error, total), the discovery state and whether the fleet is simulated."""

    DEFAULT_CSS = """
    FleetSummary {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $foreground;
    }
    """

    counts: reactive[Counter] = reactive(Counter, always_update=True)
    """Number of devices per status."""

    discovering: reactive[bool] = reactive(False)
    """Whether a discovery run is in progress."""

    simulated: reactive[bool] = reactive(False)
    """Whether every device is a sample fleet simulation."""

    def set_statuses(self, statuses: list[DeviceStatus]) -> None:
        """Count ``statuses``, one per device."""
        self.counts = Counter(statuses)

    def watch_counts(self) -> None:
        """Redraw the line with the new counts."""
        self.update(self._line())

    def watch_discovering(self) -> None:
        """Redraw the line with the new discovery state."""
        self.update(self._line())

    def watch_simulated(self) -> None:
        """Redraw the line with or without the simulated mark."""
        self.update(self._line())

    def _line(self) -> Content:
        """Return the summary text, coloured with theme variables."""
        counts = self.counts
        total = sum(counts.values())
        state = "[$accent]discovering…[/]" if self.discovering else "[$foreground-muted]idle[/]"
        # The sample fleet mixes this computer's facts into its devices, so the summary marks them as simulated.
        simulated = " [$text-warning]simulated[/]" if self.simulated else ""
        return Content.from_markup(
            f"[b]edgetui[/b]{simulated}  "
            f"[$success]{counts[DeviceStatus.ONLINE]} online[/] · "
            f"[$warning]{counts[DeviceStatus.OFFLINE]} offline[/] · "
            f"[$error]{counts[DeviceStatus.ERROR]} error[/] · "
            f"{total} total  │ discovery: {state}"
        )
