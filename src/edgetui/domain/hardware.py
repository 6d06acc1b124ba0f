"""Hardware and software facts that the device shim reports.

Field names match the keys of the shim's `inventory` reply and of
`edgetui discover --json`. Every fact is None when the device does not expose it.
"""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class CpuCluster(BaseModel):
    """A group of identical cores; big.LITTLE parts have two or more."""

    name: str
    cores: int
    max_mhz: float | None = None


class Temperature(BaseModel):
    """One thermal zone's reading in degrees Celsius."""

    zone: str
    celsius: float


class Accelerator(BaseModel):
    """An inference accelerator: kind is gpu, tpu, vpu or npu; vendor is lower case."""

    kind: str
    vendor: str
    name: str


class OnnxRuntimeInfo(BaseModel):
    """The onnxruntime that the device's python3 imports."""

    version: str
    providers: list[str] = Field(default_factory=list)


class ContainerRuntime(BaseModel):
    """Docker or podman on the device, and whether its daemon answered."""

    name: str
    version: str | None = None
    daemon_running: bool | None = None


class HardwareFacts(BaseModel):
    """One discovery's facts about a device."""

    arch: str | None = None
    kernel: str | None = None
    os_id: str | None = None
    os_version: str | None = None
    os_name: str | None = None
    board: str | None = None
    cpu_model: str | None = None
    cpu_cores: int | None = None
    cpu_clusters: list[CpuCluster] = Field(default_factory=list)
    cpu_flags: list[str] = Field(default_factory=list)
    mem_total_mb: int | None = None
    mem_available_mb: int | None = None
    disk_free_mb: int | None = None
    temperatures: list[Temperature] = Field(default_factory=list)
    python: str | None = None
    onnxruntime: OnnxRuntimeInfo | None = None
    accelerators: list[Accelerator] = Field(default_factory=list)
    container_runtime: ContainerRuntime | None = None
    limited: bool = False
    warnings: list[str] = Field(default_factory=list)


class FactChange(BaseModel):
    """A fact whose value differs from the previous discovery."""

    fact: str
    before: Any = None
    after: Any = None


class DiscoveryResult(BaseModel):
    """The outcome of discovering one device."""

    name: str
    ok: bool
    error: str | None = None
    facts: HardwareFacts | None = None
    changes: list[FactChange] = Field(default_factory=list)
    discovered_at: datetime | None = None


class FactsSnapshot(BaseModel):
    """The facts one discovery stored, and what changed since the one before."""

    at: datetime
    facts: HardwareFacts
    changes: list[FactChange] = Field(default_factory=list)
