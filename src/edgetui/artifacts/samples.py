"""Sample inputs for a release's health check, and the reference input and output statistics used for drift.

A samples file is an .npz with one array per model input name. The first axis
counts samples: ``array[i]`` is the whole input of sample i, which the device's
health check feeds to the model as it is.
"""

import logging
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from edgetui.artifacts.errors import ArtifactInputError

log = logging.getLogger("edgetui.artifacts")

GENERATED_SAMPLES = 4
GENERATED_SEED = 0
# Enough samples for stable statistics while `artifact add` stays quick on large models.
MAX_REFERENCE_SAMPLES = 32
HISTOGRAM_BINS = 10
# Six significant digits keep the manifest small; drift checks need no more.
SIGNIFICANT_DIGITS = 6
# A fixed zip entry time makes the generated file, and so the artifact id, reproducible.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

_ORT_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(int16)": np.int16,
    "tensor(uint16)": np.uint16,
    "tensor(int32)": np.int32,
    "tensor(uint32)": np.uint32,
    "tensor(int64)": np.int64,
    "tensor(uint64)": np.uint64,
    "tensor(bool)": np.bool_,
}


def generate_samples(session: ort.InferenceSession) -> dict[str, np.ndarray]:
    """Build seeded inputs from the model's input shapes, with symbolic dimensions set to 1.

    Floating-point inputs get standard normal values and the others zeros,
    because random integers could be invalid indices or ids.
    NOTE: a model whose inputs need meaningful values (a sample rate, token ids)
    may fail on these; the user then gives --samples.
    """
    rng = np.random.default_rng(GENERATED_SEED)
    arrays = {}
    for item in session.get_inputs():
        dtype = _ORT_DTYPES.get(item.type)
        if dtype is None:
            raise ArtifactInputError(
                f"Cannot generate samples for input {item.name!r} of type {item.type}. "
                "Give sample inputs with --samples FILE.npz."
            )
        shape = [GENERATED_SAMPLES] + [dim if isinstance(dim, int) and dim > 0 else 1 for dim in item.shape]
        if np.dtype(dtype).kind == "f":
            arrays[item.name] = rng.standard_normal(shape).astype(dtype)
        else:
            arrays[item.name] = np.zeros(shape, dtype=dtype)
    return arrays


def write_samples(arrays: dict[str, np.ndarray], path: Path) -> None:
    """Write ``arrays`` as an uncompressed .npz whose bytes depend only on the arrays.

    numpy.savez stamps each entry with the current time, which would give the
    same model a new artifact id on every run.
    """
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            with archive.open(info, "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, np.ascontiguousarray(arrays[name]), allow_pickle=False)


def read_samples(path: Path, session: ort.InferenceSession) -> dict[str, np.ndarray]:
    """Read a samples .npz and check it against the model's inputs, or raise ArtifactInputError."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise ArtifactInputError(
            f"Cannot read the samples file {path} as .npz: {error}. Save it with numpy.savez."
        ) from error
    inputs = {item.name: item for item in session.get_inputs()}
    if set(arrays) != set(inputs):
        raise ArtifactInputError(
            f"The samples file {path} has arrays {sorted(arrays)}, but the model's inputs are "
            f"{sorted(inputs)}. Save one array per input name, first axis = samples."
        )
    for name, array in arrays.items():
        expected_rank = len(inputs[name].shape) + 1
        if array.ndim != expected_rank or array.shape[0] == 0:
            raise ArtifactInputError(
                f"Array {name!r} in {path} has shape {array.shape}; expected at least one sample "
                f"of rank {expected_rank - 1} stacked on the first axis."
            )
    return arrays


def reference_statistics(session: ort.InferenceSession, arrays: dict[str, np.ndarray],
                         samples_label: str) -> dict[str, Any]:
    """Run the samples through the model and summarize each output and each input: mean, std, min, max, histogram.

    Outputs go under "outputs" and inputs under "input_stats", both over the
    samples that were run, so the device can compare what it serves with both.
    Raises ArtifactInputError when the model fails on a sample; ``samples_label``
    names the samples in that message.
    """
    count = min(min(len(array) for array in arrays.values()), MAX_REFERENCE_SAMPLES)
    names = [item.name for item in session.get_outputs()]
    collected: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for index in range(count):
        feed = {name: array[index] for name, array in arrays.items()}
        try:
            results = session.run(None, feed)
        except Exception as error:  # onnxruntime raises its own exception types from pybind11
            raise ArtifactInputError(
                f"The model failed on sample {index} of {samples_label}: {error}. "
                "Give inputs that the model accepts with --samples FILE.npz."
            ) from error
        for name, value in zip(names, results, strict=True):
            collected[name].append(value)
    log.info("computed reference statistics of %d outputs and %d inputs over %d samples",
             len(names), len(arrays), count)
    return {
        "samples": count,
        "inputs": samples_label,
        "onnxruntime": ort.__version__,
        "outputs": {name: _summarize(values) for name, values in collected.items()},
        "input_stats": {name: _summarize([array[index] for index in range(count)]) for name, array in arrays.items()},
    }


def _summarize(values: list[Any]) -> dict[str, Any]:
    """Return the statistics of one input's or output's values over every sample."""
    if not all(isinstance(value, np.ndarray) and value.dtype.kind in "biuf" for value in values):
        return {"skipped": "the value is not a numeric tensor"}
    flat = np.concatenate([value.astype(np.float64).ravel() for value in values])
    finite = flat[np.isfinite(flat)]
    summary: dict[str, Any] = {
        "shape": list(values[0].shape),
        "dtype": str(values[0].dtype),
        "non_finite": int(flat.size - finite.size),
    }
    if finite.size == 0:
        return summary
    counts, edges = np.histogram(finite, bins=HISTOGRAM_BINS)
    summary.update({
        "mean": _rounded(finite.mean()),
        "std": _rounded(finite.std()),
        "min": _rounded(finite.min()),
        "max": _rounded(finite.max()),
        "histogram": {"edges": [_rounded(edge) for edge in edges], "counts": [int(c) for c in counts]},
    })
    return summary


def _rounded(value: float) -> float:
    return float(f"{float(value):.{SIGNIFICANT_DIGITS}g}")
