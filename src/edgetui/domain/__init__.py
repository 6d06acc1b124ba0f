"""Pydantic models shared by every layer. No I/O happens here."""

from edgetui.domain.device import Device, DeviceStatus
from edgetui.domain.events import Event
from edgetui.domain.hardware import (
    Accelerator,
    ContainerRuntime,
    CpuCluster,
    DiscoveryResult,
    FactChange,
    HardwareFacts,
    OnnxRuntimeInfo,
    Temperature,
)

__all__ = [
    "Accelerator",
    "ContainerRuntime",
    "CpuCluster",
    "Device",
    "DeviceStatus",
    "DiscoveryResult",
    "Event",
    "FactChange",
    "HardwareFacts",
    "OnnxRuntimeInfo",
    "Temperature",
]
