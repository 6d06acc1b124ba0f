"""The Python shim's `inventory` against every hardware capture in the shared fixtures.

Each capture runs alone in its own device root. Every fact that the capture
does not list must stay at its empty value, which catches facts leaking in from
this machine (its uname, lsusb or docker) as well as misparsed ones.
"""

import json

import pytest

from edgetui.domain.hardware import HardwareFacts
from fixtures_devices import FIXTURES_DIR, all_captures, build_device, main_unit_captures, run_shim

# Facts of this machine, not of the capture: the interpreter running the shim,
# and the disk where it is stored.
HOST_FACTS = {"python", "onnxruntime", "disk_free_mb", "limited", "warnings", "shim_version"}
EMPTY = {"cpu_clusters": [], "cpu_flags": [], "temperatures": [], "accelerators": []}

CORAL_USB = {"kind": "tpu", "vendor": "google", "name": "Coral Edge TPU (USB)"}
MYRIAD_X = {"kind": "vpu", "vendor": "intel", "name": "Movidius Myriad X"}


def cluster(name, cores, max_mhz=None):
    return {"name": name, "cores": cores, "max_mhz": max_mhz}


def arm_cpu(arch, name, cores, flags, board=None):
    facts = {"arch": arch, "cpu_model": name, "cpu_cores": cores, "cpu_clusters": [cluster(name, cores)], "cpu_flags": flags}
    if board:
        facts["board"] = board
    return facts


# Facts each capture shows on its own. An empty dict marks a capture that contains
# no inventory fact (logs, dmesg, tegrastats, df -h, which the shim does not read).
EXPECTED = {
    "coral-edgetpu/devboard_dmesg_head.PARTIAL.txt": {},
    "coral-edgetpu/lsusb.usb_accel_unprogrammed_1a6e-089a.txt": {"accelerators": [CORAL_USB]},
    "coral-edgetpu/unitB_lsusb.inside_container_no_usbids.txt": {"accelerators": [CORAL_USB]},
    "coral-edgetpu/unitB_lsusb.unraid_host.txt": {"accelerators": [CORAL_USB]},
    "coral-edgetpu/unitC_lsusb.haos_busybox_programmed_18d1-9302.txt": {"accelerators": [CORAL_USB]},
    "coral-edgetpu/unitE_libedgetpu_debug.usb_enumeration.txt": {},
    "intel-ncs2-movidius/dmesg.myriadx_unbooted_03e7-2485.txt": {},
    "intel-ncs2-movidius/lsusb.ncs2_myriadx_elided_by_author.txt": {"accelerators": [MYRIAD_X]},
    "intel-ncs2-movidius/unitB_dmesg.myriadx_booted_03e7-f63b.txt": {},
    "intel-ncs2-movidius/unitC_lsusb.ncs1_myriad2_03e7-2150.txt": {
        "accelerators": [{"kind": "vpu", "vendor": "intel", "name": "Movidius Myriad 2"}]
    },
    "intel-ncs2-movidius/unitD_openvino_ncapi_log.txt": {},
    "jetson-nano-l4t32/nv_tegra_release": {
        "accelerators": [{"kind": "gpu", "vendor": "nvidia", "name": "NVIDIA Tegra X1 (L4T R32.7.6)"}]
    },
    "jetson-nano-l4t32/proc_cpuinfo": arm_cpu("aarch64", "Cortex-A57", 4, ["asimd"]),
    "jetson-nano-l4t32/proc_version": {"kernel": "4.9.337-tegra"},
    "jetson-nano-l4t32/tegrastats.txt": {},
    "jetson-nano-l4t32/uname_a": {"arch": "aarch64", "kernel": "4.9.337-tegra"},
    "jetson-nano-l4t32/unitB_tegrastats.no_swap_nvdec.txt": {},
    # Zone types without temp files: no reading to report.
    "jetson-nano-l4t32/unitC_thermal_zone_types.txt": {},
    # Ubuntu's command-not-found text with exit status 127 is not a driver.
    "jetson-nano-l4t32/unitD_nvidia-smi.txt": {},
    "jetson-orin/tegrastats.orin_6core_8gb_jp6.txt": {},
    "jetson-orin/unitB_tegrastats.agx_orin_64gb.txt": {},
    "jetson-orin/unitC_nvidia-smi.jp5.txt": {},
    "jetson-orin/unitC_nvidia-smi.jp6.PARTIAL.txt": {
        "accelerators": [{"kind": "gpu", "vendor": "nvidia", "name": "Orin (nvgpu)"}]
    },
    "jetson-orin/unitD_nvidia-smi_L.txt": {"accelerators": [{"kind": "gpu", "vendor": "nvidia", "name": "Orin (nvgpu)"}]},
    "jetson-orin/unitE_lscpu.agx_orin.PARTIAL": {"arch": "aarch64", "cpu_model": "Cortex-A78AE", "cpu_cores": 12},
    "jetson-orin/unitF_nv_tegra_release.r36_orin_nano_super": {
        "accelerators": [{"kind": "gpu", "vendor": "nvidia", "name": "NVIDIA Orin (L4T R36.4.7)"}]
    },
    "nxp-imx8/proc_cpuinfo.imx8qxp_96boards_aiml": arm_cpu("aarch64", "Cortex-A35", 4, ["asimd"]),
    "nxp-imx8/unitB_proc_cpuinfo.imx8mq_librem5": arm_cpu("aarch64", "Cortex-A53", 4, ["asimd"]),
    "nxp-imx8/unitC_cpufetch_v.imx8mp_pocket_reform.txt": {},
    "openwrt-busybox/openwrt_release": {
        "os_id": "openwrt",
        "os_version": "14.07",
        "os_name": "OpenWrt Barrier Breaker 14.07 (std-200218)",
    },
    "openwrt-busybox/proc_cpuinfo": {
        "arch": "mips",
        "board": "MT7620",
        "cpu_model": "MIPS 24KEc V5.0",
        "cpu_cores": 1,
        "cpu_clusters": [cluster("MIPS 24KEc V5.0", 1)],
    },
    "openwrt-busybox/unitB_os-release.mt7621_22.03": {
        "os_id": "openwrt",
        "os_version": "22.03-snapshot",
        "os_name": "OpenWrt 22.03-SNAPSHOT",
    },
    "openwrt-busybox/unitC_df_h.busybox": {},
    # 249836 and 49332 are KiB although -m was passed: 243 and 48 MiB.
    "openwrt-busybox/unitC_free_m.busybox_prints_kB": {"mem_total_mb": 243, "mem_available_mb": 48},
    "riscv-visionfive2-jh7110/devicetree_compatible.as_displayed_nul_stripped": {},
    "riscv-visionfive2-jh7110/devicetree_model": {"board": "StarFive VisionFive V2"},
    "riscv-visionfive2-jh7110/devicetree_serial-number": {},
    "riscv-visionfive2-jh7110/proc_cpuinfo": {
        "arch": "riscv64",
        "cpu_model": "sifive,u74-mc",
        "cpu_cores": 4,
        "cpu_clusters": [cluster("sifive,u74-mc", 4)],
    },
    "riscv-visionfive2-jh7110/unitB_lscpu.short": {"arch": "riscv64", "cpu_cores": 4},
    "riscv-visionfive2-jh7110/unitB_proc_cpuinfo.kernel5.15_empty_isa-ext": {
        "arch": "riscv64",
        "cpu_model": "sifive,u74-mc",
        "cpu_cores": 4,
        "cpu_clusters": [cluster("sifive,u74-mc", 4)],
    },
    "riscv-visionfive2-jh7110/unitD_lscpu.util-linux-testsuite-expected": {"cpu_model": "sifive,u74-mc", "cpu_cores": 4},
    # Kernels of 2018 print `Hardware : BCM2708/BCM2835` and no `Model` line.
    "rpi-zero-armv6/proc_cpuinfo": arm_cpu("armv6l", "ARM1176", 1, [], board="BCM2835"),
    "rpi-zero-armv6/unitC_proc_cpuinfo.buster_with_model": arm_cpu("armv6l", "ARM1176", 1, [], board="Raspberry Pi Zero Rev 1.3"),
    "rpi3b-armv7-raspbian/devicetree_model": {"board": "Raspberry Pi 3 Model B Rev 1.2"},
    # With nothing else captured, the host facts that `docker info` states fill the gaps.
    "rpi3b-armv7-raspbian/docker_info.txt": {
        "container_runtime": {"name": "docker", "version": "17.12.0-ce", "daemon_running": True},
        "arch": "armv7l",
        "kernel": "4.9.59-v7+",
        "os_name": "Raspbian GNU/Linux 9 (stretch)",
        "cpu_cores": 4,
        "mem_total_mb": 927,
    },
    "rpi3b-armv7-raspbian/free": {"mem_total_mb": 926, "mem_available_mb": 819},
    "rpi3b-armv7-raspbian/os-release.raspbian_bullseye": {
        "os_id": "raspbian",
        "os_version": "11",
        "os_name": "Raspbian GNU/Linux 11 (bullseye)",
    },
    # A 32-bit kernel on a Cortex-A53 (part 0xd03) names it `ARMv7 Processor`.
    "rpi3b-armv7-raspbian/proc_cpuinfo": arm_cpu(
        "armv7l", "Cortex-A53", 4, ["neon", "vfpv4"], board="Raspberry Pi 3 Model B Rev 1.2"
    ),
    "rpi4-aarch64/lscpu": {"arch": "aarch64", "cpu_model": "Cortex-A72", "cpu_cores": 4},
    "rpi4-aarch64/proc_cpuinfo": arm_cpu("aarch64", "Cortex-A72", 4, ["asimd"], board="Raspberry Pi 4 Model B Rev 1.4"),
    "rpi4-aarch64/uname_a": {"arch": "aarch64", "kernel": "5.15.0-1012-raspi"},
    "rpi4-aarch64/unitB_proc_cpuinfo.rpios64_no_hardware_line": arm_cpu(
        "aarch64", "Cortex-A72", 4, ["asimd"], board="Raspberry Pi 4 Model B Rev 1.5"
    ),
    "rpi4-aarch64/unitC_df_h": {},
    # The shim runs `free -k`, `free -m` and `free`, never `free -h`.
    "rpi4-aarch64/unitC_free_h": {},
    "rpi4-aarch64/unitC_uname_a.as_published_wrapped": {"arch": "aarch64", "kernel": "5.15.0-1008-raspi"},
    "rpi5-bcm2712/os-release.rpios_bookworm": {"os_id": "debian", "os_version": "12", "os_name": "Debian GNU/Linux 12 (bookworm)"},
    "rpi5-bcm2712/proc_cpuinfo": arm_cpu(
        "aarch64", "Cortex-A76", 4, ["asimd", "asimddp", "asimdhp", "fp16"], board="Raspberry Pi 5 Model B Rev 1.0"
    ),
    "rpi5-bcm2712/uname_a.devkernel": {"arch": "aarch64", "kernel": "6.6.0-rc3-v8+"},
    "rpi5-bcm2712/unitB_devicetree_compatible.as_displayed_nul_stripped": {},
    # The capture contains processor 0 only, so one core is all the file shows.
    # Only processor 0 was captured; its `siblings : 24` still gives the count,
    # but not how the hybrid part's cores group into clusters.
    "x86_64-nuc-ipc/proc_cpuinfo.first_processor_only": {
        "arch": "x86_64",
        "cpu_model": "Intel(R) Core(TM) Ultra 9 285",
        "cpu_cores": 24,
        "cpu_flags": ["avx", "avx2", "avx_vnni", "f16c", "fma", "sse4_2"],
    },
    "x86_64-nuc-ipc/unitB_lscpu.nuc11atkc2_i7-1165G7.flags_elided_by_author": {
        "arch": "x86_64",
        "cpu_model": "11th Gen Intel(R) Core(TM) i7-1165G7 @ 2.80GHz",
        "cpu_cores": 8,
    },
    # lscpu's CPU(s), not threads x cores x sockets (2 x 16 = 32 on this hybrid part).
    "x86_64-nuc-ipc/unitC_lscpu.meteorlake_hybrid.PARTIAL": {
        "arch": "x86_64",
        "cpu_model": "Intel(R) Core(TM) Ultra 9 185H",
        "cpu_cores": 22,
    },
    "yocto-poky/os-release.poky-altcfg": {
        "os_id": "poky-altcfg",
        "os_version": "6.0.3",
        "os_name": "Poky (Yocto Project Reference Distro) 6.0.3 (wrynose)",
    },
    "yocto-poky/unitB_getty_banner.raspberrypi2-64.txt": {},
    "yocto-poky/unitC_hostnamectl.oe4t_jetson-nano.txt": {
        "arch": "aarch64",
        "kernel": "4.9.337-l4t-r32.7.4+ga1cf17bc0aa0",
        "os_name": "OE4Tegra Demonstration Distro 4.0.12+snapshot-3272e64a731280206d13fe746e4b9e3a5e7c73a8 (kirkstone-l4t-r32.7)",
    },
    "yocto-poky/unitD_hostnamectl.oe4t_agx-orin.txt": {
        "arch": "aarch64",
        "kernel": "5.15.148-l4t-r36.4-1012.12+g8dc079d5c8c4",
        "os_name": "OE4Tegra Demonstration Distro 5.2+snapshot-2abb0028ba91291e13fe7c218d87dd7e6f379ace (master)",
        "board": "NVIDIA Jetson AGX Orin Developer Kit",
    },
}

CAPTURES = all_captures()

pytestmark = pytest.mark.skipif(not FIXTURES_DIR.is_dir(), reason="device fixtures not found at " + str(FIXTURES_DIR))


def inventory(tmp_path, names):
    """Run the shim on a device built from names; return the parsed reply."""
    device = build_device(tmp_path, names)
    completed = run_shim(device)
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    reply = json.loads(completed.stdout)
    HardwareFacts.model_validate(reply)
    return reply


def assert_facts(reply, expected):
    """Assert the expected facts, and that every other capture fact is empty."""
    for key, value in expected.items():
        assert reply[key] == value, key
    for key in set(reply) - set(expected) - HOST_FACTS:
        assert reply[key] == EMPTY.get(key), key


EXPECTED_WARNINGS = {
    "rpi3b-armv7-raspbian/docker_info.txt": [
        "taken from `docker info`: arch, kernel, os_name, cpu_cores, mem_total_mb"
    ],
}
"""Warnings a capture must produce; every other capture must produce none."""


def test_every_capture_has_expectations():
    assert sorted(EXPECTED) == CAPTURES


@pytest.mark.parametrize("name", CAPTURES)
def test_capture_alone(tmp_path, name):
    reply = inventory(tmp_path, [name])
    assert_facts(reply, EXPECTED.get(name, {}))
    assert reply["warnings"] == EXPECTED_WARNINGS.get(name, [])


def test_jetson_nano_main_unit(tmp_path):
    reply = inventory(tmp_path, main_unit_captures("jetson-nano-l4t32"))
    assert reply["arch"] == "aarch64"
    assert reply["kernel"] == "4.9.337-tegra"
    assert reply["cpu_cores"] == 4
    assert reply["cpu_model"] == "Cortex-A57"
    assert reply["accelerators"] == [{"kind": "gpu", "vendor": "nvidia", "name": "NVIDIA Tegra X1 (L4T R32.7.6)"}]


def test_rpi3b_main_unit(tmp_path):
    reply = inventory(tmp_path, main_unit_captures("rpi3b-armv7-raspbian"))
    assert reply["arch"] == "armv7l"
    assert reply["os_id"] == "raspbian"
    assert reply["board"] == "Raspberry Pi 3 Model B Rev 1.2"
    assert reply["mem_total_mb"] == 926
    assert reply["container_runtime"] == {"name": "docker", "version": "17.12.0-ce", "daemon_running": True}


def test_openwrt_main_unit(tmp_path):
    reply = inventory(tmp_path, main_unit_captures("openwrt-busybox"))
    assert reply["arch"] == "mips"
    assert reply["os_id"] == "openwrt"
    assert reply["cpu_model"] == "MIPS 24KEc V5.0"


def test_visionfive2_main_unit(tmp_path):
    reply = inventory(tmp_path, main_unit_captures("riscv-visionfive2-jh7110"))
    assert reply["arch"] == "riscv64"
    assert reply["board"] == "StarFive VisionFive V2"
    assert reply["cpu_cores"] == 4
    # rv64imafdc has no V extension.
    assert reply["cpu_flags"] == []


def test_rpi5_main_unit(tmp_path):
    reply = inventory(tmp_path, main_unit_captures("rpi5-bcm2712"))
    assert reply["board"] == "Raspberry Pi 5 Model B Rev 1.0"
    assert reply["os_id"] == "debian"
    assert reply["kernel"] == "6.6.0-rc3-v8+"
    assert "asimddp" in reply["cpu_flags"]
