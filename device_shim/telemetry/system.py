"""The device's CPU use, memory, temperature and disk for each sample, from /proc, /sys and statvfs.

/proc and /sys are read under the shim's root prefix (--root, else
EDGETUI_SHIM_ROOT, else /), as inventory reads them, so a simulated device
reports its own files. Each value is None when its source cannot be read.
"""

import logging
import os
import re

from device_shim.facts.context import Context
from device_shim.facts.memory import from_meminfo
from device_shim.facts.thermal import to_celsius
from device_shim.inventory import resolve_root

LOG = logging.getLogger(__name__)

MIB = 1024 * 1024

# Thermal zone types that measure the CPU or the SoC die around it, such as
# "CPU-therm" (Jetson Nano, L4T R32), "cpu-thermal", "tj-thermal",
# "x86_pkg_temp" and "TCPU".
# NOTE: only the Jetson Nano zone types come from a hardware capture; the
# other names are the usual kernel driver names, not checked on a board here.
CPU_ZONE_PATTERN = re.compile(r"cpu|soc|x86_pkg_temp|^tj[-_]|package|core", re.IGNORECASE)

SYSTEM_FIELDS = ("cpu_percent", "mem_used_mb", "mem_total_mb", "temp_c", "disk_free_mb", "disk_used_percent")


def cpu_times(text):
    """Return (busy, total) jiffies from the aggregate `cpu` line of /proc/stat text, or None.

    Columns: user nice system idle iowait irq softirq steal guest guest_nice.
    guest and guest_nice are already counted in user and nice, so they are left
    out. idle and iowait are the time not busy.
    """
    for line in (text or "").splitlines():
        fields = line.split()
        if not fields or fields[0] != "cpu":
            continue
        try:
            values = [int(value) for value in fields[1:9]]
        except ValueError:
            return None
        if len(values) < 4:
            return None
        total = sum(values)
        idle = values[3] + (values[4] if len(values) > 4 else 0)
        return total - idle, total
    return None


def cpu_percent_between(previous, current):
    """Return the busy share in percent between two cpu_times readings, or None."""
    if previous is None or current is None:
        return None
    busy = current[0] - previous[0]
    total = current[1] - previous[1]
    # No jiffies passed, or the counters went back (a different root or a reset).
    if total <= 0 or busy < 0:
        return None
    return round(100.0 * busy / total, 1)


def max_cpu_temperature(ctx):
    """Return the highest valid reading of the CPU-like thermal zones, in degrees Celsius, or None.

    A device whose zones have no CPU-like type reports the highest of all its
    valid zones, because a board whose only zone is "acpitz" still shows its
    heat that way.
    """
    cpu_readings = []
    other_readings = []
    for zone in ctx.list_dir("/sys/class/thermal"):
        if not zone.startswith("thermal_zone"):
            continue
        directory = "/sys/class/thermal/" + zone
        celsius = to_celsius(ctx.read_value(directory + "/temp"))
        if celsius is None:
            continue
        zone_type = ctx.read_value(directory + "/type") or ""
        if CPU_ZONE_PATTERN.search(zone_type):
            cpu_readings.append(celsius)
        else:
            other_readings.append(celsius)
    readings = cpu_readings or other_readings
    return max(readings) if readings else None


def memory_mb(ctx):
    """Return (used MiB, total MiB) from /proc/meminfo as MemTotal - MemAvailable, or (None, None)."""
    parsed = from_meminfo(ctx.read_text("/proc/meminfo") or "")
    if not parsed:
        return None, None
    total, available, _ = parsed
    if available is None:
        return None, float(total)
    return float(total - available), float(total)


def disk_usage(path):
    """Return (free MiB for unprivileged users, used percent as df prints it) of path's file system."""
    stats = os.statvfs(path)
    free_mb = round(stats.f_bavail * stats.f_frsize / float(MIB), 1)
    used = stats.f_blocks - stats.f_bfree
    # df's Use%: used / (used + available to unprivileged users).
    usable = used + stats.f_bavail
    used_percent = round(100.0 * used / usable, 1) if usable > 0 else None
    return free_mb, used_percent


class SystemMetrics(object):
    """Reads the system fields of a sample; CPU use is measured between consecutive calls."""

    def __init__(self, disk_path, root=None):
        self.disk_path = disk_path
        self.root = resolve_root(root)
        self._failures = {}
        # The first sample's CPU use covers the time since this reading.
        self._previous_cpu = self._read_cpu_times()

    def _context(self):
        # A fresh Context each time, because Context caches file contents.
        return Context(root=self.root)

    def _read_cpu_times(self, ctx=None):
        return cpu_times((ctx or self._context()).read_text("/proc/stat"))

    def sample(self):
        """Return the SYSTEM_FIELDS; a field whose source fails is None and its error is logged."""
        ctx = self._context()
        values = dict((name, None) for name in SYSTEM_FIELDS)

        try:
            current = self._read_cpu_times(ctx)
            values["cpu_percent"] = cpu_percent_between(self._previous_cpu, current)
            self._previous_cpu = current
        except Exception as exc:  # noqa: BLE001 - one unreadable source must not lose the sample
            self._log_failure("cpu", ctx.path("/proc/stat"), exc)

        try:
            values["mem_used_mb"], values["mem_total_mb"] = memory_mb(ctx)
        except Exception as exc:  # noqa: BLE001
            self._log_failure("memory", ctx.path("/proc/meminfo"), exc)

        try:
            values["temp_c"] = max_cpu_temperature(ctx)
        except Exception as exc:  # noqa: BLE001
            self._log_failure("temperature", ctx.path("/sys/class/thermal"), exc)

        try:
            values["disk_free_mb"], values["disk_used_percent"] = disk_usage(self.disk_path)
        except Exception as exc:  # noqa: BLE001
            self._log_failure("disk", self.disk_path, exc)
        return values

    def _log_failure(self, metric, source, exc):
        """Log a failed reading the 1st, 10th, 100th... time, so a broken source does not flood the log."""
        count = self._failures.get(metric, 0) + 1
        self._failures[metric] = count
        if is_power_of_ten(count):
            LOG.warning("reading %s from %s failed (%d times so far): %s: %s", metric, source, count, type(exc).__name__, exc)


def is_power_of_ten(count):
    """Return True for 1, 10, 100, ...: the repeats of an error that get logged."""
    while count >= 10 and count % 10 == 0:
        count //= 10
    return count == 1
