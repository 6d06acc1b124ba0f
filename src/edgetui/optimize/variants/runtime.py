"""Variants that onnxruntime itself writes: graph-optimized ONNX and ORT format."""

from __future__ import annotations

import platform
from pathlib import Path

import onnx
import onnxruntime as ort

from edgetui.optimize.model import ModelInfo
from edgetui.optimize.variants.common import Candidate, variant_error

# ORT_ENABLE_EXTENDED fuses operators but adds no NCHWc layout ops. ORT_ENABLE_ALL adds
# NchwcTransformer's blocked layouts, which onnxruntime 1.32 chooses for the CPU that
# optimizes the model, so a file saved at that level is tied to this laptop's CPU.
PORTABLE_LEVEL = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED

_ARCH_PLATFORMS = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "x64": "amd64",
    "aarch64": "arm",
    "arm64": "arm",
    "armv7l": "arm",
    "armv8": "arm",
    "armhf": "arm",
}


def build_fp32_optimized(model: ModelInfo, scratch: Path) -> Candidate:
    """Save the model after onnxruntime's graph optimizations at ORT_ENABLE_EXTENDED."""
    target = scratch / f"{model.path.stem}.onnx"
    options = ort.SessionOptions()
    options.graph_optimization_level = PORTABLE_LEVEL
    options.optimized_model_filepath = str(target)
    ort.InferenceSession(str(model.path), sess_options=options, providers=["CPUExecutionProvider"])
    opset = next((e.version for e in onnx.load(str(target), load_external_data=False).opset_import if e.domain in ("", "ai.onnx")), 0)
    details = {
        "graph_optimization_level": "ORT_ENABLE_EXTENDED",
        "onnxruntime": ort.__version__,
        "opset": opset,
        # Extended fusions write com.microsoft operators, which only onnxruntime runs.
        "runtime": "onnxruntime with contrib operators",
    }
    return Candidate(path=target, kind="fp32-optimized", details=details)


def target_platform(model: ModelInfo, target_arch: str | None) -> str:
    """Map a device architecture (uname -m style) to the ORT converter's target platform."""
    arch = (target_arch or platform.machine()).lower()
    if arch in _ARCH_PLATFORMS:
        return _ARCH_PLATFORMS[arch]
    if arch.startswith("arm"):
        return "arm"
    raise variant_error(
        model, "ort-format", f"unknown target architecture {target_arch!r}; give x86_64, aarch64 or armv7l"
    )


def build_ort_format(model: ModelInfo, scratch: Path, target_arch: str | None) -> Candidate:
    """Convert the model to ORT format as `python -m onnxruntime.tools.convert_onnx_models_to_ort` does.

    The settings match that tool in onnxruntime 1.32 with `--target_platform`: level
    ORT_ENABLE_ALL; for "arm" the NchwcTransformer is disabled (NCHWc kernels are x86
    only) and `session.qdqisint8allowed` is 1 so QDQ nodes keep int8 for ARM kernels.
    """
    platform_name = target_platform(model, target_arch)
    target = scratch / f"{model.path.stem}.ort"
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.optimized_model_filepath = str(target)
    options.add_session_config_entry("session.save_model_format", "ORT")
    # Errors only: onnxruntime warns about NCHWc on every amd64 save, and so does this builder.
    options.log_severity_level = 3
    options.add_session_config_entry("session.qdqisint8allowed", "1" if platform_name == "arm" else "0")
    disabled = ["NchwcTransformer"] if platform_name == "arm" else None
    ort.InferenceSession(
        str(model.path), sess_options=options, providers=["CPUExecutionProvider"], disabled_optimizers=disabled
    )
    warnings = []
    if platform_name == "amd64" and "Conv" in model.weight_op_types:
        warnings.append(
            "ORT format for amd64 keeps NCHWc layouts chosen for this machine's CPU; "
            "measure it on the target, or rebuild it there, before deploying to another x86_64 CPU"
        )
    details = {
        "graph_optimization_level": "ORT_ENABLE_ALL",
        "target_platform": platform_name,
        "target_arch": target_arch or platform.machine(),
        "disabled_optimizers": disabled or [],
        "onnxruntime": ort.__version__,
        "opset": model.opset,
    }
    return Candidate(path=target, kind="ort-format", warnings=warnings, details=details)
