"""The POSIX sh fallback inventory.sh, run with /bin/sh and busybox sh against fixture roots."""

import json
import shutil
import subprocess

import pytest

import device_shim
from edgetui.domain.hardware import HardwareFacts
from edgetui.shim_bundle import build_shim_bundle
from fixtures_devices import FIXTURES_DIR, build_device, main_unit_captures, make_device_root

BUSYBOX = shutil.which("busybox")

# Programs inventory.sh runs. df reports this machine's disk, which is right:
# disk_free_mb is about the folder the script runs in.
SH_TOOLS = ("awk", "cat", "df", "head", "sed", "tr")

# The busybox case also takes every tool from busybox, as on OpenWrt.
SHELLS = [pytest.param("/bin/sh", id="bin-sh")]
SHELLS.append(pytest.param("busybox", id="busybox", marks=pytest.mark.skipif(not BUSYBOX, reason="busybox not installed")))


def install_tools(device, shell):
    """Link SH_TOOLS into the device's toolset, from busybox or from this machine; return the shell argv."""
    for program in SH_TOOLS:
        target = device.toolset_dir / program
        if target.is_symlink():
            target.unlink()
        source = BUSYBOX if shell == "busybox" else shutil.which(program)
        if source:
            target.symlink_to(source)
    return [BUSYBOX, "sh"] if shell == "busybox" else [shell]


def run_sh(device, shell):
    """Run inventory.sh through `sh -s` as the console does; return the parsed reply."""
    argv = install_tools(device, shell)
    completed = subprocess.run(
        argv + ["-s"],
        input=build_shim_bundle().inventory_sh,
        capture_output=True,
        env=device.env(EDGETUI_SHIM_ROOT=str(device.root)),
        cwd=str(device.root.parent),
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == b""
    reply = json.loads(completed.stdout)
    HardwareFacts.model_validate(reply)
    assert set(reply) == set(HardwareFacts.model_fields) | {"shim_version"}
    assert reply["limited"] is True
    assert reply["python"] is None
    assert isinstance(reply["disk_free_mb"], int)
    return reply


needs_fixtures = pytest.mark.skipif(not FIXTURES_DIR.is_dir(), reason="device fixtures not found")


def test_sh_syntax():
    script = build_shim_bundle().inventory_sh
    for shell in (["/bin/sh"], [BUSYBOX, "sh"]) if BUSYBOX else (["/bin/sh"],):
        completed = subprocess.run(shell + ["-n"], input=script, capture_output=True, timeout=30)
        assert completed.returncode == 0, completed.stderr


def test_sh_version_matches_python_shim():
    assert 'SHIM_VERSION="{}"'.format(device_shim.__version__).encode() in build_shim_bundle().inventory_sh


@needs_fixtures
@pytest.mark.parametrize("shell", SHELLS)
def test_sh_jetson_nano(tmp_path, shell):
    reply = run_sh(build_device(tmp_path, main_unit_captures("jetson-nano-l4t32")), shell)
    assert reply["arch"] == "aarch64"
    assert reply["kernel"] == "4.9.337-tegra"
    assert reply["cpu_model"] == "Cortex-A57"
    assert reply["cpu_cores"] == 4


@needs_fixtures
@pytest.mark.parametrize("shell", SHELLS)
def test_sh_rpi3b(tmp_path, shell):
    reply = run_sh(build_device(tmp_path, main_unit_captures("rpi3b-armv7-raspbian")), shell)
    assert reply["arch"] == "armv7l"
    assert reply["os_id"] == "raspbian"
    assert reply["os_version"] == "11"
    assert reply["os_name"] == "Raspbian GNU/Linux 11 (bullseye)"
    assert reply["board"] == "Raspberry Pi 3 Model B Rev 1.2"
    assert reply["cpu_model"] == "Cortex-A53"


@needs_fixtures
@pytest.mark.parametrize("shell", SHELLS)
def test_sh_openwrt(tmp_path, shell):
    reply = run_sh(build_device(tmp_path, main_unit_captures("openwrt-busybox")), shell)
    assert reply["arch"] == "mips"
    assert reply["os_id"] == "openwrt"
    assert reply["os_version"] == "14.07"
    assert reply["board"] == "MT7620"
    assert reply["cpu_model"] == "MIPS 24KEc V5.0"
    assert reply["cpu_cores"] == 1


@needs_fixtures
@pytest.mark.parametrize("shell", SHELLS)
def test_sh_rpi_zero_and_yocto(tmp_path, shell):
    device = build_device(tmp_path, ["rpi-zero-armv6/unitC_proc_cpuinfo.buster_with_model", "yocto-poky/os-release.poky-altcfg"])
    reply = run_sh(device, shell)
    assert reply["arch"] == "armv6l"
    assert reply["cpu_model"] == "ARM1176"
    assert reply["board"] == "Raspberry Pi Zero Rev 1.3"
    assert reply["os_id"] == "poky-altcfg"
    assert reply["os_version"] == "6.0.3"


@pytest.mark.parametrize("shell", SHELLS)
def test_sh_escapes_and_meminfo(tmp_path, shell):
    device = make_device_root(tmp_path)
    device.add_file("etc/os-release", 'ID=edge\nPRETTY_NAME="Edge \\"quoted\\" back\\\\slash\ttab Café"\n'.encode())
    device.add_file("proc/device-tree/model", b"Board \x01ctl\x00")
    device.add_file("proc/meminfo", "MemTotal: 1048576 kB\nMemFree: 102400 kB\nBuffers: 51200 kB\nCached: 204800 kB\n")
    reply = run_sh(device, shell)
    # Bytes outside ASCII are dropped, because sh cannot check that they are valid UTF-8.
    assert reply["os_name"] == 'Edge "quoted" back\\slash\ttab Caf'
    assert reply["board"] == "Board \x01ctl"
    assert reply["mem_total_mb"] == 1024
    assert reply["mem_available_mb"] == 350
    assert len(reply["warnings"]) == 2


@pytest.mark.parametrize("shell", SHELLS)
def test_sh_empty_root(tmp_path, shell):
    reply = run_sh(make_device_root(tmp_path), shell)
    for key in ("arch", "kernel", "os_id", "os_version", "os_name", "board", "cpu_model", "cpu_cores", "mem_total_mb"):
        assert reply[key] is None, key
