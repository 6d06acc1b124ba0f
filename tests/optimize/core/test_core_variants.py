"""Variant builders on the real sample models: every kind builds, loads and keeps output shapes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from edgetui.optimize.measure import agreement, file_sizes, run_outputs
from edgetui.optimize.variants import VARIANT_KINDS, VariantError, build_variant, count_quantized_nodes

from .conftest import DETECTOR, MODELS, ORIENTATION, VAD_FLAT, VAD_IF


def output_shapes(outputs: list[list[np.ndarray]]) -> list[list[tuple[int, ...]]]:
    return [[np.shape(array) for array in sample] for sample in outputs]


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("kind", VARIANT_KINDS)
def test_variant_builds_and_keeps_shapes(name, kind, built, sample_sets, reference_outputs):
    variant = built(name, kind)

    assert variant.path.is_file()
    assert variant.kind.startswith(kind)
    ort.InferenceSession(str(variant.path), providers=["CPUExecutionProvider"])
    outputs = run_outputs(variant.path, sample_sets[name]["evaluation"])
    assert output_shapes(outputs) == output_shapes(reference_outputs[name])
    # Only the variant itself is left in the work folder: no scratch folders, no temporary files.
    assert sorted(p.name for p in variant.path.parent.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize("kind", VARIANT_KINDS)
def test_variant_file_names(kind, built):
    variant = built(ORIENTATION, kind)

    suffix = ".ort" if kind == "ort-format" else ".onnx"
    assert variant.path.name == f"{ORIENTATION}.{variant.kind}{suffix}"


def test_ort_format_records_target_platform(built):
    variant = built(ORIENTATION, "ort-format")

    assert variant.path.suffix == ".ort"
    assert variant.details["target_platform"] in ("amd64", "arm")
    assert variant.details["graph_optimization_level"] == "ORT_ENABLE_ALL"


def test_ort_format_for_arm_disables_nchwc(tmp_path, models):
    variant = build_variant("ort-format", models[ORIENTATION], tmp_path, target_arch="aarch64")

    assert variant.details["target_platform"] == "arm"
    assert variant.details["disabled_optimizers"] == ["NchwcTransformer"]
    ort.InferenceSession(str(variant.path), providers=["CPUExecutionProvider"])


def test_fp32_optimized_uses_portable_level(built):
    variant = built(DETECTOR, "fp32-optimized")

    assert variant.details["graph_optimization_level"] == "ORT_ENABLE_EXTENDED"
    ops = {node.op_type for node in onnx.load(str(variant.path)).graph.node}
    assert not any(op.startswith("Reorder") or op.startswith("Nchwc") for op in ops)


def test_int8_static_orientation_quantizes(built, models, sample_sets, reference_outputs):
    variant = built(ORIENTATION, "int8-static")
    proto = onnx.load(str(variant.path))

    assert variant.quantized_nodes > 0
    assert not any(w.startswith("0 nodes quantized") for w in variant.warnings)
    assert variant.details["per_channel"] is True
    opset = next(entry.version for entry in proto.opset_import if entry.domain in ("", "ai.onnx"))
    assert opset >= 13
    # Per channel: some weight DequantizeLinear has an axis and one scale per output channel.
    initializers = {tensor.name: tensor for tensor in proto.graph.initializer}
    per_channel = [
        node
        for node in proto.graph.node
        if node.op_type == "DequantizeLinear"
        and node.input[0] in initializers
        and np.prod(initializers[node.input[1]].dims) > 1
    ]
    assert per_channel
    assert file_sizes(models[ORIENTATION].path)[0] >= 3 * file_sizes(variant.path)[0]
    outputs = run_outputs(variant.path, sample_sets[ORIENTATION]["evaluation"])
    result = agreement(reference_outputs[ORIENTATION], outputs, "classifier")
    assert result.metric == "top1"
    assert result.value >= 0.9


def test_int8_static_detector_upgrades_opset(built, models):
    variant = built(DETECTOR, "int8-static")

    assert models[DETECTOR].opset == 11
    assert variant.details["opset"] == 13
    assert any("upgraded opset 11 -> 13" in step for step in variant.details["steps"])
    assert variant.quantized_nodes > 0


@pytest.mark.parametrize("kind", ["int8-static", "int8-dynamic"])
def test_if_subgraph_quantizes_nothing(kind, built):
    variant = built(VAD_IF, kind)

    assert variant.quantized_nodes == 0
    assert any(w.startswith("0 nodes quantized") for w in variant.warnings)
    assert any(w.startswith("weights inside control flow (If)") for w in variant.warnings)
    assert any("folded" in step and "inside subgraphs" in step for step in variant.details["steps"])


def test_flat_vad_static_quantizes_folded_weights(built):
    variant = built(VAD_FLAT, "int8-static")

    assert variant.quantized_nodes > 0
    assert any(step.startswith("folded 98 Constant nodes") for step in variant.details["steps"])


def test_int8_dynamic_leaves_conv_in_float(built):
    variant = built(DETECTOR, "int8-dynamic")

    assert variant.quantized_nodes == 0
    assert any(w.startswith("0 nodes quantized") for w in variant.warnings)
    assert any(w.startswith("ops left in float: Conv") for w in variant.warnings)
    assert variant.details["weight_type"] in ("QUInt8", "QInt8")


def test_int8_dynamic_quantizes_vad_lstm(built):
    variant = built(VAD_FLAT, "int8-dynamic")

    ops = {node.op_type for node in onnx.load(str(variant.path)).graph.node}
    assert "DynamicQuantizeLSTM" in ops
    assert variant.quantized_nodes == 1


@pytest.mark.parametrize("name", [ORIENTATION, VAD_FLAT])
def test_pruning_search_within_budget(name, built, evaluator):
    variant = built(name, "pruned")
    tried = variant.details["tried"]

    assert variant.details["within_budget"] is True
    assert variant.kind == f"pruned-{variant.details['target_sparsity_percent']}"
    assert evaluator(name)(variant.path) >= 0.99
    # The search starts high and stops at the first sparsity within the budget.
    assert [t["sparsity_percent"] for t in tried] == sorted((t["sparsity_percent"] for t in tried), reverse=True)
    assert all(t["agreement"] < 0.99 for t in tried[:-1])
    assert abs(variant.details["sparsity"] - variant.details["target_sparsity_percent"] / 100) < 0.01


def test_pruning_compresses_smaller(built, models):
    variant = built(ORIENTATION, "pruned")

    size, compressed = file_sizes(variant.path)
    original_size, original_compressed = file_sizes(models[ORIENTATION].path)
    assert compressed < original_compressed
    assert size <= original_size * 1.01


def test_pruning_without_fit_warns(tmp_path, models):
    variant = build_variant("pruned", models[VAD_FLAT], tmp_path, evaluate=lambda path: 0.5, accuracy_budget=0.01)

    assert variant.details["within_budget"] is False
    assert variant.kind == "pruned-5"
    assert any(w.startswith("no sparsity kept agreement within the budget") for w in variant.warnings)
    assert len(variant.details["tried"]) > 1


def test_fp16_keeps_float32_io(built):
    variant = built(ORIENTATION, "fp16")
    session = ort.InferenceSession(str(variant.path), providers=["CPUExecutionProvider"])

    assert [arg.type for arg in session.get_inputs()] == ["tensor(float)"]
    assert [arg.type for arg in session.get_outputs()] == ["tensor(float)"]
    initializers = onnx.load(str(variant.path)).graph.initializer
    assert any(t.data_type == onnx.TensorProto.FLOAT16 for t in initializers)


def test_int8_static_needs_calibration(tmp_path, models):
    with pytest.raises(VariantError) as raised:
        build_variant("int8-static", models[ORIENTATION], tmp_path)

    assert "int8-static" in str(raised.value)
    assert str(models[ORIENTATION].path) in str(raised.value)
    assert "calibration" in str(raised.value)
    assert list(tmp_path.iterdir()) == []


def test_pruning_needs_evaluate(tmp_path, models):
    with pytest.raises(VariantError, match="evaluate"):
        build_variant("pruned", models[VAD_FLAT], tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_unknown_kind_rejected(tmp_path, models):
    with pytest.raises(VariantError, match="unknown variant kind"):
        build_variant("int4", models[VAD_FLAT], tmp_path)


def test_unknown_target_arch_rejected(tmp_path, models):
    with pytest.raises(VariantError) as raised:
        build_variant("ort-format", models[VAD_FLAT], tmp_path, target_arch="sparc64")

    assert "sparc64" in str(raised.value)
    assert list(tmp_path.iterdir()) == []


def test_failed_build_leaves_nothing(tmp_path, models, monkeypatch):
    import edgetui.optimize.variants.quantize as quantize

    def broken(*args, **kwargs):
        Path(args[1]).write_bytes(b"half written")
        raise RuntimeError("calibration exploded")

    monkeypatch.setattr(quantize, "quantize_dynamic", broken)
    with pytest.raises(VariantError) as raised:
        build_variant("int8-dynamic", models[VAD_FLAT], tmp_path)

    assert "calibration exploded" in str(raised.value)
    assert VAD_FLAT in str(raised.value)
    assert "int8-dynamic" in str(raised.value)
    assert list(tmp_path.iterdir()) == []


def test_unloadable_result_rejected(tmp_path, models, monkeypatch):
    import edgetui.optimize.variants as variants
    from edgetui.optimize.variants.common import Candidate

    def garbage(model, scratch):
        path = scratch / "garbage.onnx"
        path.write_bytes(b"not a model")
        return Candidate(path=path, kind="fp16")

    monkeypatch.setattr(variants, "build_fp16", garbage)
    with pytest.raises(VariantError, match="cannot load the result"):
        build_variant("fp16", models[VAD_FLAT], tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_count_quantized_nodes_definition():
    helper = onnx.helper
    weight = onnx.numpy_helper.from_array(np.ones((2, 2), np.int8), "w_q")
    graph = helper.make_graph(
        [
            helper.make_node("DequantizeLinear", ["w_q", "scale"], ["w"]),
            helper.make_node("MatMul", ["x", "w"], ["y"]),
            helper.make_node("Conv", ["y", "k"], ["z"]),
            helper.make_node("ConvInteger", ["a", "b"], ["c"]),
            helper.make_node("QLinearMatMul", ["a", "s", "zp", "b", "s", "zp", "s", "zp"], ["d"]),
        ],
        "g",
        [],
        [],
        initializer=[weight],
    )
    quantized, left = count_quantized_nodes(helper.make_model(graph))

    assert quantized == 3
    assert left == ["Conv"]
