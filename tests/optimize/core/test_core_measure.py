"""Agreement metrics on arrays with known results, latency and file sizes on a real model."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from edgetui.optimize.measure import agreement, file_sizes, measure_latencies, measure_latency, run_outputs

from .conftest import SAMPLE_MODELS, VAD_FLAT


def scores(rows):
    return [[np.asarray([row], np.float32)] for row in rows]


def test_top1_identical_is_one():
    reference = scores([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1]])
    result = agreement(reference, reference, "classifier")

    assert result.metric == "top1"
    assert result.value == 1.0
    assert result.max_abs_error == 0.0


def test_top1_permuted_labels_is_zero():
    reference = scores([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.0, 0.2, 0.7]])
    permuted = [[sample[0][:, [2, 0, 1]]] for sample in reference]
    result = agreement(reference, permuted, "classifier")

    assert result.value == 0.0


def test_top1_half_matching():
    reference = scores([[0.9, 0.1], [0.9, 0.1]])
    candidate = scores([[0.8, 0.2], [0.1, 0.9]])
    result = agreement(reference, candidate, "classifier")

    assert result.value == 0.5
    assert result.max_abs_error == pytest.approx(0.8)


def test_top1_skips_integer_label_output():
    reference = [[np.asarray([1], np.int64), np.asarray([[0.2, 0.8]], np.float32)]]
    candidate = [[np.asarray([0], np.int64), np.asarray([[0.3, 0.7]], np.float32)]]
    result = agreement(reference, candidate, "classifier")

    assert result.value == 1.0
    assert result.details["output_index"] == 1


def test_cosine_identical_and_opposite():
    vector = [[np.arange(1, 17, dtype=np.float32)]]
    opposite = [[-np.arange(1, 17, dtype=np.float32)]]

    assert agreement(vector, vector, "generic").value == pytest.approx(1.0)
    assert agreement(vector, opposite, "generic").value == pytest.approx(-1.0)


def test_cosine_takes_minimum_over_samples():
    base = np.ones(16, np.float32)
    orthogonal = np.concatenate([np.ones(8), -np.ones(8)]).astype(np.float32)
    reference = [[base], [base]]
    candidate = [[base], [orthogonal]]
    result = agreement(reference, candidate, "generic")

    assert result.metric == "cosine"
    assert result.value == pytest.approx(0.0)
    assert result.max_abs_error == pytest.approx(2.0)


def test_cosine_pools_scalar_outputs():
    reference = [[np.asarray([[p]], np.float32)] for p in (0.9, 0.1, 0.8)]
    candidate = [[np.asarray([[p]], np.float32)] for p in (0.1, 0.9, 0.8)]
    result = agreement(reference, candidate, "generic")
    expected = (0.9 * 0.1 + 0.1 * 0.9 + 0.8 * 0.8) / (0.9**2 + 0.1**2 + 0.8**2)

    assert result.value == pytest.approx(expected, rel=1e-5)


def test_iou_of_thresholded_maps():
    reference = np.zeros((1, 1, 4, 4), np.float32)
    reference[0, 0, :2, :] = 0.9
    candidate = np.zeros((1, 1, 4, 4), np.float32)
    candidate[0, 0, 1:3, :] = 0.9
    result = agreement([[reference]], [[candidate]], "detection-map", iou_threshold=0.3)

    assert result.metric == "iou"
    assert result.value == pytest.approx(4 / 12)
    assert agreement([[reference]], [[reference]], "detection-map").value == 1.0


def test_iou_of_two_empty_maps_is_one():
    empty = np.zeros((1, 1, 4, 4), np.float32)

    assert agreement([[empty]], [[empty]], "detection-map").value == 1.0


def test_shape_mismatch_scores_zero():
    result = agreement(scores([[0.1, 0.9]]), scores([[0.1, 0.9, 0.0]]), "classifier")

    assert result.value == 0.0
    assert "output shapes" in result.details["error"]


def test_latency_positive_and_ordered(sample_sets):
    latency = measure_latency(SAMPLE_MODELS / f"{VAD_FLAT}.onnx", sample_sets[VAD_FLAT]["evaluation"], warmup=2, runs=10, repeats=3)

    assert latency.p50_ms > 0
    assert latency.p95_ms >= latency.p50_ms
    assert latency.threads == 1
    assert (latency.runs, latency.warmup, latency.repeats) == (10, 2, 3)


def test_interleaved_latencies_one_per_file(sample_sets):
    vad = SAMPLE_MODELS / f"{VAD_FLAT}.onnx"
    vad_samples = sample_sets[VAD_FLAT]["evaluation"]

    # More repeats than files, so the rotation of the timing order wraps around.
    latencies = measure_latencies([vad, vad], vad_samples, warmup=1, runs=5, repeats=4)

    assert len(latencies) == 2
    for latency in latencies:
        assert latency.p50_ms > 0
        assert latency.p95_ms >= latency.p50_ms
        assert (latency.runs, latency.warmup, latency.repeats) == (5, 1, 4)


def test_interleaved_latencies_need_samples(sample_sets):
    empty = type(sample_sets[VAD_FLAT]["evaluation"])(samples=[], source="none", random=False, warnings=[])

    with pytest.raises(ValueError):
        measure_latencies([SAMPLE_MODELS / f"{VAD_FLAT}.onnx"], empty)


def test_run_outputs_one_list_per_sample(sample_sets):
    samples = sample_sets[VAD_FLAT]["evaluation"]
    outputs = run_outputs(SAMPLE_MODELS / f"{VAD_FLAT}.onnx", samples)

    assert len(outputs) == len(samples.samples)
    assert [o.shape for o in outputs[0]] == [(1, 1), (2, 1, 128)]


def test_file_sizes_match_zlib(tmp_path):
    path = tmp_path / "blob.bin"
    data = bytes(range(256)) * 1000 + b"\0" * 100_000
    path.write_bytes(data)
    size, compressed = file_sizes(path)

    assert size == len(data)
    assert compressed == len(zlib.compress(data, 6))
