"""Turn domain values into the short texts that the screens show.

Pure functions with no Textual imports, so the wording is tested without an app.
"""

from datetime import UTC, datetime
from typing import Any

from edgetui.domain import Accelerator, Device, HardwareFacts

NO_VALUE = "—"
"""Text of a cell whose value is unknown or does not exist yet."""


SIMULATED_TAG = "simulated"
"""Tag that the sample fleet sets to "true" on each device it simulates."""

HOST_FACTS = ("python", "onnxruntime", "disk free")
"""Facts that a simulated device reads from the computer running the sample fleet, not from captures."""


def is_simulated(device: Device) -> bool:
    """Return whether ``device`` is a sample fleet simulation, from its `simulated` tag."""
    return device.tags.get(SIMULATED_TAG) == "true"


def relative_time(then: datetime | None, now: datetime) -> str:
    """Describe how long ago ``then`` was: "12s ago", "5m ago", "3h ago", "4d ago" or "never"."""
    if then is None:
        return "never"
    seconds = int((as_utc(now) - as_utc(then)).total_seconds())
    if seconds < 0:
        # A device clock ahead of ours, or a clock change, must not print "-3s ago".
        return "just now"
    if seconds < 60:
        return f"{seconds}s ago"
    if seconds < 3600:
        return f"{seconds // 60}m ago"
    if seconds < 86400:
        return f"{seconds // 3600}h ago"
    return f"{seconds // 86400}d ago"


def as_utc(moment: datetime) -> datetime:
    """Treat a naive datetime as UTC, which is how the store writes timestamps."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def memory_text(megabytes: int | None) -> str:
    """Format a size in MiB: "512 MiB" below 1 GiB, else GiB with one decimal ("7.6 GiB")."""
    if megabytes is None:
        return NO_VALUE
    if megabytes < 1024:
        return f"{megabytes} MiB"
    return f"{megabytes / 1024:.1f} GiB"


def accelerators_text(accelerators: list[Accelerator]) -> str:
    """Join accelerators as "vendor kind" pairs, e.g. "nvidia gpu, google tpu"."""
    if not accelerators:
        return NO_VALUE
    return ", ".join(f"{item.vendor} {item.kind}" for item in accelerators)


def shorten(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` characters, ending with an ellipsis when it was cut."""
    single_line = " ".join(text.split())
    if len(single_line) <= width:
        return single_line
    return single_line[: max(width - 1, 0)] + "…"


def value_text(value: Any) -> str:
    """Format one fact value, or one side of a change, for display."""
    if value is None or value == [] or value == {}:
        return NO_VALUE
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(value_text(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}={value_text(item)}" for key, item in value.items())
    if hasattr(value, "model_dump"):
        return value_text(value.model_dump())
    return str(value)


def fact_rows(facts: HardwareFacts) -> list[tuple[str, str]]:
    """Return every fact of a discovery as (label, text) pairs, in reading order."""
    onnx = facts.onnxruntime
    runtime = facts.container_runtime
    return [
        ("arch", value_text(facts.arch)),
        ("kernel", value_text(facts.kernel)),
        ("OS", _os_text(facts)),
        ("board", value_text(facts.board)),
        ("CPU model", value_text(facts.cpu_model)),
        ("cores", value_text(facts.cpu_cores)),
        ("clusters", _clusters_text(facts)),
        ("CPU flags", value_text(facts.cpu_flags)),
        ("memory total", memory_text(facts.mem_total_mb)),
        ("memory available", memory_text(facts.mem_available_mb)),
        ("disk free", memory_text(facts.disk_free_mb)),
        ("temperatures", _temperatures_text(facts)),
        ("python", value_text(facts.python)),
        ("onnxruntime", onnx.version if onnx else NO_VALUE),
        ("ORT providers", value_text(onnx.providers) if onnx else NO_VALUE),
        ("accelerators", _accelerator_names(facts.accelerators)),
        ("containers", _runtime_text(runtime)),
        ("limited", "yes (no python3; shell fallback)" if facts.limited else "no"),
        ("warnings", "; ".join(facts.warnings) if facts.warnings else NO_VALUE),
    ]


def _os_text(facts: HardwareFacts) -> str:
    """Return the OS name with its version, e.g. "Debian GNU/Linux 12 (bookworm) (12)"."""
    name = facts.os_name or facts.os_id
    if name is None:
        return NO_VALUE
    if facts.os_version and facts.os_version not in name:
        return f"{name} ({facts.os_version})"
    return name


def _clusters_text(facts: HardwareFacts) -> str:
    """Describe CPU clusters as "4x cortex-a72 @ 1800 MHz"."""
    parts = []
    for cluster in facts.cpu_clusters:
        speed = f" @ {cluster.max_mhz:.0f} MHz" if cluster.max_mhz else ""
        parts.append(f"{cluster.cores}x {cluster.name}{speed}")
    return ", ".join(parts) or NO_VALUE


def _temperatures_text(facts: HardwareFacts) -> str:
    """List each thermal zone with its reading in °C."""
    readings = [f"{item.zone} {item.celsius:.1f} °C" for item in facts.temperatures]
    return ", ".join(readings) or NO_VALUE


def _accelerator_names(accelerators: list[Accelerator]) -> str:
    """List accelerators with their product names, e.g. "nvidia gpu (Tegra X1)"."""
    names = [f"{item.vendor} {item.kind} ({item.name})" for item in accelerators]
    return ", ".join(names) or NO_VALUE


def _runtime_text(runtime: Any) -> str:
    """Describe the container runtime and whether its daemon responded."""
    if runtime is None:
        return NO_VALUE
    version = f" {runtime.version}" if runtime.version else ""
    if runtime.daemon_running is None:
        return f"{runtime.name}{version}"
    state = "running" if runtime.daemon_running else "not running"
    return f"{runtime.name}{version} (daemon {state})"
