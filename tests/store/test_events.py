"""The event log: order, filtering, limits and detail."""

from datetime import UTC

import pytest


def test_record_returns_event_with_id(store):
    event = store.record_event("discover", "rpi4", True, "4 cores", {"changes": ["mem_total_mb"]})
    assert event.id is not None
    assert event.ts.tzinfo is UTC
    assert event.detail == {"changes": ["mem_total_mb"]}
    assert store.events() == [event]


def test_events_newest_first(store):
    for index in range(5):
        store.record_event(f"step-{index}", None, True)
    assert [event.action for event in store.events()] == [f"step-{index}" for index in range(4, -1, -1)]


def test_events_filter_by_device(store):
    store.record_event("discover", "rpi4", True)
    store.record_event("discover", "jetson", False, "connection refused")
    store.record_event("import", None, True)
    store.record_event("deploy", "rpi4", True)

    assert [event.action for event in store.events("rpi4")] == ["deploy", "discover"]
    jetson_events = store.events("jetson")
    assert len(jetson_events) == 1
    assert jetson_events[0].ok is False
    assert jetson_events[0].message == "connection refused"
    assert len(store.events()) == 4


def test_events_limit(store):
    for index in range(10):
        store.record_event("poll", "rpi4", True, str(index))
    assert [event.message for event in store.events(limit=3)] == ["9", "8", "7"]


def test_event_without_detail_gets_empty_dict(store):
    store.record_event("import", None, True)
    assert store.events()[0].detail == {}


def test_unserializable_detail_writes_nothing(store):
    with pytest.raises(TypeError):
        store.record_event("import", None, True, detail={"when": object()})
    assert store.events() == []
