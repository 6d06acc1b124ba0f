"""Replies of the inference server, apart from HTTP plumbing: health, model, metrics and inference.

Every POST /v1/infer is counted in RequestStats with its latency, and as an
error when its reply has a 4xx or 5xx status.
"""

import json
import logging
import threading
import time

from device_shim.telemetry.decode import BadInput, json_feeds, json_outputs, raw_feeds
from device_shim.telemetry.model import ModelUnavailable

log = logging.getLogger("device_shim.telemetry.inference")

RAW_CONTENT_TYPE = "application/octet-stream"
JSON_CONTENT_TYPE = "application/json"
# A client that sends bad input at a steady rate would fill serve.log, so
# repeats of the same error code are logged at most this often, with a count.
LOG_REPEAT_S = 10.0


class Reply(object):
    """One HTTP reply: status, body bytes, content type and extra headers."""

    def __init__(self, status, body, content_type=JSON_CONTENT_TYPE, headers=None):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}


def json_reply(status, payload, headers=None):
    return Reply(status, (json.dumps(payload) + "\n").encode("utf-8"), JSON_CONTENT_TYPE, headers)


def error_reply(status, code, message):
    return json_reply(status, {"ok": False, "code": code, "error": message})


class RepeatLimiter(object):
    """A rate limit for warnings: one line per error code and LOG_REPEAT_S, with the count of lines left out."""

    def __init__(self):
        self.lock = threading.Lock()
        self.last_logged = {}
        self.suppressed = {}

    def log(self, code, message, *args):
        now = time.monotonic()
        with self.lock:
            if now - self.last_logged.get(code, -LOG_REPEAT_S) < LOG_REPEAT_S:
                self.suppressed[code] = self.suppressed.get(code, 0) + 1
                return
            self.last_logged[code] = now
            skipped = self.suppressed.pop(code, 0)
        if skipped:
            message += " (%d more %s errors since the last one logged)"
            args = args + (skipped, code)
        log.warning(message, *args)


def is_invalid_argument(exc):
    """Return True for onnxruntime's InvalidArgument, which it raises for inputs the graph rejects."""
    return type(exc).__name__ in ("InvalidArgument", "InvalidArgumentError")


class InferenceApp(object):
    """The replies of the HTTP API, over a ModelHolder and a RequestStats."""

    def __init__(self, holder, stats):
        self.holder = holder
        self.stats = stats
        self.limiter = RepeatLimiter()

    def health(self):
        model = self.holder.current
        return json_reply(200, {
            "ok": True,
            "release": None if model is None else model.release,
            "model_loaded": model is not None,
            "error": self.holder.error,
        })

    def model_info(self):
        try:
            model = self.holder.require()
        except ModelUnavailable as exc:
            return error_reply(503, exc.code, exc.message)
        return json_reply(200, model.describe())

    def metrics(self):
        payload = self.stats.totals()
        model = self.holder.current
        payload["release"] = None if model is None else model.release
        return json_reply(200, payload)

    def reject(self, status, code, message, started):
        """Count and build the reply for an inference request rejected before its body was read."""
        self.limiter.log(code, "inference request rejected with %d: %s", status, message)
        self.stats.record(elapsed_ms(started), error=True)
        return error_reply(status, code, message)

    def infer(self, content_type, query, body, started):
        """Run one inference request; started is its time.perf_counter() at arrival."""
        reply = self._infer(content_type, query, body, started)
        latency_ms = elapsed_ms(started)
        self.stats.record(latency_ms, error=reply.status >= 400)
        return reply

    def _infer(self, content_type, query, body, started):
        try:
            model = self.holder.require()
        except ModelUnavailable as exc:
            self.limiter.log(exc.code, "inference request answered with 503: %s", exc.message)
            return error_reply(503, exc.code, exc.message)

        raw = (content_type or "").split(";")[0].strip().lower() == RAW_CONTENT_TYPE
        try:
            if raw:
                feeds, output_name = raw_feeds(model, query, body)
                names = [output_name]
            else:
                feeds = json_feeds(model, body)
                names = model.output_names()
            values = model.session.run(names, feeds)
        except BadInput as exc:
            self.limiter.log("bad_input", "inference request answered with 400: %s", str(exc))
            return error_reply(400, "bad_input", str(exc))
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types from pybind11
            if is_invalid_argument(exc):
                message = "release {} rejected the input: {}".format(model.release, exc)
                self.limiter.log("bad_input", "inference request answered with 400: %s", message)
                return error_reply(400, "bad_input", message)
            message = "release {} failed to run: {}: {}".format(model.release, type(exc).__name__, exc)
            self.limiter.log("inference_failed", "inference request answered with 500: %s", message)
            return error_reply(500, "inference_failed", message)

        model.drift.observe(model.numpy, feeds, dict(zip(names, values)))
        if raw:
            return raw_reply(model, values[0], started)
        outputs = json_outputs(model.numpy, names, values)
        latency_ms = round(elapsed_ms(started), 3)
        return json_reply(200, {"release": model.release, "latency_ms": latency_ms, "outputs": outputs})


def raw_reply(model, value, started):
    """Build the application/octet-stream reply: the output's bytes in C order and its shape and dtype as headers."""
    numpy = model.numpy
    if not isinstance(value, numpy.ndarray):
        return error_reply(400, "bad_input", "the output is not a tensor, so it has no raw form; send JSON instead")
    data = numpy.ascontiguousarray(value).tobytes()
    headers = {
        "X-Shape": ",".join(str(dim) for dim in value.shape),
        "X-Dtype": str(value.dtype),
        "X-Latency-Ms": "{:.3f}".format(elapsed_ms(started)),
        "X-Release": model.release,
    }
    return Reply(200, data, RAW_CONTENT_TYPE, headers)


def elapsed_ms(started):
    return (time.perf_counter() - started) * 1000.0
