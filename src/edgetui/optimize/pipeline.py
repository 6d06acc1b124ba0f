"""optimize_model: build every applicable variant of a model, measure it, recommend one per target.

Steps: inspect the model, load calibration and evaluation samples, compute the
FP32 reference outputs, then for each variant kind build it in a work folder
under the artifact store's ``tmp/``, time it and compare its outputs with FP32.
Device targets then time the candidates with their own onnxruntime. Only after
the recommendations are made do finished files move into the artifact store
(and ``--out``) and rows into the fleet database, so a failure or a crash before
that leaves nothing but a work folder that `ArtifactStore.clean_temp` removes.

Which kinds are built when ``kinds`` is None:

- ``int8-static`` only with calibration data, because random calibration
  ranges would misrepresent the activations;
- ``fp16`` only when a target has a GPU execution provider: onnxruntime's CPU
  provider runs FP16 models no faster than FP32, so on CPU-only targets it
  would only halve the file. Asking for it with ``kinds`` builds and measures
  it anyway, but it is still recommended only for GPU targets.

The accuracy budget is the fraction of disagreement with FP32 allowed: a
variant is within budget when ``1 - agreement <= accuracy_budget``, where
agreement is top-1 agreement for classifiers, IoU of the thresholded map for
detection maps and cosine similarity otherwise. The default 0.01 allows 1%.
"""

import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgetui.artifacts.records import ModelRecord, VariantRecord
from edgetui.artifacts.store import ArtifactStore, sha256_of_file
from edgetui.errors import EdgetuiError, InputError
from edgetui.optimize.recommend import ORIGINAL_KIND, Recommendation, VariantResult, recommend, runs_on
from edgetui.optimize.targets import BenchmarkFile, BenchmarkSettings, DeviceRun, Target, benchmark_on_devices

log = logging.getLogger("edgetui.optimize")

DEFAULT_ACCURACY_BUDGET = 0.01
# Evaluation samples uploaded for a device benchmark: enough to vary the
# inputs, few enough to keep the upload small.
DEVICE_SAMPLES = 4

Progress = Callable[[str, float], None]


@dataclass
class MeasureSettings:
    """Latency measurement settings, the same on the laptop and on devices."""

    threads: int = 1
    warmup: int = 3
    runs: int = 20
    repeats: int = 3


@dataclass
class DataSummary:
    """Sources of the calibration and evaluation samples."""

    calibration: str | None
    evaluation: str
    evaluation_samples: int
    random: bool
    warnings: list[str] = field(default_factory=list)


@dataclass
class OptimizeReport:
    """Everything one optimize run built, measured and recommended."""

    model: object
    """The ModelInfo of the source model."""
    reference: VariantResult
    """The source model itself, measured like a variant (kind fp32)."""
    variants: list[VariantResult]
    recommendations: dict[str, Recommendation]
    targets: list[Target]
    data: DataSummary
    accuracy_budget: float
    measure: MeasureSettings
    warnings: list[str] = field(default_factory=list)
    device_errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def device_failed(self) -> bool:
        """Tell whether a device benchmark failed (a missing onnxruntime is not a failure)."""
        return any(self.device_errors.values())


def optimize_model(
    model_path: Path,
    *,
    targets: list[Target],
    calibration: Path | None = None,
    evaluation: Path | None = None,
    use_random: bool = False,
    accuracy_budget: float = DEFAULT_ACCURACY_BUDGET,
    out_dir: Path | None = None,
    kinds: list[str] | None = None,
    threads: int = 1,
    measure: MeasureSettings | None = None,
    preprocess=None,
    progress: Progress | None = None,
    artifact_store: ArtifactStore | None = None,
    fleet_store=None,
) -> OptimizeReport:
    """Build, measure and recommend variants of ``model_path``; see the module docstring.

    Raises InputError (or a subclass) for a bad model, bad data or bad options,
    before anything is written. Variant failures and device failures end in
    the report instead.
    """
    from edgetui.optimize.model import inspect_model

    measure = measure or MeasureSettings(threads=threads)
    _check_options(accuracy_budget, measure, out_dir)
    artifact_store = artifact_store or ArtifactStore()
    report_progress = progress or (lambda step, fraction: None)

    log.info("optimizing %s for %s", model_path, ", ".join(t.name for t in targets))
    report_progress(f"inspecting {model_path}", 0.0)
    model = inspect_model(Path(model_path))
    calibration_set, evaluation_set, data = _load_data(model, calibration, evaluation, use_random, preprocess)
    plan, skipped = plan_kinds(kinds, targets, calibration_set is not None)

    artifact_store.clean_temp()
    with artifact_store.temp_dir() as work_dir:
        run = _Run(model, evaluation_set, measure, accuracy_budget, work_dir, report_progress)
        reference = run.measure_reference()
        variants = run.build_all(plan, targets, calibration_set)
        run.time_all([reference, *variants])
        report = OptimizeReport(
            model=model, reference=reference, variants=variants, recommendations={}, targets=targets,
            data=data, accuracy_budget=accuracy_budget, measure=measure, warnings=skipped,
        )
        _benchmark_devices(report, fleet_store, evaluation_set, work_dir, report_progress)
        for target in targets:
            report.recommendations[target.name] = recommend(target, variants, reference)
        report_progress("storing artifacts", 0.97)
        _commit(report, artifact_store, fleet_store, out_dir)
    report_progress("done", 1.0)
    log.info("optimized %s: %s", model.path, {name: r.kind for name, r in report.recommendations.items()})
    return report


def _check_options(accuracy_budget: float, measure: MeasureSettings, out_dir: Path | None) -> None:
    """Raise InputError for option values that cannot work."""
    if not 0.0 <= accuracy_budget < 1.0:
        raise InputError(
            f"--accuracy-budget must be from 0 to below 1 (0.01 allows 1% disagreement), not {accuracy_budget}."
        )
    if measure.threads < 1 or measure.runs < 1 or measure.warmup < 0 or measure.repeats < 1:
        raise InputError("--threads, --runs and --repeats must be at least 1, and --warmup at least 0.")
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"--out {out_dir} is a file. Give a folder for the variant files.")


def _load_data(model, calibration: Path | None, evaluation: Path | None, use_random: bool, preprocess):
    """Load calibration and evaluation samples; evaluation defaults to the calibration samples."""
    from edgetui.optimize.data import load_samples

    calibration_set = None
    if calibration is not None:
        calibration_set = load_samples(calibration, model, preprocess=preprocess)
    if evaluation is not None:
        evaluation_set = load_samples(evaluation, model, preprocess=preprocess)
    elif calibration_set is not None:
        evaluation_set = calibration_set
    else:
        evaluation_set = load_samples(None, model, use_random=use_random, preprocess=preprocess)
    if not evaluation_set.samples:
        raise InputError(f"The evaluation data {evaluation_set.source} has no samples. Give a file or folder with data.")

    warnings = list(evaluation_set.warnings)
    if calibration_set is not None and calibration_set is not evaluation_set:
        warnings += [w for w in calibration_set.warnings if w not in warnings]
    if evaluation is None and calibration_set is not None:
        warnings.append("evaluated on the calibration data; give --eval with other data for an unbiased agreement")
    data = DataSummary(
        calibration=calibration_set.source if calibration_set is not None else None,
        evaluation=evaluation_set.source,
        evaluation_samples=len(evaluation_set.samples),
        random=evaluation_set.random or bool(calibration_set and calibration_set.random),
        warnings=warnings,
    )
    return calibration_set, evaluation_set, data


def plan_kinds(kinds: list[str] | None, targets: list[Target], has_calibration: bool) -> tuple[list[str], list[str]]:
    """Return the kinds to build, in order, and a warning for each kind left out."""
    from edgetui.optimize.variants import VARIANT_KINDS

    unknown = [kind for kind in kinds or [] if kind not in VARIANT_KINDS]
    if unknown:
        raise InputError(f"Unknown variant kind {unknown[0]!r}. Choose from: {', '.join(VARIANT_KINDS)}.")
    requested = list(dict.fromkeys(kinds)) if kinds else list(VARIANT_KINDS)
    planned, skipped = [], []
    for kind in requested:
        if kind == "int8-static" and not has_calibration:
            skipped.append("int8-static skipped: it needs calibration data (--calibration)")
        elif kind == "fp16" and not kinds and not any(t.gpu_providers for t in targets):
            skipped.append("fp16 skipped: no target has a GPU execution provider (ask with --kinds fp16)")
        else:
            planned.append(kind)
    return planned, skipped


class _Run:
    """The state of one optimize run: the model, its reference outputs and the work folder."""

    def __init__(self, model, evaluation_set, measure: MeasureSettings, budget: float, work_dir: Path,
                 progress: Progress) -> None:
        self.model = model
        self.samples = evaluation_set
        self.random = evaluation_set.random
        self.measure = measure
        self.budget = budget
        self.work_dir = work_dir
        self.progress = progress
        self.reference_outputs = None

    def measure_reference(self) -> VariantResult:
        """Time the source model and keep its outputs as the FP32 reference."""
        from edgetui.optimize.measure import run_outputs

        self.progress("measuring the FP32 model", 0.05)
        self.reference_outputs = run_outputs(self.model.path, self.samples, threads=self.measure.threads)
        reference = VariantResult(kind=ORIGINAL_KIND, path=self.model.path, metric=None, agreement=1.0,
                                  max_abs_error=0.0, within_budget=True, threads=self.measure.threads)
        return reference

    def build_all(self, kinds: list[str], targets: list[Target], calibration_set) -> list[VariantResult]:
        """Build and measure each kind; ort-format once per target platform."""
        jobs = []
        for kind in kinds:
            if kind == "ort-format":
                platforms = sorted({t.platform for t in targets if t.platform})
                jobs += [(kind, platform) for platform in platforms or ["amd64"]]
            else:
                jobs.append((kind, None))
        results = []
        for index, (kind, platform) in enumerate(jobs):
            self.progress(f"building {kind}" + (f" for {platform}" if platform else ""), 0.1 + 0.8 * index / len(jobs))
            results.append(self.build_one(kind, platform, calibration_set))
        return results

    def build_one(self, kind: str, platform: str | None, calibration_set) -> VariantResult:
        """Build and measure one variant; a failure becomes a result with the error as warning."""
        from edgetui.optimize.variants import build_variant

        folder = self.work_dir / (kind if platform is None else f"{kind}-{platform}")
        folder.mkdir()
        try:
            built = build_variant(
                kind, self.model, folder,
                calibration=calibration_set,
                target_arch=platform,
                evaluate=self.evaluate,
                accuracy_budget=self.budget,
            )
        except EdgetuiError as exc:
            log.error("building %s of %s failed: %s", kind, self.model.path, exc)
            return VariantResult(kind=kind, platform=platform, error=str(exc), warnings=[f"build failed: {exc}"])
        result = VariantResult(
            kind=built.kind, path=Path(built.path), platform=platform, quantized_nodes=built.quantized_nodes,
            warnings=list(built.warnings), details=dict(built.details or {}), threads=self.measure.threads,
        )
        try:
            self._compare(result)
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types; one variant must not end the run
            log.error("measuring %s of %s failed: %s", kind, self.model.path, exc)
            result.error = f"measuring failed: {exc}"
            result.warnings.append(result.error)
        return result

    def evaluate(self, path: Path) -> float:
        """Return the agreement of a candidate file with FP32 on the evaluation samples."""
        from edgetui.optimize.measure import agreement, run_outputs

        outputs = run_outputs(path, self.samples, threads=self.measure.threads)
        return agreement(self.reference_outputs, outputs, self.model.task).value

    def _compare(self, result: VariantResult) -> None:
        """Set the agreement fields and within_budget of a built variant."""
        from edgetui.optimize.data import RANDOM_WARNING
        from edgetui.optimize.measure import agreement, run_outputs

        outputs = run_outputs(result.path, self.samples, threads=self.measure.threads)
        measured = agreement(self.reference_outputs, outputs, self.model.task)
        result.metric = measured.metric
        result.agreement = float(measured.value)
        result.max_abs_error = None if measured.max_abs_error is None else float(measured.max_abs_error)
        if measured.details:
            result.details["agreement"] = measured.details
        # A small tolerance keeps 1 - 0.99 = 0.010000000000000009 within a 0.01 budget.
        result.within_budget = (1.0 - result.agreement) <= self.budget + 1e-9
        if self.random and RANDOM_WARNING not in result.warnings:
            result.warnings.append(RANDOM_WARNING)

    def time_all(self, results: list[VariantResult]) -> None:
        """Set the file sizes and laptop latencies of every measurable result, timed interleaved."""
        from edgetui.optimize.measure import file_sizes, measure_latencies

        self.progress("timing the FP32 model and the variants", 0.9)
        timed = [result for result in results if result.path is not None and result.error is None]
        for result in timed:
            result.size_bytes, result.compressed_bytes = file_sizes(result.path)
        try:
            latencies = measure_latencies(
                [result.path for result in timed], self.samples, threads=self.measure.threads,
                warmup=self.measure.warmup, runs=self.measure.runs, repeats=self.measure.repeats,
            )
        except Exception as exc:  # noqa: BLE001 - fall back to timing each file alone
            log.error("interleaved timing of %s failed (%s); timing each file alone", self.model.path, exc)
            latencies = [None] * len(timed)
        for result, latency in zip(timed, latencies):
            if latency is None:
                latency = self._time_alone(result)
                if latency is None:
                    continue
            result.latency_ms_p50 = float(latency.p50_ms)
            result.latency_ms_p95 = float(latency.p95_ms)
            result.threads = latency.threads

    def _time_alone(self, result: VariantResult):
        """Time one file on its own; a failure marks the result as not measured."""
        from edgetui.optimize.measure import measure_latency

        try:
            return measure_latency(
                result.path, self.samples, threads=self.measure.threads,
                warmup=self.measure.warmup, runs=self.measure.runs, repeats=self.measure.repeats,
            )
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types; one variant must not end the run
            log.error("timing %s of %s failed: %s", result.kind, self.model.path, exc)
            result.error = f"measuring failed: {exc}"
            result.warnings.append(result.error)
            return None


def _benchmark_devices(report: OptimizeReport, fleet_store, evaluation_set, work_dir: Path,
                       progress: Progress) -> None:
    """Time the candidates on each device target and add the numbers to the results."""
    devices = [t for t in report.targets if t.kind == "device" and not t.onnxruntime_missing]
    if not devices:
        return
    progress(f"benchmarking on {', '.join(t.name for t in devices)}", 0.9)
    entries = {_label(v): v for v in [report.reference, *report.variants]}
    plan = {t.name: _device_files(t, report, entries) for t in devices}
    settings = BenchmarkSettings(
        threads=report.measure.threads, warmup=report.measure.warmup,
        runs=report.measure.runs, repeats=report.measure.repeats,
        samples=_samples_file(evaluation_set, work_dir),
    )
    runs: dict[str, DeviceRun] = benchmark_on_devices(fleet_store, plan, devices, settings)
    for name, run in runs.items():
        for label, latency in run.latencies.items():
            entries[label].device_latency[name] = latency
        if run.errors:
            report.device_errors[name] = run.errors


def _label(variant: VariantResult) -> str:
    """Return a name unique within a run: the kind, with the platform for ort-format."""
    return variant.kind if variant.platform is None else f"{variant.kind}[{variant.platform}]"


def _device_files(target: Target, report: OptimizeReport, entries: dict[str, VariantResult]) -> list[BenchmarkFile]:
    """List the files worth timing on a device: the source model and candidates that can run there."""
    files = []
    for label, variant in entries.items():
        if variant is not report.reference:
            if not variant.measured or not variant.within_budget or runs_on(variant, target) is not None:
                continue
        files.append(BenchmarkFile(label, Path(variant.path), sha256_of_file(variant.path)))
    return files


def _samples_file(evaluation_set, work_dir: Path) -> BenchmarkFile | None:
    """Write the first evaluation samples as an .npz (first axis = samples), or None if they differ in shape."""
    samples = evaluation_set.samples[:DEVICE_SAMPLES]
    names = list(samples[0])
    if any({name: s[name].shape for name in names} != {name: samples[0][name].shape for name in names} for s in samples):
        samples = samples[:1]
    path = work_dir / "device-samples.npz"
    np.savez(path, **{name: np.stack([s[name] for s in samples]) for name in names})
    return BenchmarkFile("samples", path, sha256_of_file(path))


def _commit(report: OptimizeReport, artifact_store: ArtifactStore, fleet_store, out_dir: Path | None) -> None:
    """Move finished files into the artifact store (and ``out_dir``), then record them in the database."""
    model = report.model
    artifact_store.add_file(model.path)
    for variant in report.variants:
        if variant.error is not None or variant.path is None:
            continue
        sha256 = artifact_store.add_file(variant.path)
        file_name = variant_file_name(model.path, variant)
        variant.details["blob_sha256"] = sha256
        variant.details["file_name"] = file_name
        if out_dir is not None:
            variant.path = _copy_atomically(artifact_store.path_for(sha256), out_dir / file_name)
        else:
            variant.path = artifact_store.named_path(sha256, file_name)
    if fleet_store is not None:
        _record(report, fleet_store)


def variant_file_name(model_path: Path, variant: VariantResult) -> str:
    """Return the file name of a variant, such as ``digits_mlp.int8-dynamic.onnx``."""
    suffix = ".ort" if Path(variant.path).suffix == ".ort" else ".onnx"
    label = variant.kind if variant.platform is None else f"{variant.kind}-{variant.platform}"
    return f"{model_path.stem}.{label}{suffix}"


def _copy_atomically(source: Path, target: Path) -> Path:
    """Copy ``source`` to ``target`` through a temporary name in the same folder."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(source, staging)
        os.replace(staging, target)
    finally:
        staging.unlink(missing_ok=True)
    return target


def _record(report: OptimizeReport, fleet_store) -> None:
    """Write the model and its measured variants to the fleet database."""
    model = report.model
    recommended: dict[int, list[str]] = {}
    for name, recommendation in report.recommendations.items():
        if recommendation.variant is not None:
            recommended.setdefault(id(recommendation.variant), []).append(name)
    records = [
        _variant_record(model.sha256, variant, report, recommended.get(id(variant), []))
        for variant in report.variants
        if variant.error is None and "blob_sha256" in variant.details
    ]
    with fleet_store.transaction():
        fleet_store.record_model(ModelRecord(
            sha256=model.sha256, name=model.path.stem, path=str(Path(model.path).resolve()),
            size_bytes=model.size_bytes, opset=model.opset, task=model.task,
        ))
        fleet_store.record_variants(model.sha256, records)


def _variant_record(model_sha256: str, variant: VariantResult, report: OptimizeReport,
                    recommended_for: list[str]) -> VariantRecord:
    details = {key: value for key, value in variant.details.items() if key not in ("blob_sha256", "file_name")}
    if variant.platform:
        details["platform"] = variant.platform
    return VariantRecord(
        model_sha256=model_sha256, kind=variant.kind,
        blob_sha256=variant.details["blob_sha256"], file_name=variant.details["file_name"],
        size_bytes=variant.size_bytes, compressed_bytes=variant.compressed_bytes,
        latency_ms_p50=variant.latency_ms_p50, latency_ms_p95=variant.latency_ms_p95,
        threads=variant.threads, device_latency=variant.device_latency,
        metric=variant.metric, agreement=variant.agreement, max_abs_error=variant.max_abs_error,
        quantized_nodes=variant.quantized_nodes, warnings=variant.warnings,
        within_budget=variant.within_budget, accuracy_budget=report.accuracy_budget,
        recommended_for=recommended_for, details=_json_safe(details),
    )


def _json_safe(value):
    """Convert numpy scalars and paths in details to plain JSON values."""
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return value
