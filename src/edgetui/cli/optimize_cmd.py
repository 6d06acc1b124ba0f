"""The `edgetui optimize` command: options, progress on stderr, and the report as text or JSON.

This module imports nothing heavy at import time, because main.py imports it
to build the parser; onnxruntime loads only when the command runs.
"""

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger("edgetui.cli")

EXIT_OK = 0
EXIT_DEVICE_FAILED = 1


def add_optimize_parser(commands) -> None:
    """Add the `optimize` subcommand and its options to the subparsers ``commands``."""
    optimize = commands.add_parser(
        "optimize",
        help="build quantized, pruned and converted variants of an ONNX model, measure them "
        "and recommend one per target",
        description="Build variants of MODEL in the local artifact store, measure size, latency "
        "and agreement with FP32, and recommend the fastest variant within the accuracy budget "
        "for each target. Progress goes to stderr.",
    )
    optimize.add_argument("model", type=Path, metavar="MODEL.onnx")
    optimize.add_argument(
        "--for", dest="targets", action="append", default=[], metavar="NAME|PROFILE",
        help="recommend for this fleet device (benchmarked there over SSH), sample fleet profile "
        "name or profile folder; repeatable (default: this machine, named laptop)",
    )
    _add_data_options(optimize)
    _add_measure_options(optimize)
    optimize.add_argument(
        "--out", type=Path, metavar="DIR",
        help="also copy the variant files here; JSON paths then point here instead of the artifact store",
    )
    optimize.add_argument("--json", action="store_true", help="print the report as one JSON object")


def _add_data_options(optimize) -> None:
    """Add the options that choose calibration, evaluation and preprocessing."""
    optimize.add_argument(
        "--calibration", type=Path, metavar="PATH",
        help="calibration data: .npz with one array per input name (first axis = samples), a folder "
        "of .npy/.npz tensors, images or .wav files; needed for int8-static",
    )
    optimize.add_argument(
        "--eval", dest="evaluation", type=Path, metavar="PATH",
        help="evaluation data in the same forms (default: the calibration data)",
    )
    optimize.add_argument(
        "--random-inputs", action="store_true",
        help="evaluate on random inputs when no data is given; accuracy is then not measured",
    )
    optimize.add_argument(
        "--preprocess", type=Path, metavar="TOML",
        help="image or audio preprocessing settings (default: MODEL.preprocess.toml beside the model)",
    )


def _add_measure_options(optimize) -> None:
    """Add the options of the budget, the kinds and the latency measurement."""
    optimize.add_argument(
        "--accuracy-budget", type=float, default=0.01, metavar="X",
        help="fraction of disagreement with FP32 allowed, 0.01 = 1%% (default: 0.01)",
    )
    optimize.add_argument(
        "--kinds", nargs="+", metavar="KIND",
        help="variant kinds to build: fp32-optimized ort-format int8-dynamic int8-static pruned fp16 "
        "(default: every kind that applies)",
    )
    optimize.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads (default: 1)")
    optimize.add_argument("--runs", type=int, default=20, help="timed runs per repeat (default: 20)")
    optimize.add_argument("--warmup", type=int, default=3, help="untimed runs before the timed ones (default: 3)")
    optimize.add_argument("--repeats", type=int, default=3, help="repeats; the median is reported (default: 3)")
    optimize.add_argument(
        "--connect-timeout", type=float, default=10.0,
        help="seconds to wait for each device's SSH handshake (default: 10)",
    )


def run_optimize(db_path: Path, args: argparse.Namespace) -> int:
    """Run `edgetui optimize` and return the exit status: 0, or 1 when a device benchmark failed."""
    from edgetui.artifacts import ArtifactStore
    from edgetui.optimize.pipeline import MeasureSettings, optimize_model
    from edgetui.optimize.targets import resolve_targets
    from edgetui.store import FleetStore

    preprocess = _load_preprocess(args.preprocess)
    store = FleetStore(db_path)
    try:
        targets = resolve_targets(args.targets, store)
        report = optimize_model(
            args.model,
            targets=targets,
            calibration=args.calibration,
            evaluation=args.evaluation,
            use_random=args.random_inputs,
            accuracy_budget=args.accuracy_budget,
            out_dir=args.out,
            kinds=args.kinds,
            threads=args.threads,
            measure=MeasureSettings(args.threads, args.warmup, args.runs, args.repeats),
            preprocess=preprocess,
            progress=_print_progress,
            artifact_store=ArtifactStore(),
            fleet_store=store,
        )
    finally:
        store.close()

    if args.json:
        from edgetui.cli.output import print_json

        print_json(report_json(report))
    else:
        _print_report(report)
    for name, errors in report.device_errors.items():
        for error in errors:
            print(f"edgetui: device benchmark on {name} failed: {error}", file=sys.stderr)
    return EXIT_DEVICE_FAILED if report.device_failed else EXIT_OK


def _load_preprocess(path: Path | None):
    """Read --preprocess when given."""
    if path is None:
        return None
    from edgetui.optimize.data import load_preprocess

    return load_preprocess(path)


def _print_progress(step: str, fraction: float) -> None:
    print(f"[{fraction * 100:3.0f}%] {step}", file=sys.stderr, flush=True)


def report_json(report) -> dict[str, Any]:
    """Return the report as the `--json` object."""
    model = report.model
    return {
        "model": {
            "path": str(model.path), "sha256": model.sha256, "size_bytes": model.size_bytes,
            "opset": model.opset, "task": model.task,
        },
        "reference": _variant_json(report.reference),
        "variants": [_variant_json(variant) for variant in report.variants],
        "recommended": {name: rec.kind for name, rec in report.recommendations.items()},
        "reasons": {name: rec.reason for name, rec in report.recommendations.items()},
        "recommended_paths": {
            name: str(rec.variant.path) if rec.variant is not None else None
            for name, rec in report.recommendations.items()
        },
        "targets": [_target_json(target) for target in report.targets],
        "data": {
            "calibration": report.data.calibration,
            "evaluation": report.data.evaluation,
            "evaluation_samples": report.data.evaluation_samples,
            "random_inputs": report.data.random,
            "warnings": report.data.warnings,
        },
        "accuracy_budget": report.accuracy_budget,
        "warnings": report.warnings,
        "device_errors": report.device_errors,
    }


def _variant_json(variant) -> dict[str, Any]:
    return {
        "kind": variant.kind,
        "path": str(variant.path) if variant.path is not None and variant.error is None else None,
        "platform": variant.platform,
        "size_bytes": variant.size_bytes,
        "compressed_bytes": variant.compressed_bytes,
        "latency_ms_p50": variant.latency_ms_p50,
        "latency_ms_p95": variant.latency_ms_p95,
        "threads": variant.threads,
        "device_latency": {name: value.model_dump() for name, value in variant.device_latency.items()},
        "metric": variant.metric,
        "agreement": variant.agreement,
        "max_abs_error": variant.max_abs_error,
        "quantized_nodes": variant.quantized_nodes,
        "warnings": variant.warnings,
        "within_budget": variant.within_budget,
        "error": variant.error,
    }


def _target_json(target) -> dict[str, Any]:
    facts = target.facts
    return {
        "name": target.name,
        "kind": target.kind,
        "arch": facts.arch if facts else None,
        "cpu_cores": facts.cpu_cores if facts else None,
        "memory_mb": target.memory_mb,
        "int8_dot_product": target.has_int8_dot_product,
        "providers": target.providers,
        "caveats": target.caveats,
    }


def _print_report(report) -> None:
    """Print the variants as a table, then their warnings and the recommendations."""
    from rich.console import Console
    from rich.table import Table

    # Warnings are long sentences, so they go under the table with a note
    # number rather than in a column that would wrap every row.
    # One space between columns keeps the table inside 80 columns.
    table = Table(box=None, header_style="bold", pad_edge=False, padding=(0, 1))
    columns = ("variant", "MB", "zip MB", "p50 ms", "p95 ms", "agreement", "int8 ops",
               "budget", "notes")
    for column in columns:
        table.add_column(column, no_wrap=True)
    notes: list[str] = []
    for variant in [report.reference, *report.variants]:
        numbers = []
        for warning in variant.warnings:
            notes.append(f"{variant.kind}: {warning}")
            numbers.append(str(len(notes)))
        table.add_row(
            variant.kind + (f" ({variant.platform})" if variant.platform else ""),
            _megabytes(variant.size_bytes), _megabytes(variant.compressed_bytes),
            _number(variant.latency_ms_p50), _number(variant.latency_ms_p95),
            _number(variant.agreement, 4),
            str(variant.quantized_nodes),
            "within" if variant.within_budget else "OUTSIDE",
            ",".join(numbers),
        )

    console = Console()
    console.print(table)
    metric = next((v.metric for v in report.variants if v.metric), None)
    if metric:
        console.print(f"agreement: {metric} against the FP32 model on the evaluation data", markup=False)
    for number, note in enumerate(notes, start=1):
        console.print(f"[{number}] {note}", markup=False)
    console.print()
    for name, recommendation in report.recommendations.items():
        console.print(f"{name}: {recommendation.kind or 'keep the original model'} - {recommendation.reason}",
                      markup=False)
    for warning in report.warnings + report.data.warnings:
        console.print(f"warning: {warning}", markup=False)


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.2f}" if size else "-"


def _number(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
