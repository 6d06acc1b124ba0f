"""The model that serve runs: one onnxruntime session of the current release, loaded first and then swapped in.

numpy and onnxruntime are imported only when a release loads, so serve
starts, and its sampler runs, on a device without them.
"""

import json
import logging
import os
import sys
import threading
import time

from device_shim.release.files import read_link
from device_shim.release.paths import is_release_id
from device_shim.telemetry.drift import DriftTracker

log = logging.getLogger("device_shim.telemetry.model")

# onnxruntime's tensor types and the numpy dtype names they take.
ORT_TYPES = {
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
    "tensor(double)": "float64",
    "tensor(int8)": "int8",
    "tensor(uint8)": "uint8",
    "tensor(int16)": "int16",
    "tensor(uint16)": "uint16",
    "tensor(int32)": "int32",
    "tensor(uint32)": "uint32",
    "tensor(int64)": "int64",
    "tensor(uint64)": "uint64",
    "tensor(bool)": "bool",
}


class ModelUnavailable(Exception):
    """No model serves; code is "no_release", "onnxruntime_missing" or "load_failed"."""

    def __init__(self, code, message):
        Exception.__init__(self, message)
        self.code = code
        self.message = message


class TensorSpec(object):
    """One model input or output: its name, its shape (None for a symbolic dimension) and its numpy dtype name."""

    def __init__(self, node_arg):
        self.name = node_arg.name
        self.type = node_arg.type
        # None when the model leaves even the rank open.
        self.shape = None
        if node_arg.shape is not None:
            self.shape = [dim if isinstance(dim, int) and dim >= 0 else None for dim in node_arg.shape]
        # None for a type that is not a plain tensor, such as a sequence of maps.
        self.dtype = ORT_TYPES.get(node_arg.type)

    def describe(self):
        return {"name": self.name, "shape": self.shape, "type": self.type}


class LoadedModel(object):
    """A release whose session is loaded: what a request needs to run it, and its drift tracker."""

    def __init__(self, release, entrypoint, session, numpy, reference):
        self.release = release
        self.entrypoint = entrypoint
        self.session = session
        self.numpy = numpy
        self.inputs = [TensorSpec(item) for item in session.get_inputs()]
        self.outputs = [TensorSpec(item) for item in session.get_outputs()]
        self.drift = DriftTracker(reference)
        self.loaded_at = time.time()

    def input(self, name):
        """Return the TensorSpec of the input called name, or None."""
        for spec in self.inputs:
            if spec.name == name:
                return spec
        return None

    def output_names(self):
        return [spec.name for spec in self.outputs]

    def describe(self):
        """Return the /v1/model reply."""
        return {
            "release": self.release,
            "entrypoint": self.entrypoint,
            "inputs": [spec.describe() for spec in self.inputs],
            "outputs": [spec.describe() for spec in self.outputs],
        }


def import_runtime():
    """Import numpy and onnxruntime; raise ModelUnavailable("onnxruntime_missing") when either is missing."""
    try:
        import numpy
        import onnxruntime
    except ImportError as exc:
        raise ModelUnavailable(
            "onnxruntime_missing",
            "onnxruntime or numpy cannot be imported by {}: {}; install onnxruntime for this python".format(
                sys.executable, exc
            ),
        )
    return numpy, onnxruntime


def read_manifest(layout, release_id):
    """Return the manifest of a staged release; raise ModelUnavailable("load_failed") when unreadable."""
    path = os.path.join(layout.release_dir(release_id), "manifest.json")
    try:
        with open(path, "rb") as handle:
            manifest = json.loads(handle.read().decode("utf-8"))
    except (IOError, OSError, ValueError) as exc:
        raise ModelUnavailable(
            "load_failed", "the manifest {} cannot be read: {}; stage the release again".format(path, exc)
        )
    if not isinstance(manifest, dict) or not isinstance(manifest.get("entrypoint"), str):
        raise ModelUnavailable("load_failed", "the manifest {} has no entrypoint".format(path))
    return manifest


def open_session(onnxruntime, path, provider, intra_op_threads):
    """Open an InferenceSession on the manifest's provider when available, else on CPU."""
    options = onnxruntime.SessionOptions()
    # Devices run other work beside the model, so serve takes one thread per
    # inference unless --intra-op-threads sets more. Concurrent requests still
    # run in parallel, each on its own thread.
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = 1
    providers = ["CPUExecutionProvider"]
    if provider and provider in onnxruntime.get_available_providers():
        providers = [provider, "CPUExecutionProvider"]
    return onnxruntime.InferenceSession(path, sess_options=options, providers=providers)


def load_release(layout, release_id, intra_op_threads):
    """Load a release's entrypoint into a new session; raise ModelUnavailable on any failure."""
    numpy, onnxruntime = import_runtime()
    manifest = read_manifest(layout, release_id)
    entrypoint = manifest["entrypoint"]
    path = os.path.join(layout.release_dir(release_id), *entrypoint.split("/"))
    target = manifest.get("target") if isinstance(manifest.get("target"), dict) else {}
    try:
        session = open_session(onnxruntime, path, target.get("execution_provider"), intra_op_threads)
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types from pybind11
        raise ModelUnavailable("load_failed", "{} did not load: {}: {}".format(path, type(exc).__name__, exc))
    return LoadedModel(release_id, entrypoint, session, numpy, manifest.get("reference"))


class ModelHolder(object):
    """The model that serves now, and why none serves when there is none.

    Requests read the attribute current once and keep that LoadedModel to the
    end, so a reload that swaps it never changes a model under a running request.
    """

    def __init__(self, layout, intra_op_threads=1):
        self.layout = layout
        self.intra_op_threads = intra_op_threads
        self.current = None
        self.linked = None
        self.error_code = "no_release"
        self.error = "no release is active on this device; activate one first"
        self.reload_lock = threading.Lock()

    def require(self):
        """Return the serving LoadedModel, or raise ModelUnavailable with the reason there is none."""
        model = self.current
        if model is None:
            raise ModelUnavailable(self.error_code, self.error)
        return model

    def link_changed(self):
        """Return True when the `current` link points to another release than the last load looked at."""
        return read_link(self.layout, "current") != self.linked

    def reload(self, reason):
        """Load the release the `current` link points to and swap it in; return True when the serving model changed.

        A failed load keeps the old model serving and records the error for /v1/health.
        """
        with self.reload_lock:
            release_id = read_link(self.layout, "current")
            self.linked = release_id
            if release_id is None or not is_release_id(release_id):
                return self._unload(reason)
            log.info("loading release %s (%s)", release_id, reason)
            try:
                model = load_release(self.layout, release_id, self.intra_op_threads)
            except ModelUnavailable as exc:
                self.error_code = exc.code
                self.error = "release {}: {}".format(release_id, exc.message)
                still_serving = self.current.release if self.current is not None else "nothing"
                log.error("loading release %s failed, still serving %s: %s", release_id, still_serving, exc.message)
                return False
            self.current = model
            self.error_code = None
            self.error = None
            log.info("serving release %s (%s)", release_id, model.entrypoint)
            return True

    def _unload(self, reason):
        self.error_code = "no_release"
        self.error = "no release is active on this device; activate one first"
        if self.current is None:
            return False
        log.info("release %s is no longer current (%s); serving nothing", self.current.release, reason)
        self.current = None
        return True
