"""Build optimized variants of an ONNX model: one builder per kind, all staged in a work folder.

Every builder writes into a scratch folder inside `work_dir`, checks that onnxruntime
loads the result, and only then renames it to `<model stem>.<kind>.onnx` (`.ort` for
ORT format) in `work_dir`. On failure nothing is left and VariantError is raised.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import onnx

from edgetui.optimize.data import SampleSet
from edgetui.optimize.model import ModelInfo
from edgetui.optimize.variants.common import (
    BuiltVariant,
    Candidate,
    VariantError,
    build_staged,
    count_quantized_nodes,
    variant_error,
)
from edgetui.optimize.variants.fp16 import build_fp16
from edgetui.optimize.variants.prune import build_pruned
from edgetui.optimize.variants.quantize import build_int8_dynamic, build_int8_static
from edgetui.optimize.variants.runtime import build_fp32_optimized, build_ort_format

__all__ = ["VARIANT_KINDS", "BuiltVariant", "VariantError", "build_variant", "count_quantized_nodes"]

VARIANT_KINDS = ("fp32-optimized", "ort-format", "int8-dynamic", "int8-static", "pruned", "fp16")


def build_variant(
    kind: str,
    model: ModelInfo,
    work_dir: Path,
    *,
    calibration: SampleSet | None = None,
    target_arch: str | None = None,
    evaluate: Callable[[Path], float] | None = None,
    accuracy_budget: float = 0.01,
) -> BuiltVariant:
    """Build the `kind` variant of `model` into `work_dir`, or raise VariantError."""
    builders: dict[str, Callable[[Path], Candidate]] = {
        "fp32-optimized": lambda scratch: build_fp32_optimized(model, scratch),
        "ort-format": lambda scratch: build_ort_format(model, scratch, target_arch),
        "int8-dynamic": lambda scratch: build_int8_dynamic(model, scratch, target_arch),
        "int8-static": lambda scratch: build_int8_static(model, scratch, calibration),
        "pruned": lambda scratch: build_pruned(model, scratch, evaluate, accuracy_budget),
        "fp16": lambda scratch: build_fp16(model, scratch),
    }
    if kind not in builders:
        raise variant_error(model, kind, f"unknown variant kind; choose one of {', '.join(VARIANT_KINDS)}")
    path, candidate = build_staged(kind, model, Path(work_dir), builders[kind])
    return BuiltVariant(
        kind=candidate.kind,
        path=path,
        quantized_nodes=_quantized_nodes(path, candidate),
        warnings=candidate.warnings,
        details=candidate.details,
    )


def _quantized_nodes(path: Path, candidate: Candidate) -> int:
    """Count quantized nodes of an ONNX result; an ORT-format file counts what its details recorded."""
    if path.suffix == ".ort":
        return int(candidate.details.get("quantized_nodes", 0))
    quantized, _ = count_quantized_nodes(onnx.load(str(path), load_external_data=False))
    return quantized
