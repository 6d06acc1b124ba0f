"""Messages that the discovery worker posts to the screens.

The worker only reports what happened; each screen decides which widgets to
update. None of them bubble, because the app posts a copy to every screen.
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
