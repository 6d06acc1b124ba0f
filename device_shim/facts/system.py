"""The machine architecture and the kernel release."""

import re

from device_shim.facts.cpuinfo import load_cpuinfo
from device_shim.facts.tools import hostnamectl_pairs, lscpu_pairs, uname_all_fields

ARCH_ALIASES = {"arm64": "aarch64", "amd64": "x86_64", "x86-64": "x86_64", "x64": "x86_64"}

# Machine names that `uname -m` prints on Linux.
ARCH_PATTERN = re.compile(
    r"^(x86_64|amd64|i[3-6]86|aarch64(_be)?|arm64|armv\d+[a-z]*|mips\w*|riscv(32|64)"
    r"|ppc(64(le)?)?|s390x?|loongarch64|sparc64|sh4)$"
)


def normalize_arch(value):
    """Return the uname machine name for an architecture alias such as arm64 or amd64."""
    value = (value or "").strip()
    if not value:
        return None
    return ARCH_ALIASES.get(value.lower(), value)


def arch_from_uname_all(fields):
    """Return the machine field of `uname -a`, found by its value.

    GNU uname prints machine, processor and platform before the OS name, and
    busybox or some kernels print only the machine, so the field is searched
    backwards from the end, after the node name and kernel release.
    """
    for field in reversed(fields[3:]):
        if ARCH_PATTERN.match(field):
            return normalize_arch(field)
    return None


def arch_from_cpuinfo(info):
    """Infer the architecture from /proc/cpuinfo lines, or return None."""
    flags = info.get("flags")
    if info.get("vendor_id") or flags:
        # x86: the `lm` (long mode) flag marks a 64-bit CPU.
        return "x86_64" if flags and "lm" in flags.split() else "i686"

    isa = (info.get("isa") or "").lower()
    if isa.startswith("rv64"):
        return "riscv64"
    if isa.startswith("rv32"):
        return "riscv32"

    return _arm_arch(info) or _mips_arch(info)


def _arm_arch(info):
    # Old 32-bit ARM kernels print one global `Processor : ARMv7 Processor ...` line.
    name = info.get("model name") or info.globals.get("processor") or ""
    if "aarch64" in name.lower():
        return "aarch64"
    # 32-bit kernels end the name with the uname machine suffix, e.g.
    # `ARMv6-compatible processor rev 7 (v6l)`. The ARM1176 reports `CPU
    # architecture: 7` although it is ARMv6, so this suffix is checked first.
    suffix = re.search(r"\((v\d+[a-z]*)\)\s*$", name)
    if suffix:
        return "arm" + suffix.group(1)

    architecture = (info.get("cpu architecture") or "").lower()
    features = (info.get("features") or "").split()
    if architecture in ("8", "aarch64") or "asimd" in features:
        return "aarch64"
    match = re.match(r"^(\d+)", architecture)
    if match:
        return "armv{}l".format(match.group(1))
    if name.startswith("ARMv"):
        match = re.match(r"ARMv(\d+)", name)
        return "armv{}l".format(match.group(1)) if match else None
    return None


def _mips_arch(info):
    model = info.get("cpu model") or ""
    if model.upper().startswith("MIPS") or info.get("system type"):
        return "mips"
    return None


def collect_arch(ctx):
    """Return the architecture from `uname -m`, `uname -a`, cpuinfo, lscpu or hostnamectl."""
    output = ctx.output(["uname", "-m"])
    if output and len(output.split()) == 1:
        return {"arch": normalize_arch(output)}

    arch = arch_from_uname_all(uname_all_fields(ctx))
    if arch:
        return {"arch": arch}

    info = load_cpuinfo(ctx)
    if info is not None:
        arch = arch_from_cpuinfo(info)
        if arch:
            return {"arch": arch}

    for pairs in (lscpu_pairs(ctx), hostnamectl_pairs(ctx)):
        arch = normalize_arch(pairs.get("architecture"))
        if arch:
            return {"arch": arch}
    return {"arch": None}


def kernel_from_uname_all(fields):
    """Return the kernel release field of `uname -a`, or None."""
    if len(fields) >= 3 and fields[2][:1].isdigit():
        return fields[2]
    return None


def collect_kernel(ctx):
    """Return the kernel release from uname, /proc/sys/kernel/osrelease or /proc/version."""
    output = ctx.output(["uname", "-r"])
    if output and len(output.split()) == 1:
        return {"kernel": output.strip()}

    kernel = kernel_from_uname_all(uname_all_fields(ctx))
    if kernel:
        return {"kernel": kernel}

    kernel = ctx.read_value("/proc/sys/kernel/osrelease")
    if kernel:
        return {"kernel": kernel.split()[0]}

    match = re.search(r"Linux version (\S+)", ctx.read_text("/proc/version") or "")
    if match:
        return {"kernel": match.group(1)}

    # hostnamectl prints `Kernel: Linux 4.9.337-l4t-r32.7.4+ga1cf17bc0aa0`.
    fields = (hostnamectl_pairs(ctx).get("kernel") or "").split()
    if len(fields) == 2 and fields[1][:1].isdigit():
        return {"kernel": fields[1]}
    return {"kernel": None}
