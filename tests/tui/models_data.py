"""Model and variant records for the Models screen tests: fixed ones, and ones from the real pipeline."""

from datetime import timedelta
from pathlib import Path

from edgetui.artifacts.records import DeviceLatency, ModelRecord, VariantRecord
from edgetui.store import FleetStore
from tui.fleet_data import NOW

SAMPLE_MODELS = Path(__file__).resolve().parents[2] / "sample_models"
DIGITS = SAMPLE_MODELS / "digits_mlp.onnx"
"""A 205 KB classifier: the pipeline builds and measures its variants in about a second."""
FAST = {"kinds": ["fp32-optimized", "int8-dynamic"], "runs": 3, "warmup": 1, "repeats": 1}
"""Options of `Fleet.optimize` that keep a test run short: two kinds, few timed runs."""

MODEL_SHA = "d989d8e2edec53fbdfab379400053fbb646bf0aa9fff46160b6753e3b74cfcf3"
RANDOM = "random inputs: accuracy was not measured"


def _variant(kind: str, size: int, p50: float, agreement: float, **fields) -> VariantRecord:
    """Return one fixed variant of the digits model, recorded an hour before NOW."""
    return VariantRecord(
        model_sha256=MODEL_SHA, kind=kind, blob_sha256=f"{len(kind):064x}", file_name=f"digits_mlp.{kind}.onnx",
        size_bytes=size, compressed_bytes=int(size * 0.9), latency_ms_p50=p50, latency_ms_p95=p50 * 1.2,
        metric="top1", agreement=agreement, created_at=NOW - timedelta(hours=1), **fields,
    )


FIXED_VARIANTS = [
    _variant("fp32-optimized", 205_484, 0.0183, 1.0, within_budget=True, warnings=[RANDOM]),
    _variant("int8-dynamic", 56_399, 0.0176, 0.875, quantized_nodes=3, warnings=[RANDOM],
             device_latency={"rpi4": DeviceLatency(p50_ms=0.41, p95_ms=0.52, threads=1, runs=20,
                                                   onnxruntime="1.18.0")}),
    _variant("pruned-30", 205_305, 0.0172, 1.0, within_budget=True, recommended_for=["laptop"],
             warnings=[RANDOM, "pruned zeros shrink only the compressed file"],
             details={"sparsity": 0.3}),
]


def fill_models(store: FleetStore) -> None:
    """Record the digits model with three fixed variants in ``store``."""
    store.record_model(ModelRecord(sha256=MODEL_SHA, name="digits_mlp", path=str(DIGITS), size_bytes=205_305,
                                   opset=17, task="classifier"))
    store.record_variants(MODEL_SHA, FIXED_VARIANTS)
