"""Total and available memory in MiB, from /proc/meminfo or `free`."""

import re

from device_shim.facts.textparse import parse_pairs

KIB_PER_MIB = 1024

# Multipliers to KiB for the suffixes of `free -h` (procps prints `3.7Gi`,
# `682Mi`, `0B`; busybox prints `1.2G`).
SUFFIX_KIB = {
    "b": 1.0 / 1024,
    "k": 1,
    "ki": 1,
    "m": 1024,
    "mi": 1024,
    "g": 1024 ** 2,
    "gi": 1024 ** 2,
    "t": 1024 ** 3,
    "ti": 1024 ** 3,
}


def _kib(value):
    """Return the number of a meminfo value such as `948304 kB`, or None."""
    match = re.match(r"^(\d+)", (value or "").strip())
    return int(match.group(1)) if match else None


def from_meminfo(text):
    """Return (total MiB, available MiB, estimated) from /proc/meminfo text, or None.

    Kernels before 3.14 have no MemAvailable; then available is estimated as
    MemFree + Buffers + Cached and `estimated` is True.
    """
    pairs = parse_pairs(text)
    total = _kib(pairs.get("memtotal"))
    if total is None:
        return None
    available = _kib(pairs.get("memavailable"))
    if available is not None:
        return total // KIB_PER_MIB, available // KIB_PER_MIB, False
    parts = [_kib(pairs.get(key)) for key in ("memfree", "buffers", "cached")]
    if parts[0] is None:
        return total // KIB_PER_MIB, None, False
    estimate = sum(part for part in parts if part is not None)
    return total // KIB_PER_MIB, estimate // KIB_PER_MIB, True


def parse_size_kib(token, default_kib):
    """Return a `free` value in KiB; a bare number is in the unit default_kib, else its suffix counts."""
    match = re.match(r"^(\d+(?:[.,]\d+)?)([A-Za-z]*)$", token.strip())
    if not match:
        return None
    number = float(match.group(1).replace(",", "."))
    suffix = match.group(2).lower()
    if not suffix:
        return number * default_kib
    if suffix not in SUFFIX_KIB:
        return None
    return number * SUFFIX_KIB[suffix]


def parse_free(text, default_kib):
    """Return (total KiB, available KiB or None) from `free` output, or None.

    The `Mem:` row is read by the header's column names. procps >= 3.3.10 and
    recent busybox print `available`; older versions print `buffers` and
    `cached`, from which available is estimated.
    """
    lines = [line for line in (text or "").splitlines() if line.strip()]
    header = None
    for line in lines:
        if "total" in line.split():
            header = [name.lower() for name in line.split()]
            continue
        if header is None or not line.lower().startswith("mem:"):
            continue
        values = line.split()[1:]
        row = {}
        for name, token in zip(header, values):
            row[name] = parse_size_kib(token, default_kib)
        total = row.get("total")
        if total is None:
            return None
        available = row.get("available")
        if available is None and row.get("free") is not None:
            available = row["free"] + (row.get("buffers") or 0) + (row.get("cached") or 0)
        return total, available
    return None


def from_free(ctx):
    """Return (total KiB, available KiB) from `free`, trying -k, then -m, then no option.

    Some busybox builds ignore -m and print KiB. When `free -m` and plain
    `free` (KiB by default) print the same total, -m was ignored.
    """
    parsed = parse_free(ctx.output(["free", "-k"]), 1)
    if parsed:
        return parsed

    mib_text = ctx.output(["free", "-m"])
    plain_text = ctx.output(["free"])
    plain = parse_free(plain_text, 1)
    if mib_text:
        as_kib = parse_free(mib_text, 1)
        if plain and as_kib and as_kib[0] == plain[0]:
            return plain
        # NOTE: when plain `free` fails too, a build that ignores -m cannot be
        # told apart, and its KiB values are read as MiB.
        parsed = parse_free(mib_text, KIB_PER_MIB)
        if parsed:
            return parsed
    return plain


def collect_memory(ctx):
    """Return mem_total_mb and mem_available_mb in MiB."""
    meminfo = ctx.read_text("/proc/meminfo")
    parsed = from_meminfo(meminfo) if meminfo is not None else None
    if parsed:
        total, available, estimated = parsed
        if estimated:
            ctx.warn("MemAvailable is missing from /proc/meminfo; mem_available_mb is estimated as MemFree + Buffers + Cached")
        return {"mem_total_mb": total, "mem_available_mb": available}

    parsed = from_free(ctx)
    if not parsed:
        return {"mem_total_mb": None, "mem_available_mb": None}
    total, available = parsed
    return {
        "mem_total_mb": int(total // KIB_PER_MIB),
        "mem_available_mb": int(available // KIB_PER_MIB) if available is not None else None,
    }
