"""Transactions, and several FleetStore objects or processes on one file."""

import subprocess
import sys
import textwrap
import threading
import time

import pytest

from edgetui.domain import Device
from edgetui.errors import StoreError
from edgetui.store import FleetStore


def test_transaction_rolls_back_on_error(store):
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.upsert_device(Device(name="rpi4", host="10.0.0.5"))
            store.record_event("import", None, True)
            raise RuntimeError("stop")
    assert store.devices() == []
    assert store.events() == []


def test_nested_transaction_rolls_back_inner_only(store):
    with store.transaction():
        store.upsert_device(Device(name="rpi4", host="10.0.0.5"))
        with pytest.raises(RuntimeError):
            with store.transaction():
                store.upsert_device(Device(name="jetson", host="10.0.0.7"))
                raise RuntimeError("stop")
    assert [device.name for device in store.devices()] == ["rpi4"]


def test_two_stores_both_write(db_path):
    with FleetStore(db_path) as tui, FleetStore(db_path) as cli:
        tui.upsert_device(Device(name="rpi4", host="10.0.0.5"))
        cli.upsert_device(Device(name="jetson", host="10.0.0.7"))
        cli.record_event("import", None, True)
        tui.record_event("discover", "rpi4", True)

        assert [device.name for device in tui.devices()] == ["jetson", "rpi4"]
        assert [event.action for event in cli.events()] == ["discover", "import"]


def test_writer_waits_for_other_transaction(db_path):
    with FleetStore(db_path) as first, FleetStore(db_path, busy_timeout=5) as second:
        entered = threading.Event()

        def hold_write_lock() -> None:
            with first.transaction():
                first.record_event("slow", None, True)
                entered.set()
                time.sleep(0.3)

        thread = threading.Thread(target=hold_write_lock)
        thread.start()
        entered.wait()
        second.record_event("waiting", None, True)
        thread.join()

        assert [event.action for event in second.events()] == ["waiting", "slow"]


def test_locked_database_raises_store_error(db_path):
    with FleetStore(db_path) as first, FleetStore(db_path, busy_timeout=0.1) as second:
        with first.transaction():
            first.record_event("holding", None, True)
            with pytest.raises(StoreError) as raised:
                second.record_event("blocked", None, True)
    assert "database is locked" in str(raised.value.__cause__)
    assert str(db_path) in str(raised.value)


def test_other_process_writes_same_file(db_path):
    script = textwrap.dedent(f"""
        from pathlib import Path
        from edgetui.domain import Device
        from edgetui.store import FleetStore
        with FleetStore(Path({str(db_path)!r})) as store:
            for index in range(50):
                store.upsert_device(Device(name=f"child-{{index:02d}}", host="10.1.0.1"))
                store.record_event("import", f"child-{{index:02d}}", True)
    """)
    with FleetStore(db_path) as store:
        child = subprocess.Popen([sys.executable, "-c", script])
        for index in range(50):
            store.upsert_device(Device(name=f"parent-{index:02d}", host="10.2.0.1"))
            store.record_event("import", f"parent-{index:02d}", True)
        assert child.wait(timeout=60) == 0

        assert len(store.devices()) == 100
        assert len(store.events(limit=1000)) == 100
