"""Shared machinery of the variant builders: staging, load checks and quantized-node counts.

A node counts as quantized when it computes in integers or sits in a QDQ group:
- integer operators: QLinear* (QLinearConv, QLinearMatMul, ...), ConvInteger,
  MatMulInteger, MatMulIntegerToFloat, DynamicQuantizeMatMul, DynamicQuantizeLSTM,
  QAttention, QGemm;
- in QDQ models, every node other than QuantizeLinear/DequantizeLinear that takes at
  least one input from a DequantizeLinear node, because onnxruntime fuses such a
  group into an integer kernel when one exists.
Nodes in If/Loop/Scan subgraphs are counted too.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import onnx
import onnxruntime as ort

from edgetui.errors import EdgetuiError
from edgetui.optimize.model import WEIGHT_OP_TYPES, ModelInfo, iter_graphs

log = logging.getLogger("edgetui.optimize")

INTEGER_OPS = frozenset(
    {
        "ConvInteger",
        "MatMulInteger",
        "MatMulIntegerToFloat",
        "DynamicQuantizeMatMul",
        "DynamicQuantizeLSTM",
        "QAttention",
        "QGemm",
    }
)
QDQ_OPS = frozenset({"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear"})


class VariantError(EdgetuiError):
    """Building one variant of a model failed; nothing was left in the work folder."""

    title = "Variant build failed"

    def __init__(self, message: str, *, model: str = "", kind: str = "") -> None:
        super().__init__(message)
        self.model = model
        self.kind = kind


@dataclass
class BuiltVariant:
    """A variant file that onnxruntime loads, with what the build did and noticed."""

    kind: str
    path: Path
    quantized_nodes: int
    warnings: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)


@dataclass
class Candidate:
    """A builder's result file in its scratch folder, with its warnings and details, before the move into place."""

    path: Path
    kind: str
    warnings: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)


def variant_error(model: ModelInfo, kind: str, reason: str) -> VariantError:
    """Return a VariantError whose message names the model, the kind and the reason."""
    return VariantError(f"Cannot build the {kind} variant of {model.path}: {reason}", model=model.path.name, kind=kind)


def build_staged(
    kind: str, model: ModelInfo, work_dir: Path, build: Callable[[Path], Candidate]
) -> tuple[Path, Candidate]:
    """Run `build` in a scratch folder of `work_dir`, check that onnxruntime loads its file, move it into place.

    On any failure the scratch folder is removed and VariantError is raised, so
    `work_dir` never contains a half-written variant.
    """
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=work_dir, prefix=f".{kind}-"))
    log.info("building %s of %s in %s", kind, model.path.name, scratch)
    try:
        candidate = build(scratch)
        check_loads(candidate.path, model, candidate.kind)
        final = work_dir / f"{model.path.stem}.{candidate.kind}{candidate.path.suffix}"
        os.replace(candidate.path, final)
    except VariantError as exc:
        log.warning("building %s of %s failed: %s", kind, model.path.name, exc)
        raise
    except Exception as exc:  # quantizers and converters raise many types; report them all the same way
        log.warning("building %s of %s failed: %s", kind, model.path.name, exc)
        raise variant_error(model, kind, f"{type(exc).__name__}: {exc}") from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    log.info("built %s of %s: %s", candidate.kind, model.path.name, final)
    return final, candidate


def check_loads(path: Path, model: ModelInfo, kind: str) -> None:
    """Raise VariantError with onnxruntime's reason when it cannot load `path` on the CPU."""
    try:
        ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises pybind11 exception types
        raise variant_error(model, kind, f"onnxruntime {ort.__version__} cannot load the result: {exc}") from exc


def count_quantized_nodes(proto: onnx.ModelProto) -> tuple[int, list[str]]:
    """Count quantized nodes (see the module docstring); also return weight op types left in float."""
    quantized = 0
    left_in_float: set[str] = set()
    for graph in iter_graphs(proto.graph):
        produced_by_dq = {out for node in graph.node if node.op_type == "DequantizeLinear" for out in node.output}
        for node in graph.node:
            if node.op_type in QDQ_OPS:
                continue
            if is_integer_op(node.op_type) or any(name in produced_by_dq for name in node.input):
                quantized += 1
            elif node.op_type in WEIGHT_OP_TYPES:
                left_in_float.add(node.op_type)
    return quantized, sorted(left_in_float)


def is_integer_op(op_type: str) -> bool:
    """Return True for onnxruntime operators that compute in 8-bit integers."""
    return op_type.startswith("QLinear") or op_type in INTEGER_OPS


def quantization_warnings(proto: onnx.ModelProto, model: ModelInfo, reason_if_none: str) -> tuple[int, list[str]]:
    """Count quantized nodes and return the warnings a user must see about what stayed float."""
    quantized, left = count_quantized_nodes(proto)
    warnings = []
    if quantized == 0:
        warnings.append(f"0 nodes quantized: {reason_if_none}")
    if model.weights_in_subgraphs:
        warnings.append(
            f"weights inside control flow ({', '.join(model.control_flow_ops)}): onnxruntime's quantizers "
            "skip subgraphs, so those weights stay in float"
        )
    if left:
        warnings.append(f"ops left in float: {', '.join(left)}")
    return quantized, warnings


def default_domain_opset(proto: onnx.ModelProto) -> int:
    """Return the model's ai.onnx opset version, or 0 when it imports none."""
    return next((entry.version for entry in proto.opset_import if entry.domain in ("", "ai.onnx")), 0)
