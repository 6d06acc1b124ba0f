"""The `benchmark` command: latency of one ONNX model with the device's onnxruntime.

The request is a JSON object on stdin:

    {"model": ".edgetui/bench/<sha256>.onnx",  path relative to the login folder
     "threads": 1, "warmup": 3, "runs": 20, "repeats": 3,
     "samples": ".edgetui/bench/<sha256>.npz", optional: one array per input
                                                name, first axis = samples
     "inputs": [{"name": "x", "shape": [1, 64], "dtype": "float32"}],
                                                used when there is no samples file
     "providers": ["CPUExecutionProvider"]}     optional, default CPU only

`warmup` untimed inferences come first, then `repeats` rounds of `runs` timed
ones. The reply gives the median over rounds of each round's p50 and p95, in
milliseconds, as edgetui measures on the laptop:

    {"ok": true, "p50_ms": 4.1, "p95_ms": 4.4, "threads": 1, "runs": 20,
     "warmup": 3, "repeats": 3, "onnxruntime": {"version": ..., "providers": [...]}}

A failure that the console should report (onnxruntime missing, a model that
does not load, invalid request values) is a reply with "ok": false, "reason"
and "error", and exit status 0, so the console reads the reason instead of a
bare exit status.
"""

import json
import os
import sys
import time

# Upper bounds that keep one request from occupying a device for hours.
MAX_RUNS = 10000
MAX_WARMUP = 1000
MAX_REPEATS = 20
MAX_THREADS = 256
MAX_REQUEST_BYTES = 1024 * 1024

DTYPES = ("float32", "float16", "float64", "int64", "int32", "int16", "int8", "uint8", "bool")


class RequestError(Exception):
    """The request is not valid JSON or has an invalid value."""


def run_benchmark(options, stdin=None):
    """Run the `benchmark` command; return (reply, exit status)."""
    try:
        request = parse_request((stdin or sys.stdin).read(MAX_REQUEST_BYTES + 1))
    except RequestError as exc:
        return failure("invalid-request", str(exc)), 0
    try:
        import numpy
        import onnxruntime
    except ImportError as exc:
        message = (
            "onnxruntime is not installed for {} on this device ({}). Install it "
            "(pip install onnxruntime) to benchmark models here.".format(sys.executable, exc)
        )
        return failure("onnxruntime-missing", message), 0
    return benchmark_model(request, onnxruntime, numpy), 0


def failure(reason, message):
    """Build the reply of a benchmark that could not run."""
    return {"ok": False, "reason": reason, "error": message}


def parse_request(text):
    """Parse and check the JSON request; raise RequestError naming the invalid field."""
    if len(text) > MAX_REQUEST_BYTES:
        raise RequestError("the request is larger than {} bytes".format(MAX_REQUEST_BYTES))
    try:
        request = json.loads(text or "{}")
    except ValueError as exc:
        raise RequestError("the request is not valid JSON: {}".format(exc))
    if not isinstance(request, dict):
        raise RequestError("the request must be a JSON object")
    model = request.get("model")
    if not isinstance(model, str) or not model:
        raise RequestError("the request needs 'model', the path of an .onnx or .ort file")
    checked = {
        "model": model,
        "threads": _bounded_int(request, "threads", 1, 1, MAX_THREADS),
        "warmup": _bounded_int(request, "warmup", 3, 0, MAX_WARMUP),
        "runs": _bounded_int(request, "runs", 20, 1, MAX_RUNS),
        "repeats": _bounded_int(request, "repeats", 3, 1, MAX_REPEATS),
        "samples": request.get("samples"),
        "inputs": _checked_inputs(request.get("inputs")),
        "providers": request.get("providers") or ["CPUExecutionProvider"],
    }
    if checked["samples"] is not None and not isinstance(checked["samples"], str):
        raise RequestError("'samples' must be the path of an .npz file")
    if not isinstance(checked["providers"], list) or not all(isinstance(p, str) for p in checked["providers"]):
        raise RequestError("'providers' must be a list of execution provider names")
    return checked


def _bounded_int(request, name, default, low, high):
    """Return request[name] as an int in [low, high], or default when absent."""
    value = request.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RequestError("'{}' must be an integer from {} to {}, not {!r}".format(name, low, high, value))
    return value


def _checked_inputs(inputs):
    """Check the list of input specs {name, shape, dtype}."""
    if inputs is None:
        return []
    if not isinstance(inputs, list):
        raise RequestError("'inputs' must be a list of {name, shape, dtype} objects")
    for spec in inputs:
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise RequestError("each entry of 'inputs' needs a 'name'")
        shape = spec.get("shape")
        if not isinstance(shape, list) or not all(isinstance(d, int) and 0 < d <= 1 << 20 for d in shape):
            raise RequestError("input {!r}: 'shape' must be a list of positive integers".format(spec["name"]))
        if spec.get("dtype") not in DTYPES:
            raise RequestError("input {!r}: 'dtype' must be one of {}".format(spec["name"], ", ".join(DTYPES)))
    return inputs


def benchmark_model(request, onnxruntime, numpy):
    """Load the model, time it with the requested settings, and return the reply."""
    path = request["model"]
    if not os.path.isfile(path):
        return failure("model-missing", "model file {} not found in {}".format(path, os.getcwd()))
    try:
        session = _session(onnxruntime, path, request)
        feeds = _feeds(numpy, session, request)
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
        return failure("model-load-failed", "{} did not load: {}: {}".format(path, type(exc).__name__, exc))

    p50s = []
    p95s = []
    try:
        for index in range(request["warmup"]):
            session.run(None, feeds[index % len(feeds)])
        for _ in range(request["repeats"]):
            timings = _time_runs(session, feeds, request["runs"])
            p50s.append(_percentile(timings, 50))
            p95s.append(_percentile(timings, 95))
    except Exception as exc:  # noqa: BLE001 - a failing run is reported, not raised
        return failure("run-failed", "{} failed to run: {}: {}".format(path, type(exc).__name__, exc))

    return {
        "ok": True,
        "model": path,
        "p50_ms": round(_median(p50s), 4),
        "p95_ms": round(_median(p95s), 4),
        "threads": request["threads"],
        "runs": request["runs"],
        "warmup": request["warmup"],
        "repeats": request["repeats"],
        "onnxruntime": {
            "version": str(onnxruntime.__version__),
            "providers": [str(name) for name in session.get_providers()],
        },
    }


def _session(onnxruntime, path, request):
    """Open an InferenceSession with the requested thread count and providers."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = request["threads"]
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    available = set(onnxruntime.get_available_providers())
    providers = [name for name in request["providers"] if name in available] or ["CPUExecutionProvider"]
    return onnxruntime.InferenceSession(path, sess_options=options, providers=providers)


def _feeds(numpy, session, request):
    """Return a list of input dicts: the samples file's rows, else generated inputs."""
    if request["samples"]:
        with numpy.load(request["samples"], allow_pickle=False) as archive:
            arrays = dict((name, archive[name]) for name in archive.files)
        count = min(len(array) for array in arrays.values())
        return [dict((name, array[index]) for name, array in arrays.items()) for index in range(count)]
    specs = request["inputs"] or _specs_from_session(session)
    generator = numpy.random.RandomState(0)
    feed = {}
    for spec in specs:
        dtype = numpy.dtype(spec["dtype"])
        if dtype.kind == "f":
            feed[spec["name"]] = generator.standard_normal(spec["shape"]).astype(dtype)
        else:
            feed[spec["name"]] = numpy.zeros(spec["shape"], dtype=dtype)
    return [feed]


_ORT_TYPES = {
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
    "tensor(double)": "float64",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(int8)": "int8",
    "tensor(uint8)": "uint8",
    "tensor(bool)": "bool",
}


def _specs_from_session(session):
    """Build input specs from the model's inputs; symbolic dimensions become 1."""
    specs = []
    for item in session.get_inputs():
        shape = [dim if isinstance(dim, int) and dim > 0 else 1 for dim in item.shape]
        specs.append({"name": item.name, "shape": shape, "dtype": _ORT_TYPES.get(item.type, "float32")})
    return specs


def _time_runs(session, feeds, runs):
    """Time runs inferences, cycling through feeds; return milliseconds per run."""
    timings = []
    for index in range(runs):
        start = time.perf_counter()
        session.run(None, feeds[index % len(feeds)])
        timings.append((time.perf_counter() - start) * 1000.0)
    return timings


def _percentile(values, percent):
    """Return the percentile of values by linear interpolation, as numpy's default does."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * percent / 100.0
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def _median(values):
    return _percentile(values, 50)
