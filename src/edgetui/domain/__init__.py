"""Pydantic models shared by every layer. No I/O happens here."""

from edgetui.domain.device import Device, DeviceStatus
from edgetui.domain.events import Event
from edgetui.domain.hardware import (
    Accelerator,
    ContainerRuntime,
    CpuCluster,
    DiscoveryResult,
    FactChange,
    FactsSnapshot,
    HardwareFacts,
    OnnxRuntimeInfo,
    Temperature,
)
from edgetui.domain.progress import DiscoveryUpdate, HostKeyRequest

__all__ = [
    "Accelerator",
    "ContainerRuntime",
    "CpuCluster",
    "Device",
    "DeviceStatus",
    "DiscoveryResult",
    "Event",
    "FactChange",
    "FactsSnapshot",
    "DiscoveryUpdate",
    "HostKeyRequest",
    "HardwareFacts",
    "OnnxRuntimeInfo",
    "Temperature",
]
