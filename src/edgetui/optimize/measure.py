"""Measure a model variant on this machine: latency, outputs, agreement with FP32, file size.

Sessions use the CPU execution provider with `intra_op_num_threads=threads`,
`inter_op_num_threads=1` and sequential execution, so a latency states how many
threads it was measured with.
"""

from __future__ import annotations

import logging
import statistics
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort

from edgetui.optimize.data import SampleSet

log = logging.getLogger("edgetui.optimize")

# Outputs with fewer elements per sample than this (a VAD's one probability) make a
# per-sample cosine meaningless, so their cosine is taken over all samples at once.
MIN_COSINE_ELEMENTS = 8


@dataclass
class Latency:
    """Latency percentiles in milliseconds: the median over `repeats` rounds of `runs` timed runs."""

    p50_ms: float
    p95_ms: float
    threads: int
    runs: int
    warmup: int
    repeats: int = 1


@dataclass
class Agreement:
    """Agreement of a variant's outputs with FP32's under one metric; `value` 1.0 means identical."""

    metric: str
    value: float
    max_abs_error: float | None
    details: dict = field(default_factory=dict)


def open_session(path: Path, *, threads: int = 1) -> ort.InferenceSession:
    """Create a CPU session with a fixed thread count and sequential execution."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def measure_latency(
    path: Path, samples: SampleSet, *, threads: int = 1, warmup: int = 3, runs: int = 20, repeats: int = 3
) -> Latency:
    """Time `runs` inferences `repeats` times after `warmup` untimed ones; return median percentiles."""
    if not samples.samples:
        raise ValueError(f"no samples to time {path} with")
    log.info("measuring latency of %s: %d threads, %d warm-up, %d runs x %d", path.name, threads, warmup, runs, repeats)
    session = open_session(path, threads=threads)
    feeds = samples.samples
    for index in range(warmup):
        session.run(None, feeds[index % len(feeds)])

    p50s, p95s = [], []
    for _ in range(repeats):
        timings = []
        for index in range(runs):
            start = time.perf_counter()
            session.run(None, feeds[index % len(feeds)])
            timings.append((time.perf_counter() - start) * 1000.0)
        p50s.append(float(np.percentile(timings, 50)))
        p95s.append(float(np.percentile(timings, 95)))
    # Each round's p95 >= its p50, so the median p95 >= the median p50.
    return Latency(
        p50_ms=statistics.median(p50s),
        p95_ms=statistics.median(p95s),
        threads=threads,
        runs=runs,
        warmup=warmup,
        repeats=repeats,
    )


def measure_latencies(
    paths: list[Path], samples: SampleSet, *, threads: int = 1, warmup: int = 3, runs: int = 20, repeats: int = 3
) -> list[Latency]:
    """Time several model files interleaved; return each one's median percentiles, in order.

    Each repeat times every file in turn, in an order rotated by one per
    repeat, so a burst of load from other processes falls on all of them
    alike instead of on whichever file was being timed then. Timing the files
    one after another let such bursts flip which variant looked fastest.
    """
    if not samples.samples:
        raise ValueError("no samples to time the models with")
    log.info("measuring latency of %d files interleaved: %d threads, %d warm-up, %d runs x %d",
             len(paths), threads, warmup, runs, repeats)
    # NOTE: every session stays loaded for the whole measurement, so memory
    # grows with the number of variants; fine for edge-sized models.
    sessions = [open_session(path, threads=threads) for path in paths]
    feeds = samples.samples
    for session in sessions:
        for index in range(warmup):
            session.run(None, feeds[index % len(feeds)])

    p50s: list[list[float]] = [[] for _ in sessions]
    p95s: list[list[float]] = [[] for _ in sessions]
    for repeat in range(repeats):
        order = list(range(len(sessions)))
        shift = repeat % len(order)
        for position in order[shift:] + order[:shift]:
            timings = _time_runs(sessions[position], feeds, runs)
            p50s[position].append(float(np.percentile(timings, 50)))
            p95s[position].append(float(np.percentile(timings, 95)))

    return [
        Latency(p50_ms=statistics.median(p50s[i]), p95_ms=statistics.median(p95s[i]), threads=threads,
                runs=runs, warmup=warmup, repeats=repeats)
        for i in range(len(sessions))
    ]


def _time_runs(session, feeds: list, runs: int) -> list[float]:
    """Return the wall time in milliseconds of ``runs`` inferences."""
    timings = []
    for index in range(runs):
        start = time.perf_counter()
        session.run(None, feeds[index % len(feeds)])
        timings.append((time.perf_counter() - start) * 1000.0)
    return timings


def run_outputs(path: Path, samples: SampleSet, *, threads: int = 1) -> list[list[np.ndarray]]:
    """Run every sample through the model at `path`; returns the outputs of each sample in order."""
    session = open_session(path, threads=threads)
    return [list(session.run(None, feed)) for feed in samples.samples]


def agreement(
    reference: list[list[np.ndarray]], candidate: list[list[np.ndarray]], task: str, *, iou_threshold: float = 0.3
) -> Agreement:
    """Compare a variant's outputs with FP32's by the task's measure.

    - classifier: "top1", the share of rows whose arg-max class matches, on the first
      2-D float output;
    - detection-map: "iou", intersection over union of the maps thresholded at
      `iou_threshold`, summed over all samples (two empty maps agree fully);
    - otherwise: "cosine", the minimum cosine similarity over samples and float outputs.
    A variant whose outputs differ in count or shape gets value 0.0 and the reason in details.
    """
    mismatch = _shape_mismatch(reference, candidate)
    if mismatch:
        metric = {"classifier": "top1", "detection-map": "iou"}.get(task, "cosine")
        return Agreement(metric=metric, value=0.0, max_abs_error=None, details={"error": mismatch})
    if task == "classifier":
        return _top1(reference, candidate)
    if task == "detection-map":
        return _iou(reference, candidate, iou_threshold)
    return _cosine(reference, candidate)


def _shape_mismatch(reference: list[list[np.ndarray]], candidate: list[list[np.ndarray]]) -> str | None:
    if len(reference) != len(candidate):
        return f"{len(candidate)} samples, expected {len(reference)}"
    for index, (ref, cand) in enumerate(zip(reference, candidate, strict=True)):
        ref_shapes = [np.shape(a) for a in ref]
        cand_shapes = [np.shape(a) for a in cand]
        if ref_shapes != cand_shapes:
            return f"sample {index}: output shapes {cand_shapes}, expected {ref_shapes}"
    return None


def _float_outputs(sample: list[np.ndarray]) -> list[int]:
    return [i for i, a in enumerate(sample) if np.asarray(a).dtype.kind == "f"]


def _max_abs_error(reference: list[np.ndarray], candidate: list[np.ndarray]) -> float:
    errors = [
        float(np.max(np.abs(np.asarray(r, np.float64) - np.asarray(c, np.float64)))) if np.size(r) else 0.0
        for r, c in zip(reference, candidate, strict=True)
    ]
    return max(errors, default=0.0)


def _top1(reference: list[list[np.ndarray]], candidate: list[list[np.ndarray]]) -> Agreement:
    index = next((i for i in _float_outputs(reference[0]) if np.ndim(reference[0][i]) == 2), None)
    if index is None:
        return Agreement("top1", 0.0, None, {"error": "no 2-D float output to take the arg-max of"})
    ref = [np.asarray(sample[index]) for sample in reference]
    cand = [np.asarray(sample[index]) for sample in candidate]
    matches = sum(int(np.sum(r.argmax(axis=1) == c.argmax(axis=1))) for r, c in zip(ref, cand, strict=True))
    rows = sum(r.shape[0] for r in ref)
    return Agreement(
        metric="top1",
        value=matches / rows if rows else 0.0,
        max_abs_error=_max_abs_error(ref, cand),
        details={"output_index": index, "rows": rows, "matching_rows": matches},
    )


def _iou(reference: list[list[np.ndarray]], candidate: list[list[np.ndarray]], threshold: float) -> Agreement:
    index = next((i for i in _float_outputs(reference[0]) if np.ndim(reference[0][i]) == 4), 0)
    ref = [np.asarray(sample[index]) for sample in reference]
    cand = [np.asarray(sample[index]) for sample in candidate]
    intersection = sum(int(np.sum((r > threshold) & (c > threshold))) for r, c in zip(ref, cand, strict=True))
    union = sum(int(np.sum((r > threshold) | (c > threshold))) for r, c in zip(ref, cand, strict=True))
    return Agreement(
        metric="iou",
        value=intersection / union if union else 1.0,
        max_abs_error=_max_abs_error(ref, cand),
        details={"output_index": index, "threshold": threshold, "intersection": intersection, "union": union},
    )


def _cosine(reference: list[list[np.ndarray]], candidate: list[list[np.ndarray]]) -> Agreement:
    similarities: dict[int, float] = {}
    errors = []
    for index in _float_outputs(reference[0]):
        ref = [np.asarray(sample[index], np.float64).ravel() for sample in reference]
        cand = [np.asarray(sample[index], np.float64).ravel() for sample in candidate]
        if ref[0].size >= MIN_COSINE_ELEMENTS:
            similarities[index] = min(_cosine_of(r, c) for r, c in zip(ref, cand, strict=True))
        else:
            similarities[index] = _cosine_of(np.concatenate(ref), np.concatenate(cand))
        errors.append(_max_abs_error(ref, cand))
    if not similarities:
        return Agreement("cosine", 0.0, None, {"error": "no float output to compare"})
    return Agreement(
        metric="cosine",
        value=min(similarities.values()),
        max_abs_error=max(errors),
        details={"per_output": {str(i): v for i, v in similarities.items()}, "reduction": "min over samples"},
    )


def _cosine_of(reference: np.ndarray, candidate: np.ndarray) -> float:
    """Return the cosine similarity; two zero vectors agree fully, one zero vector not at all."""
    norms = float(np.linalg.norm(reference) * np.linalg.norm(candidate))
    if norms == 0.0:
        return 1.0 if not reference.any() and not candidate.any() else 0.0
    return float(np.clip(np.dot(reference, candidate) / norms, -1.0, 1.0))


def file_sizes(path: Path) -> tuple[int, int]:
    """Return the size of `path` on disk and its zlib-compressed size at level 6, in bytes."""
    compressor = zlib.compressobj(6)
    compressed = 0
    with Path(path).open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            compressed += len(compressor.compress(chunk))
    compressed += len(compressor.flush())
    return Path(path).stat().st_size, compressed
