"""recommend() on hand-made measurements: budget, speed, GPU, memory and device rules."""

from edgetui.artifacts.records import DeviceLatency
from edgetui.domain import HardwareFacts, OnnxRuntimeInfo
from edgetui.optimize.recommend import VariantResult, recommend
from edgetui.optimize.targets import Target

MB = 1_000_000


def variant(kind, p50, *, size=4 * MB, agreement=1.0, within=True, platform=None, device=None):
    """Build a measured variant; ``device`` maps a target name to its p50 there."""
    result = VariantResult(
        kind=kind, path=f"/tmp/{kind}.onnx", size_bytes=size, compressed_bytes=size,
        latency_ms_p50=p50, latency_ms_p95=p50 * 1.1, metric="top1", agreement=agreement,
        max_abs_error=0.0, within_budget=within, platform=platform,
    )
    for name, device_p50 in (device or {}).items():
        result.device_latency[name] = DeviceLatency(p50_ms=device_p50, p95_ms=device_p50, threads=1, runs=5)
    return result


def reference(p50=5.0, device=None):
    return variant("fp32", p50, size=7 * MB, device=device)


def target(name="laptop", kind="laptop", *, arch="x86_64", flags=("avx2", "avx512_vnni"),
           providers=("CPUExecutionProvider",), memory=None):
    facts = HardwareFacts(
        arch=arch, cpu_cores=4, cpu_flags=list(flags), mem_total_mb=memory,
        onnxruntime=OnnxRuntimeInfo(version="1.32.0", providers=list(providers)),
    )
    return Target(name=name, kind=kind, facts=facts)


def test_fastest_outside_budget_not_chosen():
    variants = [
        variant("fp32-optimized", 4.6, size=7 * MB),
        variant("int8-static", 4.1, size=2 * MB, agreement=0.98, within=False),
        variant("int8-dynamic", 4.3, size=3 * MB, agreement=0.995),
    ]

    chosen = recommend(target(), variants, reference())

    assert chosen.kind == "int8-dynamic"
    assert chosen.variant.within_budget
    assert chosen.variant.agreement >= 0.99


def test_int8_slower_than_fp32_not_chosen():
    variants = [
        variant("fp32-optimized", 4.6, size=7 * MB),
        variant("int8-dynamic", 30.6, size=2 * MB),
    ]

    chosen = recommend(target(), variants, reference())

    assert chosen.kind == "fp32-optimized"


def test_never_slower_than_fp32_optimized():
    variants = [variant("fp32-optimized", 4.0), variant("int8-static", 4.1, size=2 * MB)]

    chosen = recommend(target(), variants, reference(5.0))

    # int8-static is within 5% of the fastest and smaller, but slower than fp32-optimized.
    assert chosen.kind == "fp32-optimized"


def test_fp16_only_with_gpu_provider():
    variants = [variant("fp32-optimized", 4.6), variant("fp16", 1.0, size=3 * MB)]
    cpu_only = target("pi", "profile", arch="aarch64", flags=("asimd",))
    gpu = target("jetson", "profile", arch="aarch64",
                 providers=("CUDAExecutionProvider", "CPUExecutionProvider"))

    assert recommend(cpu_only, variants, reference()).kind == "fp32-optimized"
    assert recommend(gpu, variants, reference()).kind == "fp16"


def test_too_little_memory_excludes_variant():
    variants = [
        variant("fp32-optimized", 4.6, size=40 * MB),
        variant("int8-static", 4.1, size=10 * MB),
    ]
    small = target("tiny", "profile", memory=60)

    chosen = recommend(small, variants, reference())

    # 40 MB needs about 2 * 38 + 32 MiB; 10 MB needs about 51 MiB, which fits.
    assert chosen.kind == "int8-static"
    assert recommend(target("tinier", "profile", memory=40), variants, reference()).kind is None


def test_int8_without_dot_product_needs_device_numbers():
    variants = [variant("fp32-optimized", 4.6), variant("int8-static", 4.1, size=2 * MB)]
    pi = target("pi", "profile", arch="aarch64", flags=("asimd",))

    chosen = recommend(pi, variants, reference())

    assert chosen.kind == "fp32-optimized"
    assert "laptop numbers do not carry over" in chosen.reason


def test_device_numbers_decide_when_measured():
    variants = [
        variant("fp32-optimized", 4.6, device={"pi": 20.0}),
        variant("int8-static", 4.1, size=2 * MB, device={"pi": 25.0}),
    ]
    pi = target("pi", "device", arch="aarch64", flags=("asimd",))

    chosen = recommend(pi, variants, reference(device={"pi": 21.0}))

    assert chosen.kind == "fp32-optimized"
    assert chosen.source == "device"
    assert "on device pi" in chosen.reason
    assert "measured on the device" in chosen.reason


def test_int8_faster_on_device_recommended():
    variants = [
        variant("fp32-optimized", 4.6, device={"pi": 20.0}),
        variant("int8-static", 4.1, size=2 * MB, device={"pi": 12.0}),
    ]
    pi = target("pi", "device", arch="aarch64", flags=("asimd",))

    chosen = recommend(pi, variants, reference(device={"pi": 21.0}))

    assert chosen.kind == "int8-static"
    assert "12.00 ms vs 20.00 ms" in chosen.reason


def test_tie_prefers_smaller_file():
    variants = [variant("fp32-optimized", 4.10, size=7 * MB), variant("int8-static", 4.15, size=2 * MB)]

    # fp32-optimized is the baseline, so int8-static (slower by 1%) is excluded...
    assert recommend(target(), variants, reference()).kind == "fp32-optimized"

    variants = [variant("fp32-optimized", 4.6, size=7 * MB), variant("int8-static", 4.10, size=2 * MB),
                variant("int8-dynamic", 4.00, size=3 * MB)]
    # ...while among faster variants a 2.5% difference is a tie, won by the smaller file.
    assert recommend(target(), variants, reference()).kind == "int8-static"


def test_ort_format_needs_matching_platform():
    variants = [variant("fp32-optimized", 4.6), variant("ort-format", 3.0, platform="amd64")]

    assert recommend(target(), variants, reference()).kind == "ort-format"
    arm = target("pi", "profile", arch="aarch64", flags=("asimddp",))
    assert recommend(arm, variants, reference()).kind == "fp32-optimized"


def test_failed_variant_never_recommended():
    broken = VariantResult(kind="int8-static", error="build failed: no nodes", warnings=["build failed"])
    variants = [variant("fp32-optimized", 4.6), broken]

    assert recommend(target(), variants, reference()).kind == "fp32-optimized"


def test_nothing_within_budget_keeps_original():
    variants = [variant("int8-dynamic", 3.0, agreement=0.55, within=False)]

    chosen = recommend(target(), variants, reference())

    assert chosen.kind is None
    assert "keep the original model" in chosen.reason
    assert "outside the accuracy budget" in chosen.reason


def test_nothing_slower_than_original_model():
    variants = [variant("fp32-optimized", 4.0), variant("int8-static", 3.8, size=2 * MB)]

    chosen = recommend(target(), variants, reference(3.5))

    assert chosen.kind is None
    assert "slower than the original FP32 model" in chosen.reason


def test_no_clear_gain_keeps_original():
    # Pruning shrinks only the compressed file and runs no faster on dense
    # kernels: within noise of FP32 and 2% smaller is no reason to change the model.
    variants = [
        variant("fp32-optimized", 5.0, size=7 * MB),
        variant("pruned-40", 4.9, size=int(6.86 * MB), agreement=0.994),
    ]

    chosen = recommend(target(), variants, reference(5.0))

    assert chosen.kind is None
    assert "no clear gain" in chosen.reason


def test_much_smaller_at_same_speed_is_a_gain():
    variants = [
        variant("fp32-optimized", 5.0, size=7 * MB),
        variant("int8-static", 4.9, size=2 * MB),
    ]

    chosen = recommend(target(), variants, reference(5.0))

    assert chosen.kind == "int8-static"
