"""Turn model and variant records into the cells, chart values and details of the Models screen.

Pure functions with no Textual imports, so the wording is tested without an app.
"""

from datetime import datetime

from edgetui.artifacts.records import ModelRecord, VariantRecord
from edgetui.tui.formatting import NO_VALUE, relative_time

MODEL_COLUMNS = (("name", "name"), ("sha256", "sha256"), ("size", "MB"), ("task", "task"),
                 ("optimized", "optimized"))
"""Key and header label of each models table column, in display order."""

VARIANT_COLUMNS = (
    ("kind", "kind"), ("size", "MB"), ("compressed", "zip MB"), ("p50", "p50 ms"), ("p95", "p95 ms"),
    ("device", "device p50"), ("agreement", "agreement"), ("quantized", "int8 ops"),
    ("warnings", "warn"), ("budget", "budget"), ("recommended", "recommended for"),
)
"""Key and header label of each variants table column, in display order."""

SHA256_SHOWN = 12
"""Hex digits of a sha256 that the models table shows."""

DEPLOY_NOTE = "Deploy: press u in the variants table to package this variant as an artifact and open the Deploy screen."
"""Hint in a variant's details on how to deploy it from the Models screen."""


def megabytes(size_bytes: int | None) -> str:
    """Format a byte count in MB (10^6 bytes) with two decimals, as `edgetui optimize` prints it."""
    return f"{size_bytes / 1e6:.2f}" if size_bytes else NO_VALUE


def milliseconds(value: float | None) -> str:
    """Format a latency in ms: two decimals, or three significant digits below 1 ms."""
    if value is None:
        return NO_VALUE
    return f"{value:.2f}" if value >= 1 else f"{value:.3g}"


def optimized_at(variants: list[VariantRecord]) -> datetime | None:
    """Return when the model's latest optimize run recorded its variants, or None without variants."""
    moments = [variant.created_at for variant in variants if variant.created_at is not None]
    return max(moments) if moments else None


def model_cells(model: ModelRecord, variants: list[VariantRecord], now: datetime) -> dict[str, str]:
    """Return the text of every models table column, keyed by column key."""
    moment = optimized_at(variants)
    return {
        "name": model.name,
        "sha256": model.sha256[:SHA256_SHOWN],
        "size": megabytes(model.size_bytes),
        "task": model.task or NO_VALUE,
        "optimized": relative_time(moment, now) if moment else "never",
    }


def variant_label(variant: VariantRecord) -> str:
    """Return the variant's kind, with the platform of an ort-format file, e.g. "ort-format (arm)"."""
    platform = variant.details.get("platform")
    return f"{variant.kind} ({platform})" if platform else variant.kind


def agreement_text(variant: VariantRecord) -> str:
    """Format the agreement with its metric, e.g. "0.8750 top1"."""
    if variant.agreement is None:
        return NO_VALUE
    return f"{variant.agreement:.4f} {variant.metric or ''}".rstrip()


def device_text(variant: VariantRecord) -> str:
    """Return the p50 of the first device that timed the variant, and how many others did."""
    if not variant.device_latency:
        return NO_VALUE
    names = sorted(variant.device_latency)
    first = variant.device_latency[names[0]]
    more = f" +{len(names) - 1}" if len(names) > 1 else ""
    return f"{names[0]} {milliseconds(first.p50_ms)}{more}"


def variant_cells(variant: VariantRecord) -> dict[str, str]:
    """Return the text of every variants table column, keyed by column key."""
    return {
        "kind": variant_label(variant),
        "size": megabytes(variant.size_bytes),
        "compressed": megabytes(variant.compressed_bytes),
        "p50": milliseconds(variant.latency_ms_p50),
        "p95": milliseconds(variant.latency_ms_p95),
        "device": device_text(variant),
        "agreement": agreement_text(variant),
        "quantized": str(variant.quantized_nodes),
        "warnings": str(len(variant.warnings)),
        "budget": "within" if variant.within_budget else "outside",
        "recommended": ", ".join(variant.recommended_for) or NO_VALUE,
    }


def variant_details(variant: VariantRecord) -> list[str]:
    """Return every measurement of a variant as lines, with each warning in full."""
    threads = "thread" if variant.threads == 1 else "threads"
    lines = [
        f"{variant_label(variant)}  {variant.file_name}",
        f"size {megabytes(variant.size_bytes)} MB, {megabytes(variant.compressed_bytes)} MB compressed",
        f"laptop p50 {milliseconds(variant.latency_ms_p50)} ms, p95 {milliseconds(variant.latency_ms_p95)} ms, "
        f"{variant.threads} {threads}",
    ]
    for name in sorted(variant.device_latency):
        latency = variant.device_latency[name]
        runtime = f", onnxruntime {latency.onnxruntime}" if latency.onnxruntime else ""
        lines.append(f"{name} p50 {milliseconds(latency.p50_ms)} ms, p95 {milliseconds(latency.p95_ms)} ms{runtime}")
    if not variant.device_latency:
        lines.append("devices: not measured (edgetui optimize --for NAME times it on a device)")
    budget = "within" if variant.within_budget else "outside"
    error = f", max abs error {variant.max_abs_error:.3g}" if variant.max_abs_error is not None else ""
    lines.append(f"agreement {agreement_text(variant)}{error}, {budget} the budget of {variant.accuracy_budget:.1%}")
    lines.append(f"quantized nodes {variant.quantized_nodes}")
    lines.append(f"recommended for {', '.join(variant.recommended_for) or 'no target'}")
    lines.append(f"warnings ({len(variant.warnings)})" + ("" if variant.warnings else ": none"))
    lines += [f"  - {warning}" for warning in variant.warnings]
    return lines


def chart_values(variants: list[VariantRecord]) -> tuple[list[str], list[float], list[float]]:
    """Return the bar labels, sizes in MB and p50 latencies in ms of the measured variants."""
    measured = [variant for variant in variants if variant.latency_ms_p50 is not None]
    labels = [variant_label(variant) for variant in measured]
    sizes = [variant.size_bytes / 1e6 for variant in measured]
    latencies = [variant.latency_ms_p50 for variant in measured]
    return labels, sizes, latencies
