"""CPU model, logical core count, clusters and the instruction-set flags that matter for inference."""

import re

from device_shim.facts.arm_parts import core_name
from device_shim.facts.cpuinfo import load_cpuinfo
from device_shim.facts.textparse import parse_ranges
from device_shim.facts.tools import lscpu_pairs

# Generic names that 32-bit ARM and early arm64 kernels print for every core.
# The MIDR part number names the core better: a Raspberry Pi 3 in 32-bit mode
# prints `ARMv7 Processor rev 4 (v7l)` for a Cortex-A53.
GENERIC_ARM_NAME = re.compile(r"^(ARMv\d|AArch64 Processor)", re.IGNORECASE)

X86_FLAGS = frozenset(["avx", "avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "fma", "f16c", "sse4_2"])
ARM_FLAGS = frozenset(["neon", "asimd", "asimddp", "asimdhp", "sve", "sve2", "i8mm", "bf16", "vfpv4", "fp16"])
# arm64 calls scalar half-precision `fphp`; the reply uses the common name fp16.
FLAG_ALIASES = {"fphp": "fp16"}


def _clean(value):
    return " ".join((value or "").split()) or None


def block_core_name(info, block):
    """Return the name of one CPU block: model name, ARM part name, MIPS or RISC-V model."""
    part = core_name(
        block.get("cpu implementer") or info.globals.get("cpu implementer"),
        block.get("cpu part") or info.globals.get("cpu part"),
    )
    model = _clean(
        block.get("model name")
        or block.get("cpu model")
        or block.get("uarch")
        or info.globals.get("model name")
        or info.globals.get("processor")
        or info.globals.get("cpu model")
    )
    if part and (not model or GENERIC_ARM_NAME.match(model)):
        return part
    return model or part or _clean(block.get("isa"))


def core_names(info):
    """Return (cpu number, core name) for each CPU block of /proc/cpuinfo."""
    return [(int(block["processor"]), block_core_name(info, block)) for block in info.blocks]


def collect_cpu_model(ctx):
    """Return the CPU model; big.LITTLE parts join their core names with ` + `."""
    info = load_cpuinfo(ctx)
    names = []
    if info is not None:
        for _, name in core_names(info):
            if name and name not in names:
                names.append(name)
        if not names:
            # No per-CPU blocks: a global `Processor` or MIPS `cpu model` line.
            name = _clean(info.get("model name") or info.globals.get("processor") or info.get("cpu model"))
            if name:
                names.append(name)
    if not names:
        name = _clean(lscpu_pairs(ctx).get("model name"))
        if name:
            names.append(name)
    return {"cpu_model": " + ".join(names) if names else None}


def present_cpus(ctx):
    """Return the CPU numbers from sysfs `present`, else `online`, or None."""
    for name in ("present", "online"):
        numbers = parse_ranges(ctx.read_value("/sys/devices/system/cpu/" + name))
        if numbers:
            return numbers
    return None


def _siblings(info):
    """Return the largest `siblings` count (logical CPUs of one x86 package), or 0."""
    counts = [block.get("siblings", "").strip() for block in info.blocks]
    return max([int(count) for count in counts if count.isdigit()] + [0])


def collect_cpu_cores(ctx):
    """Return the logical CPU count: cpuinfo blocks, sysfs ranges, lscpu, then `nproc`."""
    info = load_cpuinfo(ctx)
    if info is not None and info.blocks:
        # x86 blocks carry `siblings`, the logical CPUs of their package. A
        # cpuinfo pasted with only its first processor block still contains
        # that count, and on a whole file the block count is the larger one.
        return {"cpu_cores": max(len(info.blocks), _siblings(info))}

    numbers = present_cpus(ctx)
    if numbers:
        return {"cpu_cores": len(numbers)}

    for value in (lscpu_pairs(ctx).get("cpu(s)"), ctx.output(["nproc"])):
        value = (value or "").strip()
        if value.isdigit() and int(value) > 0:
            return {"cpu_cores": int(value)}
    return {"cpu_cores": None}


def max_mhz(ctx, cpu):
    """Return a CPU's maximum frequency in MHz from cpufreq (which reports kHz), or None."""
    value = ctx.read_value("/sys/devices/system/cpu/cpu{}/cpufreq/cpuinfo_max_freq".format(cpu))
    if value is None or not value.isdigit() or int(value) == 0:
        return None
    return round(int(value) / 1000.0, 1)


def collect_cpu_clusters(ctx):
    """Group CPUs into clusters by core name and cpufreq maximum, in order of the first CPU."""
    info = load_cpuinfo(ctx)
    if info is not None and info.blocks:
        if _siblings(info) > len(info.blocks):
            # Only some processor blocks were captured: the grouping is unknown.
            return {"cpu_clusters": []}
        cores = core_names(info)
    else:
        # No cpuinfo blocks: group the sysfs CPUs by frequency under the model name.
        model = collect_cpu_model(ctx)["cpu_model"]
        cores = [(cpu, model) for cpu in (present_cpus(ctx) or [])]

    clusters = []
    index = {}
    for cpu, name in cores:
        if not name:
            continue
        frequency = max_mhz(ctx, cpu)
        key = (name, frequency)
        if key not in index:
            index[key] = len(clusters)
            clusters.append({"name": name, "cores": 0, "max_mhz": frequency})
        clusters[index[key]]["cores"] += 1
    return {"cpu_clusters": clusters}


def riscv_flags(isa):
    """Return ["rvv"] when a RISC-V ISA string has the V (vector) extension, else []."""
    isa = (isa or "").strip().lower()
    match = re.match(r"^rv(32|64|128)([a-z]*)", isa)
    if match and "v" in match.group(2):
        return ["rvv"]
    return []


def flags_from_cpuinfo(info):
    """Return the sorted inference-relevant flags of all CPU blocks and global lines."""
    found = set()
    sections = list(info.blocks) + [info.globals]
    for section in sections:
        for token in (section.get("flags", "") + " " + section.get("features", "")).lower().split():
            token = FLAG_ALIASES.get(token, token)
            if token in X86_FLAGS or token in ARM_FLAGS:
                found.add(token)
            elif token.startswith("amx_"):
                found.add("amx")
        for key in ("isa", "hart isa"):
            found.update(riscv_flags(section.get(key)))
    return sorted(found)


def collect_cpu_flags(ctx):
    """Return inference-relevant CPU flags from /proc/cpuinfo (never from lscpu, which wraps them)."""
    info = load_cpuinfo(ctx)
    return {"cpu_flags": flags_from_cpuinfo(info) if info is not None else []}
