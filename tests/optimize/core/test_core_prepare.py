"""prepare_for_quantization: Constant folding, opset upgrade, shape inference fallback, control-flow warning."""

from __future__ import annotations

import onnx
import onnxruntime as ort

from edgetui.optimize.model import constant_tensor, is_weight_tensor, iter_graphs
from edgetui.optimize.prepare import fold_constants, prepare_for_quantization

from .conftest import DETECTOR, ORIENTATION, SAMPLE_MODELS, VAD_FLAT, VAD_IF


def constant_weight_nodes(proto: onnx.ModelProto) -> int:
    return sum(
        1
        for graph in iter_graphs(proto.graph)
        for node in graph.node
        if constant_tensor(node) is not None and is_weight_tensor(constant_tensor(node))
    )


def weight_initializers(proto: onnx.ModelProto, *, subgraphs_only: bool = False) -> int:
    graphs = list(iter_graphs(proto.graph))
    if subgraphs_only:
        graphs = graphs[1:]
    return sum(1 for graph in graphs for tensor in graph.initializer if is_weight_tensor(tensor))


def test_fold_constants_inside_if_subgraph():
    proto = onnx.load(str(SAMPLE_MODELS / f"{VAD_IF}.onnx"))
    assert constant_weight_nodes(proto) > 0
    assert weight_initializers(proto) == 0

    folded, in_subgraphs = fold_constants(proto)

    assert folded > 0
    assert in_subgraphs > 0
    assert constant_weight_nodes(proto) == 0
    assert weight_initializers(proto, subgraphs_only=True) > 0


def test_prepare_vad_if_folds_and_warns(tmp_path):
    preparation = prepare_for_quantization(SAMPLE_MODELS / f"{VAD_IF}.onnx", tmp_path / "prepared.onnx")
    proto = onnx.load(str(preparation.path))

    assert constant_weight_nodes(proto) == 0
    assert weight_initializers(proto, subgraphs_only=True) > 0
    assert any(step.startswith("folded") and "inside subgraphs" in step for step in preparation.steps)
    assert any(w.startswith("weights inside control flow (If)") for w in preparation.warnings)
    ort.InferenceSession(str(preparation.path), providers=["CPUExecutionProvider"])


def test_prepare_flat_vad_folds_into_main_graph(tmp_path):
    preparation = prepare_for_quantization(SAMPLE_MODELS / f"{VAD_FLAT}.onnx", tmp_path / "prepared.onnx")
    proto = onnx.load(str(preparation.path))

    assert constant_weight_nodes(proto) == 0
    assert weight_initializers(proto) >= 10
    assert preparation.warnings == []


def test_prepare_upgrades_old_opset(tmp_path):
    preparation = prepare_for_quantization(SAMPLE_MODELS / f"{DETECTOR}.onnx", tmp_path / "prepared.onnx")
    proto = onnx.load(str(preparation.path))

    opset = next(entry.version for entry in proto.opset_import if entry.domain in ("", "ai.onnx"))
    assert opset == 13
    assert preparation.opset == 13
    assert "upgraded opset 11 -> 13 (per-channel DequantizeLinear needs it)" in preparation.steps
    ort.InferenceSession(str(preparation.path), providers=["CPUExecutionProvider"])


def test_prepare_keeps_newer_opset(tmp_path):
    preparation = prepare_for_quantization(SAMPLE_MODELS / f"{ORIENTATION}.onnx", tmp_path / "prepared.onnx")

    assert preparation.opset == 15
    assert not any(step.startswith("upgraded") for step in preparation.steps)


def test_prepare_records_shape_inference_path(tmp_path):
    preparation = prepare_for_quantization(SAMPLE_MODELS / f"{ORIENTATION}.onnx", tmp_path / "prepared.onnx")

    final = preparation.steps[-1]
    if preparation.symbolic_shape_inference:
        assert final == "quant_pre_process with symbolic shape inference"
    else:
        assert final == "quant_pre_process with skip_symbolic_shape=True"
        assert any(step.startswith("quant_pre_process with symbolic shape inference failed") for step in preparation.steps)


def test_prepare_falls_back_when_symbolic_fails(tmp_path, monkeypatch):
    import onnxruntime.quantization.shape_inference as shape_inference

    original = shape_inference.quant_pre_process
    calls = []

    def symbolic_fails(source, target, **options):
        calls.append(options)
        if not options.get("skip_symbolic_shape"):
            raise RuntimeError("Incomplete symbolic shape inference")
        return original(source, target, **options)

    monkeypatch.setattr(shape_inference, "quant_pre_process", symbolic_fails)
    preparation = prepare_for_quantization(SAMPLE_MODELS / f"{VAD_FLAT}.onnx", tmp_path / "prepared.onnx")

    assert calls == [{}, {"skip_symbolic_shape": True}]
    assert preparation.symbolic_shape_inference is False
    assert "quant_pre_process with symbolic shape inference failed: Incomplete symbolic shape inference" in preparation.steps
    assert preparation.path.is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prepared.onnx"]
