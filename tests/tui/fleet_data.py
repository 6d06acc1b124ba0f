"""A fleet database with fixed devices, facts and times, for Pilot and snapshot tests."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from edgetui.domain import (
    Accelerator,
    ContainerRuntime,
    CpuCluster,
    Device,
    DeviceStatus,
    HardwareFacts,
    OnnxRuntimeInfo,
    Temperature,
)
from edgetui.store import FleetStore

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
"""The tests' fixed "now", so relative times read the same on every run."""


def fixed_clock() -> datetime:
    """Return NOW."""
    return NOW


RPI_FACTS = HardwareFacts(
    arch="aarch64",
    kernel="6.1.21-v8+",
    os_id="debian",
    os_version="12",
    os_name="Debian GNU/Linux 12 (bookworm)",
    board="Raspberry Pi 4 Model B Rev 1.4",
    cpu_model="Cortex-A72",
    cpu_cores=4,
    cpu_clusters=[CpuCluster(name="cortex-a72", cores=4, max_mhz=1800)],
    cpu_flags=["fp", "asimd", "evtstrm", "crc32"],
    mem_total_mb=3794,
    mem_available_mb=3012,
    disk_free_mb=21504,
    temperatures=[Temperature(zone="cpu-thermal", celsius=48.7)],
    python="3.11.2",
    onnxruntime=OnnxRuntimeInfo(version="1.18.0", providers=["CPUExecutionProvider"]),
    container_runtime=ContainerRuntime(name="docker", version="24.0.5", daemon_running=True),
)

JETSON_FACTS = HardwareFacts(
    arch="aarch64",
    kernel="4.9.337-tegra",
    os_id="ubuntu",
    os_version="18.04",
    os_name="Ubuntu 18.04.6 LTS",
    board="NVIDIA Jetson Nano Developer Kit",
    cpu_model="ARMv8 Processor rev 1 (v8l)",
    cpu_cores=4,
    mem_total_mb=3956,
    mem_available_mb=2100,
    disk_free_mb=8200,
    python="3.6.9",
    accelerators=[Accelerator(kind="gpu", vendor="nvidia", name="Tegra X1 (Maxwell)")],
    warnings=["python3 3.6 is end of life"],
)

CORAL_FACTS = HardwareFacts(
    arch="aarch64",
    os_name="Mendel GNU/Linux 5 (Eagle)",
    board="Coral Dev Board",
    cpu_cores=4,
    mem_total_mb=980,
    accelerators=[Accelerator(kind="tpu", vendor="google", name="Edge TPU")],
)

NUC_FACTS = HardwareFacts(
    arch="x86_64",
    os_name="Ubuntu 22.04.4 LTS",
    board="Intel NUC11TNHi5",
    cpu_cores=8,
    mem_total_mb=15872,
)


def fill_store(path: Path) -> FleetStore:
    """Create a fleet database at ``path`` with six devices in every status."""
    store = FleetStore(path)
    _add(store, "coral-devboard", 40003, DeviceStatus.ONLINE, None, NOW - timedelta(minutes=5), CORAL_FACTS)
    _add(store, "imx8-kiosk", 40004, DeviceStatus.ERROR,
         "shim reply was not valid JSON: Expecting value: line 1 column 1 (char 0)", None, None)
    _add(store, "jetson-nano", 40002, DeviceStatus.ONLINE, None, NOW - timedelta(hours=3), JETSON_FACTS)
    _add(store, "new-device", 40005, DeviceStatus.UNKNOWN, None, None, None)
    _add(store, "nuc-gateway", 40006, DeviceStatus.OFFLINE,
         "connection refused by 127.0.0.1:40006; is the SSH server running?",
         NOW - timedelta(days=2), NUC_FACTS)
    _add(store, "rpi4-aarch64", 40001, DeviceStatus.ONLINE, None, NOW - timedelta(seconds=12), RPI_FACTS)
    # A second discovery of the Pi found more memory: the "what changed" section shows it.
    upgraded = RPI_FACTS.model_copy(update={"mem_total_mb": 7812, "mem_available_mb": 7001})
    store.record_facts("rpi4-aarch64", upgraded, NOW - timedelta(seconds=12))
    return store


def _add(store: FleetStore, name: str, port: int, status: DeviceStatus, reason: str | None,
         last_seen: datetime | None, facts: HardwareFacts | None) -> None:
    """Add one device on 127.0.0.1 with its status and, when given, one discovery's facts."""
    store.upsert_device(Device(name=name, host="127.0.0.1", port=port, user="edge"))
    if facts is not None:
        store.record_facts(name, facts, (last_seen or NOW) - timedelta(days=1))
    store.set_status(name, status, reason, last_seen=last_seen)
