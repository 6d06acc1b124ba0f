"""Check that an artifact's model loads: onnx.checker for .onnx files, onnxruntime for both formats."""

import logging
from pathlib import Path

import onnx
import onnxruntime as ort

from edgetui.artifacts.errors import ArtifactInputError
from edgetui.optimize.model import ModelError, check_external_data, create_session, load_onnx

log = logging.getLogger("edgetui.artifacts")


def open_model(path: Path) -> ort.InferenceSession:
    """Check the model at ``path`` and return a CPU onnxruntime session on it.

    Raises ArtifactInputError naming the file when onnx or onnxruntime rejects it.
    """
    log.info("checking model %s", path)
    try:
        if path.suffix.lower() == ".onnx":
            _check_onnx(path)
        return create_session(path)
    except ModelError as error:
        raise ArtifactInputError(error.message) from error


def _check_onnx(path: Path) -> None:
    """Parse the file, find its external data, and run onnx.checker on it."""
    proto = load_onnx(path)
    check_external_data(proto, path)
    try:
        # A path rather than the proto, so the checker also reads external data
        # and models larger than the 2 GB protobuf limit.
        onnx.checker.check_model(str(path))
    except (onnx.checker.ValidationError, ValueError) as error:
        raise ArtifactInputError(
            f"onnx.checker rejects {path}: {error}. Export the model again, or fix it with onnx tools."
        ) from error
