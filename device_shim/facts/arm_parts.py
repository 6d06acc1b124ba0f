"""Names of ARM cores by MIDR implementer and part number.

The ids are those of util-linux `sys-utils/lscpu-arm.c` and the vendors'
technical reference manuals (MIDR_EL1). Only common parts are listed; an unknown
part yields None and the caller falls back to the implementer's name.
"""

IMPLEMENTERS = {
    0x41: "ARM",
    0x42: "Broadcom",
    0x43: "Cavium",
    0x46: "Fujitsu",
    0x48: "HiSilicon",
    0x4E: "NVIDIA",
    0x50: "APM",
    0x51: "Qualcomm",
    0x53: "Samsung",
    0x56: "Marvell",
    0x61: "Apple",
    0x69: "Intel",
    0x70: "Phytium",
    0xC0: "Ampere",
}

PARTS = {
    0x41: {
        0x926: "ARM926",
        0xB02: "ARM11 MPCore",
        0xB36: "ARM1136",
        0xB56: "ARM1156",
        0xB76: "ARM1176",
        0xC05: "Cortex-A5",
        0xC07: "Cortex-A7",
        0xC08: "Cortex-A8",
        0xC09: "Cortex-A9",
        0xC0D: "Cortex-A17",
        0xC0E: "Cortex-A17",
        0xC0F: "Cortex-A15",
        0xD01: "Cortex-A32",
        0xD02: "Cortex-A34",
        0xD03: "Cortex-A53",
        0xD04: "Cortex-A35",
        0xD05: "Cortex-A55",
        0xD06: "Cortex-A65",
        0xD07: "Cortex-A57",
        0xD08: "Cortex-A72",
        0xD09: "Cortex-A73",
        0xD0A: "Cortex-A75",
        0xD0B: "Cortex-A76",
        0xD0C: "Neoverse-N1",
        0xD0D: "Cortex-A77",
        0xD0E: "Cortex-A76AE",
        0xD40: "Neoverse-V1",
        0xD41: "Cortex-A78",
        0xD42: "Cortex-A78AE",
        0xD43: "Cortex-A65AE",
        0xD44: "Cortex-X1",
        0xD46: "Cortex-A510",
        0xD47: "Cortex-A710",
        0xD48: "Cortex-X2",
        0xD49: "Neoverse-N2",
        0xD4A: "Neoverse-E1",
        0xD4B: "Cortex-A78C",
        0xD4C: "Cortex-X1C",
        0xD4D: "Cortex-A715",
        0xD4E: "Cortex-X3",
        0xD4F: "Neoverse-V2",
        0xD80: "Cortex-A520",
        0xD81: "Cortex-A720",
        0xD82: "Cortex-X4",
        0xD84: "Neoverse-V3",
        0xD85: "Cortex-X925",
        0xD87: "Cortex-A725",
        0xD8E: "Neoverse-N3",
    },
    0x42: {0x00F: "Brahma-B15", 0x100: "Brahma-B53", 0x516: "ThunderX2"},
    0x43: {0x0A1: "ThunderX 88XX", 0x0A2: "ThunderX 81XX", 0x0A3: "ThunderX 83XX", 0x0AF: "ThunderX2 99xx"},
    0x48: {0xD01: "TaiShan-v110", 0xD02: "TaiShan-v120"},
    0x4E: {0x000: "Denver", 0x003: "Denver 2", 0x004: "Carmel"},
    0x51: {
        0x00F: "Scorpion",
        0x02D: "Scorpion",
        0x04D: "Krait",
        0x06F: "Krait",
        0x201: "Kryo",
        0x205: "Kryo",
        0x211: "Kryo",
        0x800: "Falkor V1/Kryo",
        0x801: "Kryo V2",
        0x802: "Kryo 3XX Gold",
        0x803: "Kryo 3XX Silver",
        0x804: "Kryo 4XX Gold",
        0x805: "Kryo 4XX Silver",
        0xC00: "Falkor",
        0xC01: "Saphira",
    },
    0x53: {0x001: "exynos-m1", 0x002: "exynos-m3"},
    0x70: {0x660: "FTC660", 0x661: "FTC661", 0x662: "FTC662", 0x663: "FTC663"},
    0xC0: {0xAC3: "Ampere-1", 0xAC4: "Ampere-1a"},
}


def parse_id(value):
    """Return the integer of a cpuinfo id such as `0x41` or `65`, or None."""
    if not value:
        return None
    try:
        return int(value.strip(), 0)
    except ValueError:
        return None


def core_name(implementer, part):
    """Return the core name for cpuinfo `CPU implementer` and `CPU part` values, or None.

    An unknown part of a known implementer returns e.g. `Qualcomm part 0x123`.
    """
    implementer_id = parse_id(implementer)
    part_id = parse_id(part)
    if implementer_id is None or part_id is None:
        return None
    name = PARTS.get(implementer_id, {}).get(part_id)
    if name:
        return name
    vendor = IMPLEMENTERS.get(implementer_id)
    if vendor:
        return "{} part {:#05x}".format(vendor, part_id)
    return None
