"""Devices: add, update, list, remove, status, and the not-found error."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from edgetui.domain import Device, DeviceStatus, HardwareFacts
from edgetui.errors import InputError
from edgetui.store import DeviceNotFound


def make_device(name: str = "rpi4-aarch64", **fields) -> Device:
    values = {"host": "10.0.0.5", "port": 22, "user": "edge", "tags": {"site": "plant-a"}}
    values.update(fields)
    return Device(name=name, **values)


def test_upsert_creates_device(store):
    assert store.upsert_device(make_device(key_file="/keys/id_ed25519", proxy_jump="gw")) is True
    device = store.device("rpi4-aarch64")
    assert device.host == "10.0.0.5"
    assert device.port == 22
    assert device.user == "edge"
    assert device.key_file == "/keys/id_ed25519"
    assert device.proxy_jump == "gw"
    assert device.tags == {"site": "plant-a"}
    assert device.status is DeviceStatus.UNKNOWN


def test_upsert_updates_connection_keeps_state(store):
    seen = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    store.upsert_device(make_device())
    store.set_status("rpi4-aarch64", DeviceStatus.ONLINE, "answered", last_seen=seen)
    store._connection.db.execute("UPDATE devices SET current_release = 'r7'")

    created = store.upsert_device(make_device(host="10.0.0.9", port=2222, user="pi",
                                              tags={"site": "plant-b"}, status=DeviceStatus.OFFLINE))

    assert created is False
    device = store.device("rpi4-aarch64")
    assert device.host == "10.0.0.9"
    assert device.port == 2222
    assert device.user == "pi"
    assert device.tags == {"site": "plant-b"}
    assert device.status is DeviceStatus.ONLINE
    assert device.status_reason == "answered"
    assert device.last_seen == seen
    assert device.current_release == "r7"


def test_devices_sorted_by_name(store):
    for name in ["jetson-nano", "coral-dev", "rpi4-aarch64"]:
        store.upsert_device(make_device(name))
    assert [device.name for device in store.devices()] == ["coral-dev", "jetson-nano", "rpi4-aarch64"]


def test_remove_device(store):
    store.upsert_device(make_device("a"))
    store.upsert_device(make_device("b"))
    store.remove_device("a")
    assert [device.name for device in store.devices()] == ["b"]


def test_remove_keeps_events_drops_facts(store):
    store.upsert_device(make_device())
    store.record_facts("rpi4-aarch64", HardwareFacts(arch="aarch64"), datetime.now(UTC))
    store.record_event("discover", "rpi4-aarch64", True)
    store.remove_device("rpi4-aarch64")

    assert [event.device for event in store.events()] == ["rpi4-aarch64"]
    rows = store._connection.db.execute("SELECT count(*) FROM facts").fetchone()[0]
    assert rows == 0
    store.upsert_device(make_device())
    assert store.latest_facts("rpi4-aarch64") is None


def test_unknown_device_suggests_close_name(store):
    store.upsert_device(make_device("rpi4-aarch64"))
    store.upsert_device(make_device("jetson-nano"))

    with pytest.raises(DeviceNotFound) as raised:
        store.device("rpi4-arch64")

    error = raised.value
    assert isinstance(error, InputError)
    assert error.suggestions == ["rpi4-aarch64"]
    assert "'rpi4-arch64'" in str(error)
    assert "Did you mean 'rpi4-aarch64'?" in str(error)


def test_unknown_device_suggests_longer_name(store):
    store.upsert_device(make_device("rpi4-aarch64"))
    with pytest.raises(DeviceNotFound, match="Did you mean 'rpi4-aarch64'"):
        store.device("rpi4")


def test_unknown_device_without_close_names(store):
    store.upsert_device(make_device("rpi4-aarch64"))
    with pytest.raises(DeviceNotFound) as raised:
        store.device("xyz")
    assert raised.value.suggestions == []
    assert "no device named 'xyz'" in str(raised.value)
    assert "edgetui fleet list" in str(raised.value)


@pytest.mark.parametrize("call", [
    lambda store: store.remove_device("ghost"),
    lambda store: store.set_status("ghost", DeviceStatus.ONLINE),
    lambda store: store.record_facts("ghost", HardwareFacts(), datetime.now(UTC)),
    lambda store: store.facts_history("ghost"),
    lambda store: store.latest_facts("ghost"),
])
def test_unknown_device_raises_everywhere(store, call):
    with pytest.raises(DeviceNotFound, match="ghost"):
        call(store)


def test_set_status_keeps_last_seen_when_absent(store):
    seen = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    store.upsert_device(make_device())
    store.set_status("rpi4-aarch64", DeviceStatus.ONLINE, last_seen=seen)
    store.set_status("rpi4-aarch64", DeviceStatus.OFFLINE, "connection timed out")

    device = store.device("rpi4-aarch64")
    assert device.status is DeviceStatus.OFFLINE
    assert device.status_reason == "connection timed out"
    assert device.last_seen == seen


def test_naive_last_seen_is_taken_as_utc(store):
    store.upsert_device(make_device())
    store.set_status("rpi4-aarch64", DeviceStatus.ONLINE, last_seen=datetime(2025, 3, 1, 12, 0))
    assert store.device("rpi4-aarch64").last_seen == datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("name", ["a;b", "$(reboot)", "-rf", "a b", "dev`x`", "x|y", ""])
def test_device_rejects_shell_metacharacters(name):
    with pytest.raises(ValidationError) as raised:
        Device(name=name, host="127.0.0.1")
    assert "invalid device name" in str(raised.value)
