"""Probe: send one input file through a device's model server and report the outputs and latency.

The server (the shim's `serve`) listens on the device's 127.0.0.1 only. So the
probe first makes sure it runs (`serve --detach yes` returns its port). It then
forwards a local port to it over the device's SSH connection and POSTs the
input as JSON to /v1/infer with httpx.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from device_shim.telemetry.model import ORT_TYPES
from edgetui.domain import Device
from edgetui.errors import DeviceError, EdgetuiError, InputError
from edgetui.shim_client import ShimClient, ShimError
from edgetui.ssh import SSHPool

logger = logging.getLogger("edgetui.telemetry.probe")

SUPPORTED_SUFFIXES = (".npz", ".npy", ".json")
TOP_K = 5
DEFAULT_TIMEOUT_S = 60.0


class ProbeError(DeviceError):
    """The device's model server could not be started, reached or asked for an inference."""

    title = "Probe failed"


@dataclass(frozen=True)
class ProbeResult:
    """One inference on a device: its outputs by name, the round trip measured here and the server's own time."""

    device: str
    release: str | None
    outputs: dict[str, np.ndarray]
    latency_ms: float
    server_latency_ms: float | None

    def top_k(self, name: str, k: int = TOP_K) -> list[tuple[int, float]] | None:
        """Return the k largest (index, value) pairs of a classifier-like output of shape (1, N), else None."""
        array = self.outputs[name]
        if array.ndim != 2 or array.shape[0] != 1 or array.shape[1] < 2 or not np.issubdtype(array.dtype, np.number):
            return None
        row = array[0]
        order = np.argsort(row)[::-1][:k]
        return [(int(index), float(row[index])) for index in order]

    def as_dict(self) -> dict[str, Any]:
        """Return the result as plain data for `--json`; each output has its shape, dtype, top-5 and values."""
        outputs = {}
        for name, array in self.outputs.items():
            top = self.top_k(name)
            outputs[name] = {
                "shape": list(array.shape),
                "dtype": array.dtype.name,
                "top5": [{"index": index, "value": value} for index, value in top] if top is not None else None,
                "data": array.tolist(),
            }
        return {
            "device": self.device,
            "release": self.release,
            "latency_ms": self.latency_ms,
            "server_latency_ms": self.server_latency_ms,
            "outputs": outputs,
        }


# Input files


@dataclass(frozen=True)
class ProbeInput:
    """The probe's input: arrays by input name (None for a .npy file's single array), or a ready JSON body."""

    path: Path
    arrays: dict[str | None, np.ndarray] | None = None
    body: dict[str, Any] | None = None


def load_input(path: Path) -> ProbeInput:
    """Read a .npz, .npy or .json input file; raise InputError naming the file and what is wrong."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InputError(
            f"Unsupported probe input {path}: expected a .npz (one array per input name), "
            ".npy (the model's only input) or .json (an /v1/infer request body) file."
        )
    if not path.is_file():
        raise InputError(f"Probe input file {path} not found.")

    try:
        if suffix == ".json":
            return ProbeInput(path, body=_checked_body(path, json.loads(path.read_text(encoding="utf-8"))))
        if suffix == ".npy":
            return ProbeInput(path, arrays={None: np.load(path, allow_pickle=False)})
        with np.load(path, allow_pickle=False) as archive:
            arrays: dict[str | None, np.ndarray] = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"Cannot read probe input {path}: {exc}. Check that it is a valid {suffix} file.") from exc
    if not arrays:
        raise InputError(f"Probe input {path} contains no arrays; save one array per model input name with numpy.savez.")
    return ProbeInput(path, arrays=arrays)


def _checked_body(path: Path, body: Any) -> dict[str, Any]:
    """Check the shape of a JSON request body: {"inputs": {NAME: {"data": ...}}}."""
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, dict) or not inputs:
        raise InputError(f'Probe input {path} must be a JSON object {{"inputs": {{NAME: {{"data": [...]}}}}}}.')
    for name, value in inputs.items():
        if not isinstance(value, dict) or "data" not in value:
            raise InputError(f'Input {name!r} in {path} must be an object with a "data" list.')
    return body


def request_body(probe_input: ProbeInput, model: dict[str, Any]) -> dict[str, Any]:
    """Build the /v1/infer body for the model's inputs; raise InputError when the names do not match."""
    expected = [item["name"] for item in model.get("inputs", [])]
    expected_text = ", ".join(f"{name!r}" for name in expected) or "none"
    if probe_input.arrays is not None and None in probe_input.arrays:
        if len(expected) != 1:
            raise InputError(
                f"A .npy file contains one array, but the model takes the inputs {expected_text}. "
                "Save one array per input name in a .npz file (numpy.savez)."
            )
        array = probe_input.arrays[None]
        _check_array(probe_input.path, model["inputs"][0], array, npz_name=None)
        return {"inputs": {expected[0]: _encoded(array)}}

    given = list(probe_input.body["inputs"]) if probe_input.body is not None else list(probe_input.arrays or {})
    missing = [name for name in expected if name not in given]
    unknown = [name for name in given if name not in expected]
    if missing or unknown:
        problems = []
        if missing:
            problems.append("missing " + ", ".join(f"{name!r}" for name in missing))
        if unknown:
            problems.append("unknown " + ", ".join(f"{name!r}" for name in unknown))
        raise InputError(
            f"The inputs of {probe_input.path} do not match the model: {'; '.join(problems)}. "
            f"The model takes {expected_text}."
        )
    specs = {item["name"]: item for item in model.get("inputs", [])}
    if probe_input.body is not None:
        for name, value in probe_input.body["inputs"].items():
            _check_json_input(probe_input.path, specs[name], value)
        return probe_input.body
    arrays = probe_input.arrays or {}
    for name, array in arrays.items():
        _check_array(probe_input.path, specs[name], array, npz_name=name)
    return {"inputs": {name: _encoded(array) for name, array in arrays.items()}}


# The device's server checks the same and responds with 400. Checking here first
# lets the error message explain how to fix the file, and sends nothing the server would reject.


def _check_array(path: Path, spec: dict[str, Any], array: np.ndarray, *, npz_name: str | None) -> None:
    """Raise InputError when an array's dtype or shape does not fit the model input ``spec``.

    ``npz_name`` is the array's name in a .npz file, or None for a .npy file.
    The error shows the numpy call that saves a fixed file of that kind.
    """
    name = spec["name"]
    dtype = ORT_TYPES.get(spec.get("type"))
    if dtype is not None and array.dtype.name != dtype:
        if npz_name is None:
            fix = f'Convert the array and save it again, for example numpy.save("{path}", array.astype("{dtype}"))'
        else:
            fix = (f"Convert the array and save the file again with every input, for example "
                   f'numpy.savez("{path}", {npz_name}=array.astype("{dtype}"), ...)')
        raise InputError(f"Input {name!r} in {path} is {array.dtype.name}, but the model expects {dtype}. {fix}.")
    if not _shape_fits(spec.get("shape"), list(array.shape)):
        raise InputError(
            f"Input {name!r} in {path} has shape {format_shape(list(array.shape))}, but the model expects "
            f"{format_shape(spec['shape'])}. Resize or reshape the array to that shape and save it again."
        )


def _check_json_input(path: Path, spec: dict[str, Any], value: dict[str, Any]) -> None:
    """Raise InputError when a JSON input's "dtype" or "shape" field does not fit the model input ``spec``."""
    name = spec["name"]
    dtype = ORT_TYPES.get(spec.get("type"))
    given_dtype = value.get("dtype")
    if dtype is not None and given_dtype is not None and given_dtype != dtype:
        raise InputError(
            f'Input {name!r} in {path} has "dtype": {json.dumps(given_dtype)}, but the model expects {dtype}. '
            f'Set "dtype" to "{dtype}" and send values of that type, or leave "dtype" out.'
        )
    shape = value.get("shape")
    valid_shape = isinstance(shape, list) and all(isinstance(size, int) for size in shape)
    if valid_shape and not _shape_fits(spec.get("shape"), shape):
        raise InputError(
            f'Input {name!r} in {path} has "shape" {format_shape(shape)}, but the model expects '
            f"{format_shape(spec['shape'])}. Send data of that shape."
        )


def _shape_fits(expected: list[int | None] | None, shape: list[int]) -> bool:
    """Return True when ``shape`` has the model's rank and its sizes where the model fixes them."""
    if expected is None:
        return True
    return len(shape) == len(expected) and all(
        size is None or not isinstance(size, int) or size == actual for size, actual in zip(expected, shape)
    )


def format_shape(shape: list[int | str | None]) -> str:
    """Format a shape as "N x 3 x 224 x 224 (N: any size)"; a size the model leaves open is N."""
    if not shape:
        return "a scalar (no dimensions)"
    sizes = [str(size) if isinstance(size, int) else "N" for size in shape]
    text = " x ".join(sizes)
    return text + " (N: any size)" if "N" in sizes else text


def _encoded(array: np.ndarray) -> dict[str, Any]:
    return {"data": array.tolist(), "dtype": array.dtype.name, "shape": list(array.shape)}


# The device side


async def probe(
    fleet_or_pool: Any,
    device: Device | str,
    input_path: Path,
    *,
    shim: ShimClient | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> ProbeResult:
    """Run one inference of ``input_path`` on the device's model server and return the outputs and latencies.

    ``fleet_or_pool`` is a Fleet (``device`` may then be a name) or an SSHPool.
    Raises InputError for a bad file or input names that do not match the
    model, ProbeError when serve cannot start or fails the request, and the SSH layer's
    errors when the device is unreachable.
    """
    pool, shim, device = _resolve(fleet_or_pool, device, shim)
    probe_input = load_input(Path(input_path))
    port = await _serve_port(shim, device)

    async with pool.forward_local(device, remote_port=port) as local_port:
        base_url = f"http://127.0.0.1:{local_port}"
        async with httpx.AsyncClient(base_url=base_url, timeout=timeout) as client:
            model = await _get_model(client, device, port)
            body = request_body(probe_input, model)
            started = time.perf_counter()
            response = await _send(client, "POST", "/v1/infer", device, port, json=body)
            latency_ms = (time.perf_counter() - started) * 1000.0
    reply = _reply_json(response, device)
    if response.status_code != 200:
        raise _server_error(response.status_code, reply, device)

    outputs = {name: _decoded(device, name, value) for name, value in reply.get("outputs", {}).items()}
    logger.info("Probe of device %s: %d outputs in %.1f ms", device.name, len(outputs), latency_ms)
    return ProbeResult(
        device=device.name,
        release=reply.get("release"),
        outputs=outputs,
        latency_ms=latency_ms,
        server_latency_ms=reply.get("latency_ms"),
    )


def _resolve(fleet_or_pool: Any, device: Device | str, shim: ShimClient | None) -> tuple[SSHPool, ShimClient, Device]:
    """Return the pool, shim client and device of a Fleet or an SSHPool."""
    if isinstance(fleet_or_pool, SSHPool):
        if isinstance(device, str):
            raise TypeError("probe() with an SSHPool needs a Device, not a device name")
        return fleet_or_pool, shim or ShimClient(fleet_or_pool), device
    if isinstance(device, str):
        device = fleet_or_pool.device(device)
    return fleet_or_pool.pool, shim or fleet_or_pool.shim, device


async def _serve_port(shim: ShimClient, device: Device) -> int:
    """Start serve when it is not running and return the port it listens on."""
    try:
        reply = await shim.call(device, "serve", args=["--detach", "yes"])
    except ShimError as exc:
        message = (
            f"The model server (serve) did not start on device {device.name}: {exc.message} "
            "Its log is .edgetui/telemetry/serve.log on the device."
        )
        raise ProbeError(device.name, message) from exc
    port = reply.get("port")
    if not reply.get("ok") or not isinstance(port, int):
        message = (
            f"The model server (serve) did not start on device {device.name}: "
            f"{reply.get('code', 'no port')}: {reply.get('error', reply)}. "
            "Its log is .edgetui/telemetry/serve.log on the device."
        )
        raise ProbeError(device.name, message)
    logger.info("serve on device %s listens on port %d (%s)", device.name, port,
                "already running" if reply.get("already_running") else "started")
    return port


async def _get_model(client: httpx.AsyncClient, device: Device, port: int) -> dict[str, Any]:
    """Return the served model's description, or raise ProbeError explaining why none is served."""
    response = await _send(client, "GET", "/v1/model", device, port)
    reply = _reply_json(response, device)
    if response.status_code != 200:
        raise _server_error(response.status_code, reply, device)
    return reply


async def _send(client: httpx.AsyncClient, method: str, url: str, device: Device, port: int, **kwargs: Any) -> httpx.Response:
    """Send one request through the forward; a transport failure becomes ProbeError."""
    try:
        return await client.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        message = f"The model server on device {device.name} did not respond to {method} {url} in time: {exc}."
        raise ProbeError(device.name, message) from exc
    except httpx.TransportError as exc:
        message = (
            f"Cannot reach the model server on device {device.name} (127.0.0.1:{port} on the device) "
            f"through the SSH port forward: {exc or type(exc).__name__}. Check that the device's SSH server "
            "allows TCP forwarding (AllowTcpForwarding) and that serve is still running."
        )
        raise ProbeError(device.name, message) from exc


def _reply_json(response: httpx.Response, device: Device) -> dict[str, Any]:
    try:
        reply = response.json()
    except ValueError as exc:
        message = (
            f"The model server on device {device.name} responded with HTTP {response.status_code} "
            f"with a body that is not JSON: {response.text[:200]!r}."
        )
        raise ProbeError(device.name, message) from exc
    if not isinstance(reply, dict):
        raise ProbeError(device.name, f"The model server on device {device.name} responded with a JSON {type(reply).__name__} instead of an object.")
    return reply


def _server_error(status: int, reply: dict[str, Any], device: Device) -> EdgetuiError:
    """Return the error for a non-200 response, with what to do next for each code the server sends."""
    code = reply.get("code")
    error = reply.get("error") or "no error text"
    name = device.name
    if code == "no_release":
        return ProbeError(name, f"Device {name} has no release to serve. Deploy one first: edgetui deploy ARTIFACT --to {name}")
    if code == "onnxruntime_missing":
        return ProbeError(
            name, f"Device {name} cannot run models: onnxruntime is not installed for its python3 ({error}). "
            "Install it on the device, for example with pip install onnxruntime."
        )
    if code == "load_failed":
        return ProbeError(
            name, f"The current release on device {name} failed to load: {error}. "
            f"Roll it back with: edgetui rollback {name}"
        )
    if code == "bad_input":
        return InputError(f"Device {name} rejected the probe input: {error}")
    if status == 413:
        return InputError(f"The probe input is too large for the model server on device {name} (over 64 MB).")
    return ProbeError(name, f"The model server on device {name} responded with HTTP {status} ({code or 'no code'}): {error}")



def _decoded(device: Device, name: str, value: Any) -> np.ndarray:
    """Turn one output of the reply into an array of its shape and dtype."""
    try:
        array = np.asarray(value["data"], dtype=value.get("dtype") or None)
        shape = value.get("shape")
        return array.reshape(shape) if shape is not None else array
    except (KeyError, TypeError, ValueError) as exc:
        message = f"The model server on device {device.name} sent an invalid output {name!r}: {exc}."
        raise ProbeError(device.name, message) from exc
