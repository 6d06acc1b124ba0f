"""Messages that the discovery and optimize workers post to the screens.

The workers only report what happened; each screen decides which widgets to
update. None of them bubble: the app posts a copy of each discovery message
to every screen, and the optimize worker posts to the Models screen.
"""

from textual.message import Message

from edgetui.domain import DiscoveryResult, DiscoveryUpdate


class DiscoveryStarted(Message, bubble=False):
    """A discovery run started on the named devices (None: the whole fleet)."""

    def __init__(self, names: list[str] | None) -> None:
        super().__init__()
        self.names = names


class DeviceDiscoveryStarted(Message, bubble=False):
    """One device's discovery started."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


class DeviceDiscovered(Message, bubble=False):
    """One device's discovery finished, successfully or not. The store contains the outcome."""

    def __init__(self, update: DiscoveryUpdate) -> None:
        super().__init__()
        self.update = update

    @property
    def name(self) -> str:
        """Name of the device."""
        return self.update.name


class DiscoveryFinished(Message, bubble=False):
    """A discovery run ended. ``results`` is empty when the run itself failed."""

    def __init__(self, results: list[DiscoveryResult]) -> None:
        super().__init__()
        self.results = results


class OptimizeProgressed(Message, bubble=False):
    """The optimize pipeline started a step; ``fraction`` of the run (0 to 1) is done."""

    def __init__(self, step: str, fraction: float) -> None:
        super().__init__()
        self.step = step
        self.fraction = fraction
