"""Messages that long operations send to their caller while they run."""

from pydantic import BaseModel

from edgetui.domain.device import DeviceStatus
from edgetui.domain.hardware import DiscoveryResult


class DiscoveryUpdate(BaseModel):
    """A device's discovery started or finished; ``result`` is set when it finished."""

    name: str
    status: DeviceStatus
    reason: str | None = None
    result: DiscoveryResult | None = None


class HostKeyRequest(BaseModel):
    """A device presented a host key that is not yet known; the user decides."""

    device: str
    host: str
    port: int
    key_type: str
    fingerprint: str
