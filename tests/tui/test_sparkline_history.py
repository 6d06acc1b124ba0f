"""SparklineHistory: the bound, and the merge of the stored values with the samples reported meanwhile."""

from edgetui.tui.telemetry_history import Point, SparklineHistory, StoredRecent


def point(seq: int, p95: float, stream: str = "s1") -> Point:
    return Point(stream, seq, p95, 0.0)


def test_history_keeps_newest_within_bound():
    history = SparklineHistory(size=3)
    for seq in range(1, 6):
        history.add("dev", point(seq, float(seq)))
    assert history.telemetry("dev").p95 == [3.0, 4.0, 5.0]


def test_seed_drops_points_already_stored():
    history = SparklineHistory(size=10)
    history.add("dev", point(2, 20.0))
    history.add("dev", point(3, 30.0))
    history.seed("dev", StoredRecent([10.0, 20.0], [0.0, 0.0], ("s1", 2)))
    assert history.telemetry("dev").p95 == [10.0, 20.0, 30.0]


def test_seed_keeps_points_of_new_stream():
    history = SparklineHistory(size=10)
    history.add("dev", point(1, 5.0, stream="s2"))
    history.seed("dev", StoredRecent([10.0], [0.0], ("s1", 9)))
    assert history.telemetry("dev").p95 == [10.0, 5.0]


def test_unknown_device_has_empty_sparklines():
    telemetry = SparklineHistory().telemetry("nowhere", alert="act")
    assert telemetry.p95 == []
    assert telemetry.error_rate == []
    assert telemetry.alert == "act"
