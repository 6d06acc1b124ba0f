"""Hardware facts: snapshots, history, and which differences count as changes."""

from datetime import UTC, datetime, timedelta

import pytest

from edgetui.domain import (
    Accelerator,
    ContainerRuntime,
    CpuCluster,
    Device,
    HardwareFacts,
    OnnxRuntimeInfo,
    Temperature,
)
from edgetui.store.facts import HARDWARE_FACTS, READINGS, compare_facts

T0 = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)


def jetson_facts(**overrides) -> HardwareFacts:
    values = dict(
        arch="aarch64", kernel="4.9.253-tegra", os_id="ubuntu", os_version="18.04",
        os_name="Ubuntu 18.04.6 LTS", board="NVIDIA Jetson Nano Developer Kit",
        cpu_model="ARMv8 Processor rev 1 (v8l)", cpu_cores=4,
        cpu_clusters=[CpuCluster(name="cortex-a57", cores=4, max_mhz=1479.0)],
        cpu_flags=["fp", "asimd", "aes"], mem_total_mb=3956, mem_available_mb=2100,
        disk_free_mb=10240, temperatures=[Temperature(zone="CPU-therm", celsius=41.5)],
        python="3.6.9", onnxruntime=OnnxRuntimeInfo(version="1.10.0", providers=["CPUExecutionProvider"]),
        accelerators=[Accelerator(kind="gpu", vendor="nvidia", name="Tegra X1")],
        container_runtime=ContainerRuntime(name="docker", version="20.10.7", daemon_running=True),
    )
    values.update(overrides)
    return HardwareFacts(**values)


@pytest.fixture
def jetson(store):
    store.upsert_device(Device(name="jetson-nano", host="10.0.0.7"))
    return store


def test_first_snapshot_has_no_changes(jetson):
    assert jetson.latest_facts("jetson-nano") is None
    assert jetson.record_facts("jetson-nano", jetson_facts(), T0) == []
    assert jetson.latest_facts("jetson-nano") == jetson_facts()


def test_memory_upgrade_and_accelerator_are_changes(jetson):
    jetson.record_facts("jetson-nano", jetson_facts(), T0)
    coral = Accelerator(kind="tpu", vendor="google", name="Coral USB Accelerator")
    after = jetson_facts(mem_total_mb=7850,
                         accelerators=[*jetson_facts().accelerators, coral])

    changes = jetson.record_facts("jetson-nano", after, T0 + timedelta(hours=1))

    by_fact = {change.fact: change for change in changes}
    assert list(by_fact) == ["mem_total_mb", "accelerators"]
    assert by_fact["mem_total_mb"].before == 3956
    assert by_fact["mem_total_mb"].after == 7850
    assert len(by_fact["accelerators"].before) == 1
    assert by_fact["accelerators"].after[1] == {"kind": "tpu", "vendor": "google",
                                                "name": "Coral USB Accelerator"}


def test_readings_are_stored_not_changes(jetson):
    jetson.record_facts("jetson-nano", jetson_facts(), T0)
    after = jetson_facts(
        mem_available_mb=900, disk_free_mb=512,
        temperatures=[Temperature(zone="CPU-therm", celsius=67.0)],
        container_runtime=ContainerRuntime(name="docker", version="20.10.7", daemon_running=False),
        warnings=["nvidia-smi not found"],
    )

    assert jetson.record_facts("jetson-nano", after, T0 + timedelta(minutes=5)) == []
    latest = jetson.latest_facts("jetson-nano")
    assert latest.temperatures[0].celsius == 67.0
    assert latest.mem_available_mb == 900
    assert latest.disk_free_mb == 512
    assert latest.warnings == ["nvidia-smi not found"]


@pytest.mark.parametrize("fact, value", [
    ("kernel", "5.10.120-tegra"),
    ("os_version", "20.04"),
    ("cpu_flags", ["fp", "asimd", "aes", "sha2"]),
    ("python", "3.8.10"),
    ("onnxruntime", OnnxRuntimeInfo(version="1.16.3", providers=["CPUExecutionProvider"])),
    ("container_runtime", ContainerRuntime(name="podman", version="4.3.1", daemon_running=True)),
])
def test_software_updates_are_changes(fact, value):
    changes = compare_facts(jetson_facts(), jetson_facts(**{fact: value}))
    assert [change.fact for change in changes] == [fact]


def test_every_fact_is_classified():
    assert set(HARDWARE_FACTS) | READINGS | {"warnings"} == set(HardwareFacts.model_fields)
    assert not set(HARDWARE_FACTS) & READINGS


def test_limited_discovery_unknowns_are_not_changes():
    limited = jetson_facts(cpu_clusters=[], cpu_flags=[], onnxruntime=None, accelerators=[],
                           python=None, limited=True)
    changes = compare_facts(jetson_facts(), limited)
    assert {change.fact: change.after for change in changes} == {"python": None, "limited": True}

    back = compare_facts(limited, jetson_facts())
    assert {change.fact: change.after for change in back} == {"python": "3.6.9", "limited": False}


def test_limited_discovery_known_values_still_compare():
    before = jetson_facts(limited=True, python=None)
    after = jetson_facts(limited=True, python=None, mem_total_mb=7850)
    assert [change.fact for change in compare_facts(before, after)] == ["mem_total_mb"]


def test_history_newest_first_with_changes(jetson):
    jetson.record_facts("jetson-nano", jetson_facts(), T0)
    jetson.record_facts("jetson-nano", jetson_facts(mem_total_mb=7850), T0 + timedelta(days=1))
    jetson.record_facts("jetson-nano", jetson_facts(mem_total_mb=7850), T0 + timedelta(days=2))

    history = jetson.facts_history("jetson-nano")

    assert [snapshot.at for snapshot in history] == [T0 + timedelta(days=2), T0 + timedelta(days=1), T0]
    assert history[0].changes == []
    assert [change.fact for change in history[1].changes] == ["mem_total_mb"]
    assert history[2].changes == []
    assert history[0].at.tzinfo is not None


def test_history_limit(jetson):
    for day in range(5):
        jetson.record_facts("jetson-nano", jetson_facts(), T0 + timedelta(days=day))
    history = jetson.facts_history("jetson-nano", limit=2)
    assert [snapshot.at for snapshot in history] == [T0 + timedelta(days=4), T0 + timedelta(days=3)]


def test_history_is_per_device(jetson):
    jetson.upsert_device(Device(name="rpi4", host="10.0.0.5"))
    jetson.record_facts("jetson-nano", jetson_facts(), T0)
    jetson.record_facts("rpi4", jetson_facts(arch="armv7l"), T0)
    assert jetson.record_facts("rpi4", jetson_facts(arch="armv7l"), T0 + timedelta(hours=1)) == []
    assert jetson.latest_facts("jetson-nano").arch == "aarch64"
