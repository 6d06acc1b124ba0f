"""Real sample models that the artifact tests package."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VAD_MODEL = REPO / "sample_models" / "silero_vad_openvino_16k.onnx"
DIGITS_MODEL = REPO / "sample_models" / "digits_mlp.onnx"
