"""INT8 variants with onnxruntime's quantizers: dynamic for MatMul/Gemm models, static QDQ for convolutions."""

from __future__ import annotations

import logging
import platform
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType
from onnxruntime.quantization import quantize_dynamic, quantize_static

from edgetui.optimize.data import SampleSet
from edgetui.optimize.model import ModelInfo
from edgetui.optimize.prepare import prepare_for_quantization
from edgetui.optimize.variants.common import Candidate, default_domain_opset, quantization_warnings, variant_error

log = logging.getLogger("edgetui.optimize")

# Dynamic quantization covers the ops whose integer kernels beat float on CPU. Conv is
# left out: onnxruntime 1.32 turns it into ConvInteger, which ran the orientation
# classifier 2.2x (QUInt8 weights) to 6.6x (QInt8) slower than FP32 on an x86_64 laptop.
DYNAMIC_OP_TYPES = ["MatMul", "Gemm", "Attention", "LSTM", "GRU"]

# The quantizers need a type for every tensor. onnx shape inference gives none for the
# outputs of ai.onnx.ml operators such as Scaler, so those tensors default to float.
_QUANT_OPTIONS = {"DefaultTensorType": onnx.TensorProto.FLOAT}


class SampleReader(CalibrationDataReader):
    """Feed a SampleSet's samples, restricted to the prepared model's inputs, to the calibrator."""

    def __init__(self, samples: SampleSet, input_names: list[str]) -> None:
        self._feeds = [{name: np.asarray(feed[name]) for name in input_names} for feed in samples.samples]
        self._index = 0

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self._index >= len(self._feeds):
            return None
        feed = self._feeds[self._index]
        self._index += 1
        return feed

    def rewind(self) -> None:
        self._index = 0


def _is_arm(target_arch: str | None) -> bool:
    arch = (target_arch or platform.machine()).lower()
    return arch.startswith(("arm", "aarch"))


def build_int8_dynamic(model: ModelInfo, scratch: Path, target_arch: str | None) -> Candidate:
    """Quantize MatMul/Gemm/recurrent weights to 8 bits with activations quantized at run time."""
    preparation = prepare_for_quantization(model.path, scratch / "prepared.onnx")
    # QUInt8 weights on x86_64, because dynamic QInt8 ran 3x slower than QUInt8 there
    # (ConvInteger in onnxruntime 1.32). QInt8, onnxruntime's default, elsewhere.
    # NOTE: the x86_64 choice was measured on Conv only, not on MatMul.
    weight_type = QuantType.QInt8 if _is_arm(target_arch) else QuantType.QUInt8
    target = scratch / f"{model.path.stem}.onnx"

    quantize_dynamic(
        str(preparation.path),
        str(target),
        op_types_to_quantize=DYNAMIC_OP_TYPES,
        per_channel=False,
        reduce_range=False,
        weight_type=weight_type,
        extra_options={"MatMulConstBOnly": True, **_QUANT_OPTIONS},
    )

    proto = onnx.load(str(target))
    reason = (
        "int8-dynamic quantizes only MatMul, Gemm, Attention, LSTM and GRU weights stored as initializers "
        "in the main graph; use int8-static for convolution models"
    )
    quantized, warnings = quantization_warnings(proto, model, reason)

    details = {
        "op_types_to_quantize": DYNAMIC_OP_TYPES,
        "weight_type": weight_type.name,
        "activation_type": "QUInt8 (computed at run time)",
        "per_channel": False,
        "reduce_range": False,
        "opset": default_domain_opset(proto),
        "steps": preparation.steps,
        "target_arch": target_arch or platform.machine(),
    }
    details["quantized_nodes"] = quantized
    return Candidate(path=target, kind="int8-dynamic", warnings=_merge(preparation.warnings, warnings), details=details)


def build_int8_static(model: ModelInfo, scratch: Path, calibration: SampleSet | None) -> Candidate:
    """Quantize to QDQ with uint8 activations and per-channel int8 weights, calibrated on `calibration`."""
    if calibration is None or not calibration.samples:
        raise variant_error(
            model, "int8-static", "static quantization needs calibration data; give a .npz file, a folder of "
            "tensors or images, or ask for random calibration inputs"
        )

    preparation = prepare_for_quantization(model.path, scratch / "prepared.onnx")
    prepared = onnx.load(str(preparation.path), load_external_data=False)
    input_names = [value.name for value in prepared.graph.input if value.name not in {t.name for t in prepared.graph.initializer}]
    target = scratch / f"{model.path.stem}.onnx"

    log.info("calibrating %s on %d samples from %s", model.path.name, len(calibration), calibration.source)
    quantize_static(
        str(preparation.path),
        str(target),
        SampleReader(calibration, input_names),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.MinMax,
        extra_options=dict(_QUANT_OPTIONS),
    )

    proto = onnx.load(str(target))
    reason = (
        "onnxruntime's static quantizer found no quantizable op with weights in the main graph"
        + (" because the weights sit inside control flow" if model.weights_in_subgraphs else "")
    )
    quantized, warnings = quantization_warnings(proto, model, reason)

    details = {
        "format": "QDQ",
        "activation_type": "QUInt8",
        "weight_type": "QInt8",
        "per_channel": True,
        "calibrate_method": "MinMax",
        "calibration_samples": len(calibration),
        "calibration_source": calibration.source,
        "opset": default_domain_opset(proto),
        "steps": preparation.steps,
        "symbolic_shape_inference": preparation.symbolic_shape_inference,
        "quantized_nodes": quantized,
    }
    warnings = _merge(preparation.warnings, warnings)
    if calibration.random:
        warnings.append("calibrated on random inputs: activation ranges may not match real data")
    return Candidate(path=target, kind="int8-static", warnings=warnings, details=details)


def _merge(first: list[str], second: list[str]) -> list[str]:
    """Join two warning lists, dropping the control-flow warning that both may carry."""
    merged = list(first)
    for warning in second:
        if not any(warning.split(":")[0] == seen.split(":")[0] for seen in merged):
            merged.append(warning)
    return merged
