"""Magnitude pruning at the highest sparsity that keeps agreement with FP32 within the budget."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from edgetui.optimize.model import ModelInfo, iter_graphs
from edgetui.optimize.prepare import fold_constants
from edgetui.optimize.variants.common import Candidate, default_domain_opset, variant_error

log = logging.getLogger("edgetui.optimize")

# Sparsities tried, highest first. Compact CNNs lose accuracy fast (an orientation
# classifier fell to 34% top-1 agreement at 50% without fine-tuning), so the search
# goes down to 5%.
SPARSITY_STEPS = (70, 50, 40, 30, 20, 10, 5)

# Float slack so that an agreement of 0.99 counts as within a budget of 0.01.
_TOLERANCE = 1e-9

# Input positions, per op type, of the weights that pruning may zero.
PRUNED_INPUTS = {"Conv": (1,), "ConvTranspose": (1,), "Gemm": (1,), "MatMul": (0, 1), "LSTM": (1, 2), "GRU": (1, 2)}


def prune_proto(proto: onnx.ModelProto, sparsity: float) -> dict:
    """Zero the `sparsity` fraction of smallest-magnitude values of each weight tensor, in place.

    Returns the number of tensors pruned and the fraction of their values now zero.
    """
    pruned_tensors = 0
    zeros = 0
    total = 0
    for graph in iter_graphs(proto.graph):
        weights = _weight_names(graph)
        for index, tensor in enumerate(graph.initializer):
            if tensor.name not in weights:
                continue
            array = numpy_helper.to_array(tensor)
            if array.dtype.kind != "f" or array.size < 2:
                continue
            pruned = _prune_array(array, sparsity)
            graph.initializer[index].CopyFrom(numpy_helper.from_array(pruned, tensor.name))
            pruned_tensors += 1
            zeros += int(np.count_nonzero(pruned == 0))
            total += pruned.size
    return {"pruned_tensors": pruned_tensors, "sparsity": zeros / total if total else 0.0}


def _weight_names(graph: onnx.GraphProto) -> set[str]:
    names = set()
    for node in graph.node:
        for position in PRUNED_INPUTS.get(node.op_type, ()):
            if position < len(node.input):
                names.add(node.input[position])
    return names


def _prune_array(array: np.ndarray, sparsity: float) -> np.ndarray:
    count = int(array.size * sparsity)
    if count == 0:
        return array
    flat = np.abs(array).ravel()
    threshold = np.partition(flat, count - 1)[count - 1]
    pruned = array.copy()
    pruned[np.abs(pruned) <= threshold] = 0
    return pruned


def _fits(agreement: float, accuracy_budget: float) -> bool:
    return 1.0 - agreement <= accuracy_budget + _TOLERANCE


def build_pruned(
    model: ModelInfo,
    scratch: Path,
    evaluate: Callable[[Path], float] | None,
    accuracy_budget: float,
) -> Candidate:
    """Search the sparsity: try SPARSITY_STEPS from the highest and keep the first within the budget.

    `evaluate` returns agreement with FP32 (1.0 identical) for a candidate file; a
    sparsity fits when agreement >= 1 - accuracy_budget. When none fits, the lowest
    tried is returned with a warning.
    """
    if evaluate is None:
        raise variant_error(
            model, "pruned", "the sparsity search needs an evaluate function that returns agreement with FP32"
        )
    base = onnx.load(str(model.path))
    folded, _ = fold_constants(base)
    tried, (percent, path, stats) = _search(model, base, scratch, evaluate, accuracy_budget)

    within = _fits(tried[-1]["agreement"], accuracy_budget)
    warnings = []
    if not within:
        warnings.append(
            f"no sparsity kept agreement within the budget of {accuracy_budget}: tried "
            + ", ".join(f"{t['sparsity_percent']}% -> {t['agreement']:.3f}" for t in tried)
            + f"; kept the lowest, {percent}%"
        )
    details = {
        "target_sparsity_percent": percent,
        "sparsity": stats["sparsity"],
        "pruned_tensors": stats["pruned_tensors"],
        "tried": tried,
        "within_budget": within,
        "accuracy_budget": accuracy_budget,
        "folded_constants": folded,
        "opset": default_domain_opset(base),
        "note": "pruned zeros shrink only the compressed file; onnxruntime's dense kernels run no faster",
    }
    return Candidate(path=path, kind=f"pruned-{percent}", warnings=warnings, details=details)


def _search(
    model: ModelInfo, base: onnx.ModelProto, scratch: Path, evaluate: Callable[[Path], float], accuracy_budget: float
) -> tuple[list[dict], tuple[int, Path, dict]]:
    """Prune copies of `base` at each step until one fits; return the tries and the last candidate."""
    tried: list[dict] = []
    chosen: tuple[int, Path, dict] | None = None
    for percent in SPARSITY_STEPS:
        proto = onnx.ModelProto()
        proto.CopyFrom(base)
        stats = prune_proto(proto, percent / 100)
        if stats["pruned_tensors"] == 0:
            raise variant_error(model, "pruned", "the model has no Conv, MatMul, Gemm or recurrent weights to prune")

        path = scratch / f"{model.path.stem}.pruned-{percent}.onnx"
        onnx.save(proto, str(path))
        value = float(evaluate(path))
        tried.append({"sparsity_percent": percent, "agreement": value})
        log.info("pruned %s at %d%%: agreement %.4f", model.path.name, percent, value)
        chosen = (percent, path, stats)
        if _fits(value, accuracy_budget):
            break
    assert chosen is not None  # SPARSITY_STEPS is never empty
    return tried, chosen
