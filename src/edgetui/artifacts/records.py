"""Records of models and their variants as the fleet database keeps them. No I/O."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class ModelRecord(BaseModel):
    """A source model that `edgetui optimize` processed; its bytes are the blob ``sha256``."""

    sha256: str
    name: str
    path: str
    """Path the model was read from when it was last optimized."""
    size_bytes: int
    opset: int | None = None
    task: str | None = None
    created_at: datetime | None = None


class DeviceLatency(BaseModel):
    """Latency of one variant measured on one device with its own onnxruntime."""

    p50_ms: float
    p95_ms: float
    threads: int
    runs: int
    onnxruntime: str | None = None
    """Version of the device's onnxruntime."""
    providers: list[str] = Field(default_factory=list)


class VariantRecord(BaseModel):
    """One measured variant of a model, stored as the blob ``blob_sha256``."""

    model_sha256: str
    kind: str
    """fp32-optimized, ort-format, int8-dynamic, int8-static, pruned-N or fp16."""
    blob_sha256: str
    file_name: str
    """Name with the extension onnxruntime needs, such as ``model.ort-format.ort``."""
    size_bytes: int
    compressed_bytes: int
    latency_ms_p50: float | None = None
    latency_ms_p95: float | None = None
    threads: int = 1
    device_latency: dict[str, DeviceLatency] = Field(default_factory=dict)
    """Latency per device name, for devices that benchmarked this variant."""
    metric: str | None = None
    agreement: float | None = None
    """Agreement with the FP32 model on the evaluation data; 1.0 means identical."""
    max_abs_error: float | None = None
    quantized_nodes: int = 0
    warnings: list[str] = Field(default_factory=list)
    within_budget: bool = False
    accuracy_budget: float = 0.01
    recommended_for: list[str] = Field(default_factory=list)
    """Targets for which this variant was recommended."""
    details: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime | None = None
