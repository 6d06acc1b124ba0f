"""The Python shim's `inventory` on hand-made device roots: bad input, fallbacks and rare hardware."""

import json
import random

import pytest

from device_shim.facts import memory
from device_shim.facts.context import Context
from device_shim.facts.cpu import riscv_flags
from device_shim.facts.memory import parse_free
from device_shim.facts.thermal import to_celsius
from device_shim.inventory import FACT_DEFAULTS, collect_inventory
from edgetui.domain.hardware import HardwareFacts
from fixtures_devices import make_device_root, run_shim

NULL_FACTS = dict(FACT_DEFAULTS)
HOST_FACTS = {"python", "onnxruntime", "disk_free_mb"}


@pytest.fixture
def device(tmp_path):
    return make_device_root(tmp_path)


def collect(device, **options):
    """Run the inventory in this process against the device; return the validated reply."""
    ctx = Context(root=str(device.root), search_path=device.search_path, **options)
    reply = collect_inventory(ctx)
    json.dumps(reply)
    HardwareFacts.model_validate(reply)
    return reply


def assert_all_null(reply):
    for key, default in NULL_FACTS.items():
        if key not in HOST_FACTS:
            assert reply[key] == default, key


def cpu_block(number, implementer, part, features="fp asimd"):
    return "processor\t: {}\nFeatures\t: {}\nCPU implementer\t: {}\nCPU architecture: 8\nCPU part\t: {}\n\n".format(
        number, features, implementer, part
    )


# Bad input


def test_empty_root_gives_nulls(device):
    reply = collect(device)
    assert_all_null(reply)
    assert reply["warnings"] == []
    assert reply["limited"] is False
    assert reply["python"].count(".") == 2


def test_binary_cpuinfo_gives_nulls(device):
    device.add_file("proc/cpuinfo", random.Random(7).randbytes(4096))
    reply = collect(device)
    assert reply["cpu_cores"] is None
    assert reply["cpu_model"] is None
    assert reply["cpu_flags"] == []
    assert reply["warnings"] == []


def test_empty_cpuinfo_gives_nulls(device):
    device.add_file("proc/cpuinfo", b"")
    reply = collect(device)
    assert_all_null(reply)


def test_truncated_cpuinfo_keeps_complete_lines(device):
    device.add_file("proc/cpuinfo", "processor\t: 0\nmodel name\t: Intel(R) Atom(TM) x5\nflags\t: fpu avx2 sse4_2\nprocessor\t: 1\nmodel na")
    reply = collect(device)
    assert reply["cpu_cores"] == 2
    assert reply["cpu_model"] == "Intel(R) Atom(TM) x5"
    assert reply["cpu_flags"] == ["avx2", "sse4_2"]
    assert reply["arch"] == "i686"


def test_malformed_os_release_skips_bad_lines(device):
    device.add_file(
        "etc/os-release",
        'ID="unterminated\n=no-key\nthis is not an assignment\nVERSION_ID=1.0\n'
        'PRETTY_NAME="Edge \\"Linux\\" 1.0"\n\x00\xff\n',
    )
    reply = collect(device)
    assert reply["os_id"] is None
    assert reply["os_version"] == "1.0"
    assert reply["os_name"] == 'Edge "Linux" 1.0'


def test_usr_lib_os_release_fallback(device):
    device.add_file("usr/lib/os-release", "ID='alpine'\nVERSION_ID=3.19.1\nPRETTY_NAME='Alpine Linux v3.19'\n")
    reply = collect(device)
    assert reply["os_id"] == "alpine"
    assert reply["os_version"] == "3.19.1"
    assert reply["os_name"] == "Alpine Linux v3.19"


def test_collector_error_becomes_warning(device, monkeypatch):
    device.add_file("proc/meminfo", "MemTotal: 1024000 kB\n")

    def broken(text):
        raise ValueError("bad meminfo")

    monkeypatch.setattr(memory, "from_meminfo", broken)
    reply = collect(device)
    assert reply["mem_total_mb"] is None
    assert reply["mem_available_mb"] is None
    assert reply["warnings"] == ["collect_memory failed: ValueError: bad meminfo"]


def test_hanging_command_is_cut_by_timeout(device):
    device.add_script("uname", 'case "$*" in\n  -m) exec sleep 30 ;;\n  -a) echo "Linux edge-host 6.1.0 #1 SMP aarch64 GNU/Linux" ;;\n  *) exit 1 ;;\nesac\n')
    completed = run_shim(device, env=device.env(EDGETUI_SHIM_COMMAND_TIMEOUT="0.5"))
    assert completed.returncode == 0, completed.stderr
    reply = json.loads(completed.stdout)
    assert reply["arch"] == "aarch64"
    assert reply["kernel"] == "6.1.0"
    assert "uname -m timed out after 0.5 s" in reply["warnings"]


def test_unknown_option_is_json_error(device):
    completed = run_shim(device, extra_args=["--verbose"])
    assert completed.returncode == 2
    reply = json.loads(completed.stdout)
    assert reply["error"] == "unknown option: --verbose"
    assert "inventory" in reply["commands"]
    assert reply["commands"] == sorted(reply["commands"])


def test_root_from_environment(device):
    device.add_file("etc/os-release", "ID=poky\nVERSION_ID=5.0\n")
    completed = run_shim(device, env=device.env(EDGETUI_SHIM_ROOT=str(device.root)), extra_args=[])
    assert json.loads(completed.stdout)["os_id"] == "poky"


# CPU


def test_big_little_clusters_from_parts_and_cpufreq(device):
    text = "".join(cpu_block(n, "0x41", "0xd05") for n in range(4))
    text += "".join(cpu_block(n, "0x41", "0xd0b", "fp asimd asimddp asimdhp fphp i8mm bf16 sve sve2") for n in range(4, 8))
    device.add_file("proc/cpuinfo", text)
    for n in range(8):
        device.add_file("sys/devices/system/cpu/cpu{}/cpufreq/cpuinfo_max_freq".format(n), "1800000\n" if n < 4 else "2400000\n")
    reply = collect(device)
    assert reply["cpu_model"] == "Cortex-A55 + Cortex-A76"
    assert reply["cpu_clusters"] == [
        {"name": "Cortex-A55", "cores": 4, "max_mhz": 1800.0},
        {"name": "Cortex-A76", "cores": 4, "max_mhz": 2400.0},
    ]
    assert reply["cpu_flags"] == ["asimd", "asimddp", "asimdhp", "bf16", "fp16", "i8mm", "sve", "sve2"]


def test_hybrid_x86_clusters_by_frequency(device):
    block = "processor\t: {}\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Core(TM) Ultra 7 155H\nflags\t: lm avx2 avx_vnni amx_tile amx_int8 avx512_vnni avx512vnni\n\n"
    device.add_file("proc/cpuinfo", "".join(block.format(n) for n in range(3)))
    for n, khz in enumerate(["4800000", "4800000", "3800000"]):
        device.add_file("sys/devices/system/cpu/cpu{}/cpufreq/cpuinfo_max_freq".format(n), khz)
    reply = collect(device)
    assert reply["arch"] == "x86_64"
    assert [c["cores"] for c in reply["cpu_clusters"]] == [2, 1]
    assert [c["max_mhz"] for c in reply["cpu_clusters"]] == [4800.0, 3800.0]
    assert reply["cpu_flags"] == ["amx", "avx2", "avx512_vnni", "avx_vnni"]


def test_cores_from_sysfs_present(device):
    device.add_file("sys/devices/system/cpu/present", "0-3,6\n")
    assert collect(device)["cpu_cores"] == 5


def test_old_arm_kernel_global_processor_line(device):
    text = "Processor\t: ARMv7 Processor rev 3 (v7l)\nprocessor\t: 0\nBogoMIPS\t: 1.0\n\nprocessor\t: 1\nBogoMIPS\t: 1.0\n\n"
    text += "Features\t: swp half thumb neon vfpv4\nCPU implementer\t: 0x41\nCPU architecture: 7\nCPU part\t: 0xc07\nHardware\t: sun8i\n"
    device.add_file("proc/cpuinfo", text)
    reply = collect(device)
    assert reply["arch"] == "armv7l"
    assert reply["cpu_model"] == "Cortex-A7"
    assert reply["cpu_cores"] == 2
    assert reply["cpu_flags"] == ["neon", "vfpv4"]
    assert reply["board"] == "sun8i"


@pytest.mark.parametrize(
    ("isa", "flags"),
    [("rv64imafdcv_zicsr_zifencei", ["rvv"]), ("rv64gcv", ["rvv"]), ("rv64imafdc_zvl128b", []), ("rv64imafdc", []), ("", [])],
)
def test_riscv_vector_flag(isa, flags):
    assert riscv_flags(isa) == flags


def test_uname_machine_alias_normalised(device):
    device.add_script("uname", 'case "$*" in\n  -m) echo arm64 ;;\n  -r) echo 6.6.31 ;;\n  *) exit 1 ;;\nesac\n')
    reply = collect(device)
    assert reply["arch"] == "aarch64"
    assert reply["kernel"] == "6.6.31"


def test_kernel_from_osrelease(device):
    device.add_file("proc/sys/kernel/osrelease", "5.10.160-rockchip\n")
    assert collect(device)["kernel"] == "5.10.160-rockchip"


# Memory


def test_meminfo_with_available(device):
    device.add_file("proc/meminfo", "MemTotal:        3964928 kB\nMemFree:  100 kB\nMemAvailable:    2097152 kB\n")
    reply = collect(device)
    assert reply["mem_total_mb"] == 3872
    assert reply["mem_available_mb"] == 2048
    assert reply["warnings"] == []


def test_meminfo_without_available_is_estimated(device):
    device.add_file("proc/meminfo", "MemTotal: 1048576 kB\nMemFree: 102400 kB\nBuffers: 51200 kB\nCached: 204800 kB\n")
    reply = collect(device)
    assert reply["mem_total_mb"] == 1024
    assert reply["mem_available_mb"] == 350
    assert len(reply["warnings"]) == 1
    assert "estimated" in reply["warnings"][0]


def test_free_k_preferred_over_meminfo_absence(device):
    device.add_script(
        "free",
        'case "$*" in\n  -k) printf "             total       used       free     shared    buffers     cached\\n'
        'Mem:       2048000    1024000     512000          0     102400     204800\\n" ;;\n  *) exit 1 ;;\nesac\n',
    )
    reply = collect(device)
    assert reply["mem_total_mb"] == 2000
    assert reply["mem_available_mb"] == 800


def test_free_m_in_mib(device):
    text = "               total        used        free      shared  buff/cache   available\nMem:            3794         682        1300           5        1700        2900\n"
    device.add_script("free", 'case "$*" in\n  -m) printf "%s" "{}" ;;\n  *) exit 1 ;;\nesac\n'.format(text))
    reply = collect(device)
    assert reply["mem_total_mb"] == 3794
    assert reply["mem_available_mb"] == 2900


def test_free_human_units_parse():
    text = "               total        used        free      shared  buff/cache   available\nMem:           3.7Gi       682Mi       1.3Gi       5.0Mi       1.7Gi       2.9Gi\nSwap:          1.0Gi          0B       1.0Gi\n"
    total, available = parse_free(text, 1)
    assert int(total // 1024) == 3788
    assert int(available // 1024) == 2969


# Thermal


@pytest.mark.parametrize(("raw", "celsius"), [("45000", 45.0), ("52", 52.0), ("-256000", None), ("garbage", None), ("", None)])
def test_temperature_units(raw, celsius):
    assert to_celsius(raw) == celsius


def test_thermal_zones_in_number_order(device):
    for number, (kind, temp) in enumerate([("CPU-therm", "41500"), ("GPU-therm", "39000")] * 6):
        device.add_file("sys/class/thermal/thermal_zone{}/type".format(number), kind + "\n")
        device.add_file("sys/class/thermal/thermal_zone{}/temp".format(number), temp + "\n")
    device.add_file("sys/class/thermal/thermal_zone12/temp", "oops\n")
    reply = collect(device)
    assert len(reply["temperatures"]) == 12
    assert reply["temperatures"][0] == {"zone": "CPU-therm", "celsius": 41.5}
    assert reply["temperatures"][11] == {"zone": "GPU-therm", "celsius": 39.0}


# Board


def test_board_from_dmi(device):
    device.add_file("sys/class/dmi/id/product_name", "NUC11ATKC2\n")
    device.add_file("sys/class/dmi/id/sys_vendor", "Intel(R) Client Systems\n")
    assert collect(device)["board"] == "Intel(R) Client Systems NUC11ATKC2"


def test_board_dmi_placeholder_ignored(device):
    device.add_file("sys/class/dmi/id/product_name", "To be filled by O.E.M.\n")
    assert collect(device)["board"] is None


def test_board_from_sysfs_device_tree_with_nul(device):
    device.add_file("sys/firmware/devicetree/base/model", b"Radxa ROCK 5B\x00")
    assert collect(device)["board"] == "Radxa ROCK 5B"


# Accelerators


def test_jetson_with_device_tree(device):
    device.add_file("proc/device-tree/model", b"NVIDIA Jetson Nano Developer Kit\x00")
    device.add_file("proc/device-tree/compatible", b"nvidia,p3450-0000\x00nvidia,jetson-nano\x00nvidia,tegra210\x00")
    reply = collect(device)
    assert reply["accelerators"] == [{"kind": "gpu", "vendor": "nvidia", "name": "NVIDIA Jetson Nano Developer Kit (Tegra X1)"}]


def test_jetpack6_nvidia_smi_not_duplicated(device):
    device.add_file("etc/nv_tegra_release", "# R36 (release), REVISION: 4.3, GCID: 1, BOARD: generic, EABI: aarch64, DATE: x\n")
    device.add_script("nvidia-smi", 'case "$*" in\n  -L) echo "GPU 0: Orin (nvgpu) (UUID: GPU-1)" ;;\n  *) exit 1 ;;\nesac\n')
    reply = collect(device)
    assert reply["accelerators"] == [{"kind": "gpu", "vendor": "nvidia", "name": "NVIDIA Orin (L4T R36.4.3)"}]


def test_nvidia_smi_csv_fallback(device):
    device.add_script(
        "nvidia-smi",
        'case "$*" in\n  "--query-gpu=name --format=csv,noheader") printf "NVIDIA RTX A2000\\nNVIDIA RTX A2000\\n" ;;\n  *) exit 1 ;;\nesac\n',
    )
    reply = collect(device)
    assert reply["accelerators"] == [{"kind": "gpu", "vendor": "nvidia", "name": "NVIDIA RTX A2000"}]


def test_usb_ids_from_sysfs_without_lsusb(device):
    for name, vendor, product in [("2-3", "18d1", "9302"), ("1-1", "1a6e", "089a"), ("1-2", "03e7", "f63b"), ("1-4", "18d1", "4ee1")]:
        device.add_file("sys/bus/usb/devices/{}/idVendor".format(name), vendor + "\n")
        device.add_file("sys/bus/usb/devices/{}/idProduct".format(name), product + "\n")
    reply = collect(device)
    # Both Coral ids are one accelerator; 18d1:4ee1 is a Google phone, not a TPU.
    assert reply["accelerators"] == [
        {"kind": "tpu", "vendor": "google", "name": "Coral Edge TPU (USB)"},
        {"kind": "vpu", "vendor": "intel", "name": "Movidius Myriad X"},
    ]


def test_device_nodes_and_rockchip_compatible(device):
    device.add_file("dev/apex_0", b"")
    device.add_file("dev/hailo0", b"")
    device.add_file("proc/device-tree/compatible", b"radxa,rock-5b\x00rockchip,rk3588\x00")
    reply = collect(device)
    assert reply["accelerators"] == [
        {"kind": "tpu", "vendor": "google", "name": "Coral Edge TPU (PCIe)"},
        {"kind": "npu", "vendor": "rockchip", "name": "Rockchip NPU (RK3588)"},
        {"kind": "npu", "vendor": "hailo", "name": "Hailo NPU"},
    ]


def test_rockchip_driver_without_device_tree(device):
    device.add_file("sys/kernel/debug/rknpu/version", "RKNPU driver: v0.9.6\n")
    assert collect(device)["accelerators"] == [{"kind": "npu", "vendor": "rockchip", "name": "Rockchip NPU"}]


# Container runtime


def test_docker_server_version(device):
    device.add_script("docker", 'case "$*" in\n  "version --format {{.Server.Version}}") echo 24.0.7 ;;\n  *) exit 1 ;;\nesac\n')
    assert collect(device)["container_runtime"] == {"name": "docker", "version": "24.0.7", "daemon_running": True}


def test_docker_client_only(device):
    device.add_script("docker", 'case "$*" in\n  --version) echo "Docker version 24.0.7, build afdd53b" ;;\n  *) echo "Cannot connect to the Docker daemon" >&2; exit 1 ;;\nesac\n')
    assert collect(device)["container_runtime"] == {"name": "docker", "version": "24.0.7", "daemon_running": False}


def test_podman_when_no_docker(device):
    device.add_script("podman", 'case "$*" in\n  "version --format {{.Server.Version}}") echo 4.3.1 ;;\n  *) exit 1 ;;\nesac\n')
    assert collect(device)["container_runtime"] == {"name": "podman", "version": "4.3.1", "daemon_running": True}


# Python


def test_onnxruntime_probe_failure_gives_null(device, tmp_path):
    broken = tmp_path / "python-broken"
    broken.write_text("#!/bin/sh\necho 'Segmentation fault' >&2\nexit 139\n")
    broken.chmod(0o755)
    reply = collect(device, python_executable=str(broken))
    assert reply["onnxruntime"] is None
    assert reply["warnings"] == []
