"""The health check's child process: load a model with onnxruntime and time inferences.

Run as `python3 -m device_shim.release.probe` with a JSON request on stdin:
{"model": path, "samples": path or null, "provider": name or null,
"warmup": 3, "runs": 10}. It writes one JSON reply on stdout. It runs in its
own process so that a model that crashes or hangs onnxruntime cannot take the
shim down, and so that the parent can enforce a timeout.
"""

import json
import sys
import time

ORT_TYPES = {
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
    "tensor(double)": "float64",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(int16)": "int16",
    "tensor(int8)": "int8",
    "tensor(uint8)": "uint8",
    "tensor(bool)": "bool",
}


def fail(code, message):
    """Build the reply of a probe that could not measure."""
    return {"ok": False, "code": code, "error": message}


def open_session(onnxruntime, request):
    """Open an InferenceSession on the requested provider when available, else on CPU."""
    available = onnxruntime.get_available_providers()
    providers = ["CPUExecutionProvider"]
    if request.get("provider") and request["provider"] in available:
        providers = [request["provider"], "CPUExecutionProvider"]
    return onnxruntime.InferenceSession(request["model"], providers=providers)


def feeds_from_samples(numpy, path):
    """Return one input dict per sample: the .npz has one array per input name, first axis = samples."""
    with numpy.load(path, allow_pickle=False) as archive:
        arrays = dict((name, archive[name]) for name in archive.files)
    if not arrays:
        raise ValueError("the samples file has no arrays")
    count = min(len(array) for array in arrays.values())
    if count == 0:
        raise ValueError("the samples file has no samples")
    return [dict((name, array[index]) for name, array in arrays.items()) for index in range(count)]


def zero_feeds(numpy, session):
    """Return one input dict of zeros from the model's input shapes, symbolic dimensions set to 1."""
    feed = {}
    for item in session.get_inputs():
        shape = [dim if isinstance(dim, int) and dim > 0 else 1 for dim in item.shape]
        feed[item.name] = numpy.zeros(shape, dtype=ORT_TYPES.get(item.type, "float32"))
    return [feed]


def outputs_are_finite(numpy, outputs):
    """Return False when a floating-point output contains NaN or infinity."""
    for output in outputs:
        if isinstance(output, numpy.ndarray) and output.dtype.kind == "f" and not numpy.isfinite(output).all():
            return False
    return True


def percentile(values, percent):
    """Return the percentile of values by linear interpolation, as numpy's default does."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * percent / 100.0
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def measure(numpy, session, feeds, warmup, runs):
    """Run warmup untimed and runs timed inferences; count exceptions and non-finite outputs as errors."""
    first_error = None
    for index in range(warmup):
        try:
            session.run(None, feeds[index % len(feeds)])
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
            first_error = first_error or "{}: {}".format(type(exc).__name__, exc)
    timings = []
    errors = 0
    for index in range(runs):
        start = time.perf_counter()
        try:
            outputs = session.run(None, feeds[index % len(feeds)])
        except Exception as exc:  # noqa: BLE001 - a failing run is counted, not raised
            errors += 1
            first_error = first_error or "{}: {}".format(type(exc).__name__, exc)
            continue
        elapsed_ms = (time.perf_counter() - start) * 1000.0
        if not outputs_are_finite(numpy, outputs):
            errors += 1
            first_error = first_error or "an output contains NaN or infinity"
            continue
        timings.append(elapsed_ms)
    return {
        "ok": True,
        "runs": runs,
        "warmup": warmup,
        "errors": errors,
        "error_rate": errors / float(runs),
        "p50_ms": round(percentile(timings, 50), 4) if timings else None,
        "p95_ms": round(percentile(timings, 95), 4) if timings else None,
        "first_error": first_error,
    }


def probe(request):
    """Load the model and measure it; return the reply."""
    try:
        import numpy
        import onnxruntime
    except ImportError as exc:
        return fail("onnxruntime_missing", "onnxruntime or numpy is not installed for {}: {}".format(sys.executable, exc))
    try:
        session = open_session(onnxruntime, request)
    except Exception as exc:  # noqa: BLE001 - any load failure fails the check
        return fail("model_load_failed", "{} did not load: {}: {}".format(request["model"], type(exc).__name__, exc))
    try:
        if request.get("samples"):
            feeds = feeds_from_samples(numpy, request["samples"])
        else:
            feeds = zero_feeds(numpy, session)
    except Exception as exc:  # noqa: BLE001 - numpy raises several types for a bad file
        return fail("samples_invalid", "samples could not be read: {}: {}".format(type(exc).__name__, exc))
    reply = measure(numpy, session, feeds, request["warmup"], request["runs"])
    reply["providers"] = [str(name) for name in session.get_providers()]
    reply["onnxruntime"] = str(onnxruntime.__version__)
    return reply


def main():
    """Read the request from stdin, probe, and write the reply on stdout."""
    request = json.loads(sys.stdin.read())
    sys.stdout.write(json.dumps(probe(request)) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
