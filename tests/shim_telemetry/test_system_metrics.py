"""System metrics of a sample, read under a device root built from the hardware captures.

The captures hold no /proc/stat, /proc/meminfo or thermal zone temp files, so
a root built from them alone reports those metrics as null. Where a test writes
such a file itself, its numbers are test values, not captured ones.
"""

import os

import pytest

from device_shim.telemetry.system import (
    SYSTEM_FIELDS,
    SystemMetrics,
    cpu_percent_between,
    cpu_times,
    is_power_of_ten,
)
from fixtures_devices import FIXTURES_DIR, build_device

JETSON_NANO_ZONES = "jetson-nano-l4t32/unitC_thermal_zone_types.txt"

MEMINFO = "MemTotal:        3964928 kB\nMemFree:          512000 kB\nMemAvailable:    2462720 kB\nBuffers:           10240 kB\n"
MEMINFO_OLD_KERNEL = "MemTotal:        1024000 kB\nMemFree:          102400 kB\nBuffers:           51200 kB\nCached:           204800 kB\n"


def write(root, relative, text):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def zone_types(device):
    zones = {}
    base = device.root / "sys/class/thermal"
    for zone in sorted(os.listdir(base)):
        zones[zone] = (base / zone / "type").read_text().strip()
    return zones


@pytest.mark.skipif(not (FIXTURES_DIR / JETSON_NANO_ZONES).exists(), reason="hardware captures not present")
def test_system_jetson_zone_types_without_temps(tmp_path):
    device = build_device(tmp_path, [JETSON_NANO_ZONES])
    metrics = SystemMetrics(str(tmp_path), root=str(device.root))

    values = metrics.sample()
    assert set(values) == set(SYSTEM_FIELDS)
    # The capture lists the zone types only: no reading, and no /proc files.
    assert values["temp_c"] is None
    assert values["cpu_percent"] is None
    assert values["mem_used_mb"] is None
    assert values["mem_total_mb"] is None
    # The disk is the real one under the home folder.
    assert values["disk_free_mb"] > 0
    assert 0 <= values["disk_used_percent"] <= 100


@pytest.mark.skipif(not (FIXTURES_DIR / JETSON_NANO_ZONES).exists(), reason="hardware captures not present")
def test_system_jetson_cpu_zone_wins(tmp_path):
    device = build_device(tmp_path, [JETSON_NANO_ZONES])
    zones = zone_types(device)
    assert zones["thermal_zone1"] == "CPU-therm"
    # Test values: the PMIC die is the hottest zone, but it is not the CPU.
    readings = {"AO-therm": 37000, "CPU-therm": 32500, "GPU-therm": 28500, "PLL-therm": 28000, "PMIC-Die": 50000}
    for zone, zone_type in zones.items():
        if zone_type in readings:
            write(device.root, "sys/class/thermal/{}/temp".format(zone), "{}\n".format(readings[zone_type]))

    assert SystemMetrics(str(tmp_path), root=str(device.root)).sample()["temp_c"] == 32.5


def test_system_orin_absent_sensor_ignored(tmp_path):
    root = tmp_path / "root"
    # Jetson Orin reports -256 C for a zone without a sensor; test values otherwise.
    write(root, "sys/class/thermal/thermal_zone0/type", "cpu-thermal\n")
    write(root, "sys/class/thermal/thermal_zone0/temp", "-256000\n")
    write(root, "sys/class/thermal/thermal_zone1/type", "tj-thermal\n")
    write(root, "sys/class/thermal/thermal_zone1/temp", "47250\n")
    write(root, "sys/class/thermal/thermal_zone2/type", "gpu-thermal\n")
    write(root, "sys/class/thermal/thermal_zone2/temp", "61000\n")

    assert SystemMetrics(str(tmp_path), root=str(root)).sample()["temp_c"] == 47.2


def test_system_no_cpu_zone_uses_max(tmp_path):
    root = tmp_path / "root"
    write(root, "sys/class/thermal/thermal_zone0/type", "acpitz\n")
    write(root, "sys/class/thermal/thermal_zone0/temp", "41000\n")
    write(root, "sys/class/thermal/thermal_zone1/type", "iwlwifi_1\n")
    write(root, "sys/class/thermal/thermal_zone1/temp", "45000\n")

    assert SystemMetrics(str(tmp_path), root=str(root)).sample()["temp_c"] == 45.0


def test_system_memory_from_meminfo(tmp_path):
    root = tmp_path / "root"
    write(root, "proc/meminfo", MEMINFO)

    values = SystemMetrics(str(tmp_path), root=str(root)).sample()
    assert values["mem_total_mb"] == 3872.0
    assert values["mem_used_mb"] == 3872.0 - 2405.0


def test_system_memory_old_kernel_estimate(tmp_path):
    root = tmp_path / "root"
    write(root, "proc/meminfo", MEMINFO_OLD_KERNEL)

    values = SystemMetrics(str(tmp_path), root=str(root)).sample()
    assert values["mem_total_mb"] == 1000.0
    # Without MemAvailable, available = MemFree + Buffers + Cached = 350 MiB.
    assert values["mem_used_mb"] == 650.0


def test_system_cpu_percent_from_stat_deltas(tmp_path):
    root = tmp_path / "root"
    write(root, "proc/stat", "cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 100 0 100 700 100 0 0 0 0 0\n")
    metrics = SystemMetrics(str(tmp_path), root=str(root))
    # 400 more jiffies: 100 user + 50 system busy, 200 idle + 50 iowait.
    write(root, "proc/stat", "cpu  200 0 150 900 150 0 0 0 0 0\n")

    assert metrics.sample()["cpu_percent"] == 37.5
    # No time passed since the last reading: no value rather than a division by zero.
    assert metrics.sample()["cpu_percent"] is None


def test_system_root_from_environment(tmp_path, monkeypatch):
    root = tmp_path / "root"
    write(root, "proc/meminfo", MEMINFO)
    monkeypatch.setenv("EDGETUI_SHIM_ROOT", str(root))

    assert SystemMetrics(str(tmp_path)).sample()["mem_total_mb"] == 3872.0


def test_system_this_machine(tmp_path):
    metrics = SystemMetrics(str(tmp_path), root="/")

    values = metrics.sample()
    assert values["mem_total_mb"] > 0
    assert 0 < values["mem_used_mb"] < values["mem_total_mb"]
    assert values["disk_free_mb"] > 0


def test_system_missing_home_is_null(tmp_path):
    values = SystemMetrics(str(tmp_path / "gone"), root=str(tmp_path)).sample()
    assert values["disk_free_mb"] is None
    assert values["disk_used_percent"] is None


def test_system_cpu_times_parsing():
    assert cpu_times("cpu  1 2 3 4 5 6 7 8 9 10\n") == (1 + 2 + 3 + 6 + 7 + 8, 36)
    assert cpu_times("cpu  1 2 3 4\n") == (6, 10)
    assert cpu_times("intr 5\n") is None
    assert cpu_times("cpu  a b c d\n") is None
    assert cpu_times(None) is None
    assert cpu_percent_between((10, 100), (5, 200)) is None
    assert cpu_percent_between(None, (5, 200)) is None


def test_system_log_repeats():
    assert [count for count in range(1, 1001) if is_power_of_ten(count)] == [1, 10, 100, 1000]
