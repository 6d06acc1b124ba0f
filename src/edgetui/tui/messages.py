"""Messages that the discovery, optimize, deploy, rollback, reconcile and telemetry workers post to the screens.

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


class DeployProgressed(Message, bubble=False):
    """A device update of the running rollout reached a step or sent more bytes."""

    def __init__(self, device: str, state: str, bytes_done: int, bytes_total: int) -> None:
        super().__init__()
        self.device = device
        self.state = state
        self.bytes_done = bytes_done
        self.bytes_total = bytes_total


class RollbackPlanned(Message, bubble=False):
    """The releases of the devices to roll back were read; ``targets`` are RollbackTarget objects."""

    def __init__(self, targets: list) -> None:
        super().__init__()
        self.targets = targets


class RollbackFinished(Message, bubble=False):
    """A rollback ended; ``results`` has one dict per device as `Fleet.rollback` returns it."""

    def __init__(self, results: list[dict]) -> None:
        super().__init__()
        self.results = results


class ReleasesLoaded(Message, bubble=False):
    """A device's releases were read (``releases``), or reading them failed (``error``)."""

    def __init__(self, name: str, releases: dict | None, error: str | None) -> None:
        super().__init__()
        self.name = name
        self.releases = releases
        self.error = error


class ReconcileFinished(Message, bubble=False):
    """The automatic reconcile updated or failed to update devices; ``results`` as `Fleet.reconcile` returns them."""

    def __init__(self, results: list[dict]) -> None:
        super().__init__()
        self.results = results


class TelemetryUpdated(Message, bubble=False):
    """New telemetry of the devices ``names``; ``alerts_changed`` when the alert list changed too."""

    def __init__(self, names: frozenset[str], *, alerts_changed: bool = False) -> None:
        super().__init__()
        self.names = names
        self.alerts_changed = alerts_changed
