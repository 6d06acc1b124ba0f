"""Inspect an ONNX model file before edgetui builds variants of it.

`inspect_model` loads the file with onnx, checks its external data, and creates an
onnxruntime session to be sure the model runs on this machine. It returns the facts
the optimizer needs: inputs, outputs, opset, where the weights sit, and the task.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from google.protobuf.message import DecodeError
from onnx import numpy_helper

from device_shim.telemetry.model import ORT_TYPES
from edgetui.errors import InputError

log = logging.getLogger("edgetui.optimize")

CONTROL_FLOW_OPS = ("If", "Loop", "Scan")

# Op types whose weights the quantizers and the pruner act on.
WEIGHT_OP_TYPES = frozenset({"Conv", "ConvTranspose", "MatMul", "Gemm", "LSTM", "GRU", "RNN", "Attention"})

# A classifier's score vector has at most this many classes; a wider [N, C] output is
# treated as an embedding or a generic tensor.
MAX_CLASSIFIER_CLASSES = 1000



class ModelError(InputError):
    """A model file that edgetui cannot read or that onnxruntime cannot load."""

    title = "Invalid model"


@dataclass
class TensorSpec:
    """One model input or output: shape entries are ints, symbolic names or None."""

    name: str
    dtype: str
    shape: list[int | str | None]

    @property
    def rank(self) -> int:
        return len(self.shape)


@dataclass
class ModelInfo:
    """Facts about one ONNX model that loads in onnxruntime on this machine."""

    path: Path
    sha256: str
    size_bytes: int
    opset: int
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    node_count: int
    constant_weight_nodes: int
    control_flow_ops: list[str]
    weights_in_subgraphs: bool
    task: str
    ir_version: int = 0
    opsets: dict[str, int] = field(default_factory=dict)
    weight_op_types: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.stem


def inspect_model(path: Path) -> ModelInfo:
    """Load `path` with onnx and onnxruntime and describe the model, or raise ModelError."""
    path = Path(path)
    log.info("inspecting model %s", path)
    proto = load_onnx(path)
    check_external_data(proto, path)
    session = create_session(path)

    inputs = [_spec_from_ort(arg) for arg in session.get_inputs()]
    outputs = [_spec_from_ort(arg) for arg in session.get_outputs()]
    opsets = {entry.domain or "ai.onnx": entry.version for entry in proto.opset_import}
    graphs = list(iter_graphs(proto.graph))
    subgraphs = graphs[1:]
    info = ModelInfo(
        path=path,
        sha256=sha256_of(path),
        size_bytes=path.stat().st_size,
        opset=opsets.get("ai.onnx", 0),
        inputs=inputs,
        outputs=outputs,
        node_count=sum(len(graph.node) for graph in graphs),
        constant_weight_nodes=sum(count_constant_weights(graph) for graph in graphs),
        control_flow_ops=sorted({n.op_type for g in graphs for n in g.node if n.op_type in CONTROL_FLOW_OPS}),
        weights_in_subgraphs=any(graph_has_weights(graph) for graph in subgraphs),
        task="generic",
        ir_version=proto.ir_version,
        opsets=opsets,
        weight_op_types=sorted({n.op_type for g in graphs for n in g.node if n.op_type in WEIGHT_OP_TYPES}),
    )
    info.task = infer_task(outputs, session, inputs)
    log.info(
        "model %s: opset %d, %d nodes, task %s, control flow %s",
        path.name, info.opset, info.node_count, info.task, info.control_flow_ops or "none",
    )
    return info



def load_onnx(path: Path) -> onnx.ModelProto:
    """Parse `path` as an ONNX protobuf without its external data, or raise ModelError."""
    if not path.exists():
        raise ModelError(f"Model file not found: {path}. Check the path and try again.")
    if not path.is_file():
        raise ModelError(f"Model path is not a file: {path}. Give the path of an .onnx file.")
    try:
        proto = onnx.load(str(path), load_external_data=False)
    except (DecodeError, RuntimeError, ValueError) as exc:
        raise ModelError(_not_onnx_message(path, exc)) from exc
    # A text or image file sometimes parses as an empty protobuf message.
    if proto.ir_version == 0 or not proto.graph.node:
        raise ModelError(_not_onnx_message(path, None))
    return proto


def _not_onnx_message(path: Path, exc: Exception | None) -> str:
    head = path.read_bytes()[:8]
    if head.startswith(b"\x89PNG") or head.startswith(b"\xff\xd8\xff"):
        what = "it is an image"
    elif exc is not None and "truncat" in str(exc).lower():
        what = "the file is truncated"
    else:
        what = "it is not an ONNX model, or the file is truncated or corrupt"
    reason = f" ({exc})" if exc is not None else ""
    return f"Cannot read {path} as an ONNX model: {what}{reason}. Export the model again or give the right .onnx file."


def check_external_data(proto: onnx.ModelProto, path: Path) -> None:
    """Raise ModelError naming every external data file that is missing beside `path`."""
    missing: dict[str, list[str]] = {}
    for graph in iter_graphs(proto.graph):
        for tensor in graph.initializer:
            if tensor.data_location != onnx.TensorProto.EXTERNAL:
                continue
            location = next((entry.value for entry in tensor.external_data if entry.key == "location"), "")
            if not (path.parent / location).is_file():
                missing.setdefault(location, []).append(tensor.name)
    if missing:
        files = ", ".join(f"{name} (for {len(tensors)} tensors)" for name, tensors in sorted(missing.items()))
        raise ModelError(
            f"External data of {path} is missing: {files} not found in {path.parent}. "
            "Copy the data files next to the model, keeping their names."
        )


def create_session(path: Path, options: ort.SessionOptions | None = None) -> ort.InferenceSession:
    """Create a CPU onnxruntime session for `path`, turning onnxruntime's refusal into ModelError."""
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types from pybind11
        message = str(exc)
        log.warning("onnxruntime rejected %s: %s", path, message)
        raise ModelError(_ort_refusal_message(path, message)) from exc


def _ort_refusal_message(path: Path, message: str) -> str:
    supported = re.search(r"official support for domain ai\.onnx is till opset (\d+)", message)
    if supported:
        return (
            f"onnxruntime {ort.__version__} cannot load {path}: its opset is newer than opset "
            f"{supported.group(1)}, the newest it supports. Export the model at opset {supported.group(1)} "
            f"or lower, or upgrade onnxruntime. onnxruntime said: {message}"
        )
    if "opset" in message.lower():
        return (
            f"onnxruntime {ort.__version__} cannot load {path} at its opset. Convert it with "
            f"onnx.version_converter or export it again at opset 13 or newer. onnxruntime said: {message}"
        )
    return f"onnxruntime {ort.__version__} cannot load {path}: {message}. Check that the model is valid and complete."


def iter_graphs(graph: onnx.GraphProto) -> Iterator[onnx.GraphProto]:
    """Yield `graph` and every subgraph of its If, Loop and Scan nodes, depth first."""
    yield graph
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.GRAPH:
                yield from iter_graphs(attribute.g)
            elif attribute.type == onnx.AttributeProto.GRAPHS:
                for subgraph in attribute.graphs:
                    yield from iter_graphs(subgraph)


def constant_tensor(node: onnx.NodeProto) -> onnx.TensorProto | None:
    """Return the tensor of a Constant node's `value` attribute, or None for other forms."""
    if node.op_type != "Constant":
        return None
    for attribute in node.attribute:
        if attribute.name == "value" and attribute.type == onnx.AttributeProto.TENSOR:
            return attribute.t
    return None


def is_weight_tensor(tensor: onnx.TensorProto) -> bool:
    """Return True for a floating-point tensor with more than one element (a weight, not a scalar)."""
    dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type)
    size = int(np.prod(tensor.dims)) if tensor.dims else 1
    return np.dtype(dtype).kind == "f" and size > 1


def count_constant_weights(graph: onnx.GraphProto) -> int:
    """Count Constant nodes of `graph` (not its subgraphs) whose value is a weight tensor."""
    count = 0
    for node in graph.node:
        tensor = constant_tensor(node)
        if tensor is not None and is_weight_tensor(tensor):
            count += 1
    return count


def graph_has_weights(graph: onnx.GraphProto) -> bool:
    """Return True when `graph` itself stores weights, as initializers or Constant nodes."""
    return any(is_weight_tensor(t) for t in graph.initializer) or count_constant_weights(graph) > 0


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _spec_from_ort(arg: ort.NodeArg) -> TensorSpec:
    dtype = ORT_TYPES.get(arg.type, arg.type)
    shape = [dim if isinstance(dim, int | str) else None for dim in (arg.shape or [])]
    return TensorSpec(name=arg.name, dtype=dtype, shape=shape)


def infer_task(outputs: list[TensorSpec], session: ort.InferenceSession, inputs: list[TensorSpec]) -> str:
    """Classify the model as "classifier", "detection-map" or "generic" from its float outputs."""
    floats = [spec for spec in outputs if spec.dtype in ("float32", "float16")]
    if len(floats) != 1:
        return "generic"
    shape = floats[0].shape
    if len(shape) == 2 and isinstance(shape[1], int) and 2 <= shape[1] <= MAX_CLASSIFIER_CLASSES:
        return "classifier"
    if len(shape) == 4:
        channels = shape[1] if isinstance(shape[1], int) else _probe_channels(session, inputs, floats[0].name)
        if channels == 1:
            return "detection-map"
    return "generic"


# Edge length used for dynamic spatial dimensions when probing an output's real shape.
# NOTE: 64 is a guess that suits detectors such as PP-OCR, which need multiples of
# their 32-pixel stride. A model that rejects 64x64 inputs is classified "generic".
_PROBE_EDGE = 64


def _probe_channels(session: ort.InferenceSession, inputs: list[TensorSpec], output: str) -> int | None:
    """Run the model once on zeros to read the channel count of a symbolic 4-D output."""
    feed = {}
    for spec in inputs:
        if spec.rank != 4 or spec.dtype != "float32":
            return None
        dims = []
        for axis, dim in enumerate(spec.shape):
            if isinstance(dim, int):
                dims.append(dim)
            else:
                dims.append(1 if axis == 0 else _PROBE_EDGE)
        feed[spec.name] = np.zeros(dims, dtype=np.float32)
    try:
        (result,) = session.run([output], feed)
    except Exception as exc:  # any refusal only means the task stays "generic"
        log.info("probe run of output %s failed, task stays generic: %s", output, exc)
        return None
    return int(result.shape[1]) if result.ndim == 4 else None
