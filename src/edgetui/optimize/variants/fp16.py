"""FP16 variant for targets with a GPU execution provider."""

from __future__ import annotations

from pathlib import Path

import onnx
from onnxruntime.transformers.float16 import convert_float_to_float16

from edgetui.optimize.model import ModelInfo
from edgetui.optimize.variants.common import Candidate, default_domain_opset


def build_fp16(model: ModelInfo, scratch: Path) -> Candidate:
    """Convert float32 tensors to float16 with onnxruntime's converter, keeping float32 inputs and outputs.

    onnxruntime.transformers.float16 is used because onnxruntime 1.32 loaded its output
    for models where the output of onnxconverter-common's converter failed to load.
    """
    proto = onnx.load(str(model.path))
    converted = convert_float_to_float16(proto, keep_io_types=True)
    target = scratch / f"{model.path.stem}.onnx"
    onnx.save(converted, str(target))
    details = {
        "converter": "onnxruntime.transformers.float16",
        "keep_io_types": True,
        "opset": default_domain_opset(converted),
        "note": "meant for GPU execution providers; onnxruntime's CPU provider casts ops without fp16 kernels back to float32",
    }
    return Candidate(path=target, kind="fp16", details=details)
