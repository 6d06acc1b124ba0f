"""Helpers for the optimize CLI tests: run the command, read its JSON, list the stored state."""

import json
from pathlib import Path

from edgetui.cli import main

VARIANT_KEYS = {
    "kind", "path", "size_bytes", "compressed_bytes", "latency_ms_p50", "latency_ms_p95", "threads",
    "device_latency", "metric", "agreement", "max_abs_error", "quantized_nodes", "warnings", "within_budget",
}
TOP_KEYS = {"model", "variants", "recommended", "reasons"}
# Few timed runs: these tests check the pipeline, not the numbers.
FAST = ["--runs", "3", "--warmup", "1", "--repeats", "1"]


def run_optimize(capsys, db: Path, *argv: str) -> tuple[int, dict | None, str]:
    """Run `edgetui optimize ... --json`; return the exit status, the parsed JSON (or None) and stderr."""
    status = main(["--db", str(db), "optimize", *argv, *FAST, "--json"])
    captured = capsys.readouterr()
    report = json.loads(captured.out) if captured.out.strip() else None
    return status, report, captured.err


def check_report_shape(report: dict) -> None:
    """Assert that the JSON has every documented key, with a loadable path for each built variant."""
    assert TOP_KEYS <= set(report)
    assert {"path", "sha256", "size_bytes"} <= set(report["model"])
    for variant in report["variants"]:
        assert VARIANT_KEYS <= set(variant), variant["kind"]
        if variant["error"] is None:
            assert Path(variant["path"]).is_file(), variant["kind"]


def check_recommendations_within_budget(report: dict) -> None:
    """Assert that each recommended kind names a measured variant within the budget."""
    by_kind = {variant["kind"]: variant for variant in report["variants"]}
    for target, kind in report["recommended"].items():
        assert target in report["reasons"]
        if kind is None:
            continue
        assert by_kind[kind]["within_budget"], (target, kind)
        assert by_kind[kind]["latency_ms_p50"] is not None


def tree_listing(root: Path) -> list[str]:
    """List every path under ``root`` with file sizes, or [] when it does not exist."""
    if not root.exists():
        return []
    return sorted(
        f"{path.relative_to(root)}:{path.stat().st_size if path.is_file() else 'dir'}" for path in root.rglob("*")
    )


def load_onnx_session(path: str):
    """Open a file with onnxruntime, as a user of the JSON path would."""
    import onnxruntime

    return onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
