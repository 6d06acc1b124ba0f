"""The board or product name, from the device tree, DMI or /proc/cpuinfo."""

from device_shim.facts.cpuinfo import load_cpuinfo
from device_shim.facts.tools import hostnamectl_pairs

DEVICE_TREE_DIRS = ("/proc/device-tree", "/sys/firmware/devicetree/base")

# Values that firmware vendors leave in DMI fields they did not fill in.
DMI_PLACEHOLDERS = frozenset(
    [
        "",
        "to be filled by o.e.m.",
        "default string",
        "system product name",
        "system manufacturer",
        "not applicable",
        "not specified",
        "none",
        "o.e.m.",
        "oem",
        "unknown",
    ]
)


def device_tree_value(ctx, name):
    """Return a device-tree property (e.g. `model`) with NULs and whitespace stripped, or None."""
    for directory in DEVICE_TREE_DIRS:
        value = ctx.read_value(directory + "/" + name)
        if value:
            return value
    return None


def device_tree_compatible(ctx):
    """Return the device-tree `compatible` strings, lower-cased, or []."""
    for directory in DEVICE_TREE_DIRS:
        text = ctx.read_text(directory + "/compatible")
        if text:
            return [item.strip().lower() for item in text.split("\x00") if item.strip()]
    return []


def _dmi_value(ctx, name):
    value = ctx.read_value("/sys/class/dmi/id/" + name)
    if value is None or value.lower() in DMI_PLACEHOLDERS:
        return None
    return value


def dmi_product(ctx):
    """Return `sys_vendor product_name` from DMI, or None when the product is a placeholder."""
    product = _dmi_value(ctx, "product_name")
    if not product:
        return None
    vendor = _dmi_value(ctx, "sys_vendor")
    if vendor and not product.lower().startswith(vendor.lower()):
        return vendor + " " + product
    return product


def collect_board(ctx):
    """Return the board name: device tree, DMI, cpuinfo `Model`, hostnamectl, then SoC lines."""
    board = device_tree_value(ctx, "model") or dmi_product(ctx)
    if board:
        return {"board": board}

    info = load_cpuinfo(ctx)
    # The Raspberry Pi kernel prints a global `Model` line; x86 prints a numeric
    # `model` inside each CPU block, which is not a board.
    if info is not None and info.globals.get("model"):
        return {"board": info.globals["model"]}

    board = hostnamectl_pairs(ctx).get("hardware model")
    if board:
        return {"board": board}

    if info is not None:
        # `Hardware` (ARM) and `system type` (MIPS) name the SoC, which still
        # identifies the platform; MIPS `machine` is often `Unknown`.
        for key in ("hardware", "machine", "system type"):
            value = info.globals.get(key)
            if value and value.lower() != "unknown":
                return {"board": value}
    return {"board": None}
