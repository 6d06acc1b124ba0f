"""Inference accelerators: NVIDIA GPUs and Jetson, Coral Edge TPU, Intel Myriad, Rockchip and Hailo NPUs."""

import re

from device_shim.facts.board import device_tree_compatible, device_tree_value
from device_shim.facts.usb import usb_ids

# USB ids of accelerators. One Coral USB Accelerator shows 1a6e:089a until its
# runtime loads the firmware and 18d1:9302 after, and a Myriad X shows 03e7:2485
# before boot and 03e7:f63b after, so both ids map to the same entry. Vendor
# 18d1 alone is also used by Google phones, so only full pairs match.
USB_ACCELERATORS = {
    ("1a6e", "089a"): ("tpu", "google", "Coral Edge TPU (USB)"),
    ("18d1", "9302"): ("tpu", "google", "Coral Edge TPU (USB)"),
    ("03e7", "2485"): ("vpu", "intel", "Movidius Myriad X"),
    ("03e7", "f63b"): ("vpu", "intel", "Movidius Myriad X"),
    ("03e7", "2150"): ("vpu", "intel", "Movidius Myriad 2"),
}

# SoC names by the board prefix of /etc/nv_tegra_release and the
# device-tree compatible string.
TEGRA_SOCS = (
    ("t210", "tegra210", "Tegra X1"),
    ("t186", "tegra186", "Tegra X2"),
    ("t194", "tegra194", "Xavier"),
    ("t234", "tegra234", "Orin"),
    ("t264", "tegra264", "Thor"),
)

# Rockchip SoCs with an NPU; device-tree compatible strings such as
# `rockchip,rk3588s` contain these names.
ROCKCHIP_NPU_SOCS = ("rk3588", "rk3576", "rk3568", "rk3566", "rk3562", "rk3399pro", "rk1808", "rv1126", "rv1109", "rv1106", "rv1103")


def _entry(kind, vendor, name):
    return {"kind": kind, "vendor": vendor, "name": name}


def parse_nvidia_smi_list(text):
    """Return GPU names from `nvidia-smi -L` lines such as `GPU 0: Orin (nvgpu) (UUID: ...)`."""
    names = []
    for line in (text or "").splitlines():
        match = re.match(r"^GPU\s+\d+:\s+(.+?)(\s+\(UUID:.*\))?\s*$", line.strip())
        if match:
            names.append(match.group(1))
    return names


def parse_nvidia_smi_csv(text):
    """Return GPU names from `nvidia-smi --query-gpu=name --format=csv,noheader`."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def parse_nvidia_smi_table(text):
    """Return GPU names from the table of plain `nvidia-smi`.

    The first row of each GPU reads `|   0  NAME   Persistence-M | ...`, where
    Persistence-M is On, Off or N/A (JetPack 6 prints N/A).
    """
    if "NVIDIA-SMI" not in (text or ""):
        return []
    names = []
    for line in text.splitlines():
        match = re.match(r"^\|\s+\d+\s+(.+?)\s+(On|Off|N/A)\s+\|", line)
        if match:
            names.append(match.group(1))
    return names


def nvidia_smi_gpus(ctx):
    """Return entries for the GPUs that nvidia-smi lists, trying three output formats."""
    attempts = (
        (["nvidia-smi", "-L"], parse_nvidia_smi_list),
        (["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], parse_nvidia_smi_csv),
        (["nvidia-smi"], parse_nvidia_smi_table),
    )
    for argv, parse in attempts:
        # Exit status 0 is required: without the driver nvidia-smi exits
        # non-zero, and Ubuntu's command-not-found text must not count.
        names = parse(ctx.output(argv))
        if names:
            return [_entry("gpu", "nvidia", name) for name in names]
    return []


def tegra_soc(release_text, compatible):
    """Return the Tegra SoC name from nv_tegra_release's BOARD and device-tree compatible, or None."""
    board = re.search(r"BOARD:\s*(\w+)", release_text or "")
    for prefix, compatible_name, soc in TEGRA_SOCS:
        if board and board.group(1).startswith(prefix):
            return soc
        if any(compatible_name in item for item in compatible):
            return soc
    # L4T R36 (JetPack 6) prints `BOARD: generic` and supports only Orin modules.
    if re.match(r"^#\s*R36\b", release_text or ""):
        return "Orin"
    return None


def tegra_gpu(ctx):
    """Return the integrated GPU of a Jetson (L4T) board, or None when it is not one."""
    release = ctx.read_text("/etc/nv_tegra_release")
    compatible = device_tree_compatible(ctx)
    if release is None and not any(item.startswith("nvidia,") for item in compatible):
        return None

    soc = tegra_soc(release, compatible)
    model = device_tree_value(ctx, "model")
    if model and soc:
        name = "{} ({})".format(model, soc)
    elif model:
        name = model
    else:
        # nv_tegra_release line 1: `# R32 (release), REVISION: 7.6, ...`.
        match = re.search(r"#\s*R(\d+)\s*\(release\),\s*REVISION:\s*([\d.]+)", release or "")
        l4t = " (L4T R{}.{})".format(match.group(1), match.group(2)) if match else ""
        name = "NVIDIA {}{}".format(soc or "Tegra", l4t)
    return _entry("gpu", "nvidia", name)


def nvidia_accelerators(ctx):
    """Return NVIDIA GPUs; on Jetson the integrated GPU is listed once."""
    gpus = nvidia_smi_gpus(ctx)
    tegra = tegra_gpu(ctx)
    if tegra is None:
        return gpus
    # JetPack 6's nvidia-smi lists the integrated GPU as `Orin (nvgpu)`, which
    # is the same GPU as the Tegra entry.
    return [tegra] + [gpu for gpu in gpus if "nvgpu" not in gpu["name"]]


def usb_accelerators(ctx):
    """Return accelerators recognised by their USB ids."""
    return [_entry(*USB_ACCELERATORS[pair]) for pair in usb_ids(ctx) if pair in USB_ACCELERATORS]


def coral_pcie(ctx):
    """Return the Coral PCIe or M.2 Edge TPU when its apex driver created /dev/apex_0."""
    if ctx.exists("/dev/apex_0"):
        return [_entry("tpu", "google", "Coral Edge TPU (PCIe)")]
    return []


def rockchip_npu(ctx):
    """Return the Rockchip NPU from its driver's files or the SoC's device-tree compatible."""
    compatible = device_tree_compatible(ctx)
    soc = None
    for name in ROCKCHIP_NPU_SOCS:
        if any(name in item for item in compatible):
            soc = name.upper()
            break
    has_driver = ctx.exists("/sys/kernel/debug/rknpu") or ctx.exists("/dev/rknpu")
    if not (soc or has_driver):
        return []
    name = "Rockchip NPU ({})".format(soc) if soc else "Rockchip NPU"
    return [_entry("npu", "rockchip", name)]


def hailo_npu(ctx):
    """Return the Hailo NPU when its PCIe driver created /dev/hailo0."""
    if ctx.exists("/dev/hailo0"):
        return [_entry("npu", "hailo", "Hailo NPU")]
    return []


def collect_accelerators(ctx):
    """Return every accelerator found, each (kind, vendor, name) once."""
    found = []
    for detect in (nvidia_accelerators, usb_accelerators, coral_pcie, rockchip_npu, hailo_npu):
        # Detectors are independent, so one that fails does not hide the others.
        try:
            entries = detect(ctx)
        except Exception as exc:  # noqa: BLE001 - any failure becomes a warning
            ctx.warn("accelerators: {} failed: {}: {}".format(detect.__name__, type(exc).__name__, exc))
            continue
        for entry in entries:
            if entry not in found:
                found.append(entry)
    return {"accelerators": found}
