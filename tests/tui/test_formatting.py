"""Texts of the fleet table and the notices: relative times, sizes, filters, column fitting."""

from datetime import UTC, datetime, timedelta

import pytest

from edgetui.domain import Accelerator, Device, DeviceStatus, HardwareFacts
from edgetui.tui.columns import COLUMNS, fit_columns
from edgetui.tui.failures import failure_notices
from edgetui.tui.formatting import accelerators_text, memory_text, relative_time, shorten
from edgetui.tui.rows import DeviceRow, row_matches

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (timedelta(seconds=12), "12s ago"),
        (timedelta(minutes=5, seconds=59), "5m ago"),
        (timedelta(hours=3), "3h ago"),
        (timedelta(days=2, hours=23), "2d ago"),
        (timedelta(seconds=-30), "just now"),
    ],
)
def test_relative_time(age, expected):
    assert relative_time(NOW - age, NOW) == expected


def test_relative_time_never():
    assert relative_time(None, NOW) == "never"


def test_relative_time_naive_is_utc():
    assert relative_time(datetime(2025, 6, 1, 11, 0), NOW) == "1h ago"


@pytest.mark.parametrize(("mb", "expected"), [(512, "512 MiB"), (7812, "7.6 GiB"), (None, "—")])
def test_memory_text(mb, expected):
    assert memory_text(mb) == expected


def test_accelerators_text():
    accelerators = [
        Accelerator(kind="gpu", vendor="nvidia", name="Tegra X1"),
        Accelerator(kind="tpu", vendor="google", name="Edge TPU"),
    ]
    assert accelerators_text(accelerators) == "nvidia gpu, google tpu"


def test_shorten_adds_ellipsis():
    assert shorten("connection refused by host", 12) == "connection …"
    assert shorten("short", 12) == "short"


def make_row(name, arch, board, status=DeviceStatus.ONLINE, reason=None):
    device = Device(name=name, host="127.0.0.1", status=status, status_reason=reason)
    return DeviceRow(device, HardwareFacts(arch=arch, board=board, os_id="debian"))


def test_row_status_text_with_reason():
    row = make_row("a", "x86_64", "NUC", DeviceStatus.OFFLINE, "connection refused by 127.0.0.1:22 again")
    assert row.status_text() == "offline: connection ref…"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", True),
        ("rpi", True),
        ("RASPBERRY", True),
        ("arch=aarch64", True),
        ("arch=x86", False),
        ("os=debian rpi", True),
        ("board=jetson", False),
        ("nothing-like-this", False),
    ],
)
def test_row_matches(query, expected):
    row = make_row("rpi4", "aarch64", "Raspberry Pi 4")
    assert row_matches(row, query, NOW) is expected


def test_fit_columns_keeps_name_and_status():
    fitted = fit_columns({"name": 30, "status": 24}, 30)
    assert [spec.key for spec, _ in fitted] == ["name", "status"]


def test_fit_columns_drops_release_first():
    minimum = sum(max(spec.min_width, len(spec.label)) + 2 for spec in COLUMNS)
    fitted = fit_columns({spec.key: spec.max_width for spec in COLUMNS}, minimum - 1)
    keys = [spec.key for spec, _ in fitted]
    assert "release" not in keys
    assert "accelerators" in keys


def test_fit_columns_fills_available_width():
    fitted = fit_columns({spec.key: spec.max_width for spec in COLUMNS}, 80)
    assert sum(width + 2 for _, width in fitted) <= 80
    assert {"name", "status", "last_seen"} <= {spec.key for spec, _ in fitted}


def test_failure_notices_group_many():
    failures = [(f"dev{i}", DeviceStatus.OFFLINE, "refused") for i in range(5)]
    notices = failure_notices(failures)
    assert notices == [
        ("Discovery: 5 devices unreachable", "5 devices unreachable: dev0, dev1, dev2, …")
    ]


def test_failure_notices_single_reason():
    notices = failure_notices([("jetson", DeviceStatus.ERROR, "invalid JSON")])
    assert notices == [("jetson failed discovery", "invalid JSON")]
