"""Prepare an ONNX model so that onnxruntime's quantizers and the pruner see its weights.

Steps, each recorded in `Preparation.steps`:
1. fold Constant-node tensors into initializers, in subgraphs too, because the
   quantizers and the pruner only look at initializers;
2. upgrade the default-domain opset to 13 when it is older, because per-channel QDQ
   writes DequantizeLinear with `axis`, which onnxruntime 1.32 rejects below opset 13;
3. run onnxruntime's `quant_pre_process`, first with symbolic shape inference, then
   with `skip_symbolic_shape=True` when that fails, as it does on most convolution
   models exported from Paddle and PyTorch with onnxruntime 1.32.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import onnx
from onnx import version_converter

from edgetui.optimize.model import CONTROL_FLOW_OPS, ModelError, constant_tensor, graph_has_weights, iter_graphs

log = logging.getLogger("edgetui.optimize")

# The oldest default-domain opset at which DequantizeLinear takes an `axis` attribute.
PER_CHANNEL_MIN_OPSET = 13


@dataclass
class Preparation:
    """A prepared model file and what was done to it."""

    path: Path
    steps: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    opset: int = 0
    symbolic_shape_inference: bool = False


def prepare_for_quantization(model_path: Path, out_path: Path) -> Preparation:
    """Fold, upgrade and shape-infer `model_path` into `out_path` for quantization."""
    model_path, out_path = Path(model_path), Path(out_path)
    log.info("preparing %s for quantization", model_path)
    proto = onnx.load(str(model_path))
    preparation = Preparation(path=out_path)

    folded, in_subgraphs = fold_constants(proto)
    if folded:
        preparation.steps.append(f"folded {folded} Constant nodes into initializers ({in_subgraphs} inside subgraphs)")
    preparation.opset = upgrade_opset(proto, model_path, preparation.steps)

    warning = control_flow_warning(proto)
    if warning:
        preparation.warnings.append(warning)

    with tempfile.TemporaryDirectory(dir=out_path.parent, prefix=".prepare-") as scratch:
        folded_path = Path(scratch) / "folded.onnx"
        onnx.save(proto, str(folded_path))
        run_pre_process(folded_path, out_path, preparation)
    log.info("prepared %s: %s", model_path.name, "; ".join(preparation.steps) or "no changes")
    return preparation


def fold_constants(proto: onnx.ModelProto) -> tuple[int, int]:
    """Move every Constant node's `value` tensor into its graph's initializers.

    Returns the number of nodes folded in total and inside subgraphs. A Constant
    whose output is also a graph output stays, because a graph output must be
    produced by a node in onnxruntime 1.32.
    """
    total = 0
    in_subgraphs = 0
    for depth, graph in enumerate(iter_graphs(proto.graph)):
        outputs = {value.name for value in graph.output}
        kept = []
        for node in graph.node:
            tensor = constant_tensor(node)
            if tensor is None or node.output[0] in outputs:
                kept.append(node)
                continue
            initializer = onnx.TensorProto()
            initializer.CopyFrom(tensor)
            initializer.name = node.output[0]
            graph.initializer.append(initializer)
            total += 1
            in_subgraphs += depth > 0
        del graph.node[:]
        graph.node.extend(kept)
    # Models older than IR version 4 must list initializers among the graph inputs.
    proto.ir_version = max(proto.ir_version, 4)
    return total, in_subgraphs


def upgrade_opset(proto: onnx.ModelProto, model_path: Path, steps: list[str]) -> int:
    """Convert `proto` in place to opset 13 when its default-domain opset is older; return the opset."""
    current = next((entry.version for entry in proto.opset_import if entry.domain in ("", "ai.onnx")), 0)
    if current >= PER_CHANNEL_MIN_OPSET:
        return current
    try:
        converted = version_converter.convert_version(proto, PER_CHANNEL_MIN_OPSET)
    except Exception as exc:  # onnx raises RuntimeError or its C++ adapter errors
        raise ModelError(
            f"Cannot upgrade {model_path} from opset {current} to opset {PER_CHANNEL_MIN_OPSET}, which "
            f"per-channel quantization needs: {exc}. Export the model at opset {PER_CHANNEL_MIN_OPSET} or newer."
        ) from exc
    proto.CopyFrom(converted)
    steps.append(f"upgraded opset {current} -> {PER_CHANNEL_MIN_OPSET} (per-channel DequantizeLinear needs it)")
    return PER_CHANNEL_MIN_OPSET


def control_flow_warning(proto: onnx.ModelProto) -> str | None:
    """Return a warning when weights sit inside If/Loop/Scan subgraphs, else None."""
    subgraphs = list(iter_graphs(proto.graph))[1:]
    if not any(graph_has_weights(graph) for graph in subgraphs):
        return None
    ops = sorted({node.op_type for graph in iter_graphs(proto.graph) for node in graph.node if node.op_type in CONTROL_FLOW_OPS})
    return (
        f"weights inside control flow ({', '.join(ops)}): onnxruntime's quantizers skip subgraphs, "
        "so those weights stay in float"
    )


def run_pre_process(source: Path, out_path: Path, preparation: Preparation) -> None:
    """Run quant_pre_process, falling back to ONNX shape inference only, then to a plain copy."""
    from onnxruntime.quantization.shape_inference import quant_pre_process

    attempts = (
        ("quant_pre_process with symbolic shape inference", {}),
        ("quant_pre_process with skip_symbolic_shape=True", {"skip_symbolic_shape": True}),
    )
    for label, options in attempts:
        try:
            quant_pre_process(str(source), str(out_path), **options)
        except Exception as exc:  # symbolic inference raises many types on unsupported ops
            log.info("%s failed on %s, falling back: %s", label, source.name, exc)
            preparation.steps.append(f"{label} failed: {_first_line(exc)}")
            continue
        preparation.steps.append(label)
        preparation.symbolic_shape_inference = not options
        return
    shutil.copyfile(source, out_path)
    preparation.warnings.append("shape inference failed; quantizing without inferred shapes may leave ops in float")


def _first_line(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
