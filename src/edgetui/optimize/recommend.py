"""Choose one variant per target from the measurements, and record the reason.

Rules, in order:

1. Only variants that were built, measured and are within the accuracy budget.
2. Only variants that run on the target: fp16 needs a GPU execution provider
   (CUDA, TensorRT, ROCm, MIGraphX or DirectML), ort-format needs a file
   converted for the target's platform, and the variant must fit in memory.
3. Latencies come from the target itself when it benchmarked the variants,
   otherwise from the laptop, and the reason says which.
4. INT8 variants on a CPU without 8-bit dot product instructions (VNNI on x86,
   asimddp on ARM) are recommended only from the target's own numbers, because
   the laptop's INT8 speed-up does not carry over to such a CPU.
5. Never a variant slower than fp32-optimized or the original FP32 model,
   whichever was faster on the same machine.
6. Only a clear gain over the original model: more than 5% faster than it on
   the same machine, or a file at least 25% smaller. A variant that
   only matches FP32 within measurement noise changes the model for nothing.
7. The fastest remains; among variants within 5% of the fastest, the smallest
   file wins (sizes within 5% tie), then the higher agreement.
"""

from dataclasses import dataclass, field
from typing import Any

from edgetui.artifacts.records import DeviceLatency
from edgetui.optimize.targets import Target

BASELINE_KIND = "fp32-optimized"
ORIGINAL_KIND = "fp32"
INT8_KINDS = ("int8-dynamic", "int8-static")
# Latencies within this fraction of the fastest count as a tie.
TIE_FRACTION = 0.05
# A variant no faster than FP32 must shrink the file at least this much to be worth deploying.
MIN_SIZE_GAIN = 0.25


@dataclass
class VariantResult:
    """One variant as built and measured; ``path`` is where it can be loaded right now."""

    kind: str
    path: Any = None
    size_bytes: int = 0
    compressed_bytes: int = 0
    latency_ms_p50: float | None = None
    latency_ms_p95: float | None = None
    threads: int = 1
    device_latency: dict[str, DeviceLatency] = field(default_factory=dict)
    metric: str | None = None
    agreement: float | None = None
    max_abs_error: float | None = None
    quantized_nodes: int = 0
    warnings: list[str] = field(default_factory=list)
    within_budget: bool = False
    platform: str | None = None
    """Platform an ort-format file was converted for: amd64 or arm."""
    error: str | None = None
    """Error message of a failed build or measurement; such a variant is never recommended."""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def measured(self) -> bool:
        """Tell whether the variant was built and timed on the laptop."""
        return self.error is None and self.latency_ms_p50 is not None


@dataclass
class Recommendation:
    """The variant chosen for one target, or None, with the reason in a sentence."""

    target: str
    kind: str | None
    reason: str
    variant: VariantResult | None = None
    source: str = "laptop"
    """Machine of the compared latencies: laptop or device."""


def recommend(
    target: Target,
    variants: list[VariantResult],
    reference: VariantResult,
) -> Recommendation:
    """Return the recommendation for ``target`` following the rules of the module docstring.

    ``reference`` is the original FP32 model as measured; it is part of the baseline.
    """
    on_device = any(target.name in variant.device_latency for variant in variants)
    source = "device" if on_device else "laptop"
    excluded: list[str] = []
    candidates = [v for v in variants if _usable(v, target, on_device, excluded)]

    baseline_name, baseline_ms = _baseline(target, variants, reference, on_device)
    if baseline_ms is not None:
        slower = [v for v in candidates if _latency(v, target, on_device) > baseline_ms]
        excluded += [f"{v.kind}: slower than {baseline_name}" for v in slower]
        candidates = [v for v in candidates if v not in slower]
        no_gain = [v for v in candidates if not _clear_gain(v, target, on_device, baseline_ms, reference)]
        excluded += [
            f"{v.kind}: no clear gain (within {TIE_FRACTION:.0%} of the original model's "
            f"latency and less than {MIN_SIZE_GAIN:.0%} smaller)"
            for v in no_gain
        ]
        candidates = [v for v in candidates if v not in no_gain]

    if not candidates:
        reason = (
            f"no variant within the accuracy budget runs on {target.describe()} at least as fast "
            f"as {baseline_name}; keep the original model"
        )
        if excluded:
            reason += " (" + "; ".join(excluded) + ")"
        reason += f"; measured on the {'device' if on_device else 'laptop'}"
        return Recommendation(target.name, None, _with_caveats(reason, target, on_device), None, source)

    chosen = _pick(candidates, target, on_device)
    return Recommendation(
        target.name, chosen.kind, _reason(chosen, target, on_device, baseline_name, baseline_ms), chosen, source
    )


def _clear_gain(
    variant: VariantResult, target: Target, on_device: bool, baseline_ms: float, reference: VariantResult
) -> bool:
    """Tell whether the variant is clearly faster or clearly smaller than the original model."""
    if variant.size_bytes <= reference.size_bytes * (1 - MIN_SIZE_GAIN):
        return True
    if on_device:
        measured = reference.device_latency.get(target.name)
        original_ms = measured.p50_ms if measured else None
    else:
        original_ms = reference.latency_ms_p50
    if original_ms is None:
        # Without the original's number, passing rule 5 against the baseline is all we know.
        original_ms = baseline_ms
    return _latency(variant, target, on_device) < original_ms * (1 - TIE_FRACTION)


def _usable(variant: VariantResult, target: Target, on_device: bool, excluded: list[str]) -> bool:
    """Tell whether the variant may be recommended for the target; record why not."""
    problem = None
    if not variant.measured:
        problem = "not measured" + (f" ({variant.error})" if variant.error else "")
    elif not variant.within_budget:
        problem = f"outside the accuracy budget ({variant.metric} agreement {variant.agreement:.4f})"
    elif on_device and target.name not in variant.device_latency:
        problem = "not measured on the device"
    elif variant.kind in INT8_KINDS and not on_device and not target.has_int8_dot_product:
        problem = "INT8 without VNNI or dot product instructions is recommended only from numbers measured there"
    else:
        problem = runs_on(variant, target)
    if problem is not None:
        excluded.append(f"{variant.kind}: {problem}")
    return problem is None


def runs_on(variant: VariantResult, target: Target) -> str | None:
    """Return why the variant cannot run on the target, or None when it can."""
    if variant.kind == "fp16" and not target.gpu_providers:
        return "fp16 needs a GPU execution provider, and the target has none"
    if variant.kind == "ort-format" and variant.platform != target.platform:
        return f"converted for {variant.platform}, the target is {target.platform or 'of unknown platform'}"
    if not target.fits(variant.size_bytes):
        needed = target.memory_needed_mb(variant.size_bytes)
        return f"needs about {needed} MiB of memory, the target has {target.memory_mb} MiB"
    return None


def _latency(variant: VariantResult, target: Target, on_device: bool) -> float:
    """Return the p50 latency to compare: the target's own when it measured, else the laptop's."""
    if on_device:
        return variant.device_latency[target.name].p50_ms
    return variant.latency_ms_p50


def _baseline(
    target: Target, variants: list[VariantResult], reference: VariantResult, on_device: bool
) -> tuple[str, float | None]:
    """Return the name and latency that a recommended variant must not exceed.

    That is the faster of fp32-optimized and the original FP32 model, each
    only when it was measured where the comparison is made.
    """
    measured = []
    for variant in variants:
        if variant.kind == BASELINE_KIND and variant.measured:
            if not on_device or target.name in variant.device_latency:
                measured.append(("FP32 (fp32-optimized)", _latency(variant, target, on_device)))
    if on_device and target.name in reference.device_latency:
        measured.append(("the original FP32 model", reference.device_latency[target.name].p50_ms))
    if not on_device and reference.latency_ms_p50 is not None:
        measured.append(("the original FP32 model", reference.latency_ms_p50))
    if not measured:
        return "FP32", None
    return min(measured, key=lambda item: item[1])


def _pick(candidates: list[VariantResult], target: Target, on_device: bool) -> VariantResult:
    """Return the fastest candidate; among ties, the smaller file, then the higher agreement.

    Latencies within TIE_FRACTION of the fastest tie, and so do sizes within
    TIE_FRACTION of the smallest: a pruned file a few bytes smaller than
    fp32-optimized does not win on size alone.
    """
    fastest = min(_latency(v, target, on_device) for v in candidates)
    tied = [v for v in candidates if _latency(v, target, on_device) <= fastest * (1 + TIE_FRACTION)]
    smallest = min(v.size_bytes for v in tied)
    small = [v for v in tied if v.size_bytes <= smallest * (1 + TIE_FRACTION)]
    return min(small, key=lambda v: (-(v.agreement or 0.0), _latency(v, target, on_device)))


def _reason(
    chosen: VariantResult, target: Target, on_device: bool, baseline_name: str, baseline_ms: float | None
) -> str:
    """Write the sentence that explains the choice, with the numbers it rests on."""
    latency = _latency(chosen, target, on_device)
    if on_device:
        where = f"on device {target.name}"
    elif target.is_laptop:
        where = f"on the laptop {target.describe().removeprefix(target.name).strip()}"
    else:
        where = f"for {target.describe()}"
    text = f"fastest within budget {where}: {format_ms(latency)}"
    if baseline_ms is not None and latency != baseline_ms:
        text += f" vs {format_ms(baseline_ms)} {baseline_name}"
    if chosen.agreement is not None:
        text += f", {chosen.metric} agreement {chosen.agreement:.4f}"
    text += f", {chosen.size_bytes / 1e6:.2f} MB"
    threads = chosen.device_latency[target.name].threads if on_device else chosen.threads
    plural = "" if threads == 1 else "s"
    text += f"; measured on the {'device' if on_device else 'laptop'} with {threads} thread{plural}"
    return _with_caveats(text, target, on_device)


def format_ms(value: float) -> str:
    """Format a latency with two decimals, or three significant digits below 1 ms."""
    return f"{value:.2f} ms" if value >= 1 else f"{value:.3g} ms"


def _with_caveats(text: str, target: Target, on_device: bool) -> str:
    """Append what limits the reason: laptop numbers for another machine, unknown facts."""
    caveats = list(target.caveats)
    if not on_device and not target.is_laptop:
        caveats.append("laptop numbers do not carry over to another CPU; benchmark on the device with --for NAME")
    if caveats:
        text += ". Note: " + "; ".join(caveats)
    return text
