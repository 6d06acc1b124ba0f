"""Texts of the fleet table and the notices: relative times, sizes, filters, column fitting."""

from datetime import UTC, datetime, timedelta

import pytest

from edgetui.domain import Accelerator, Device, DeviceStatus, HardwareFacts
from edgetui.tui.columns import COLUMNS, fit_columns
from edgetui.tui.failures import failure_notices, reason_for_tui
from edgetui.tui.formatting import accelerators_text, memory_text, relative_time, shorten
from edgetui.tui.rows import DeviceRow, no_match_message, row_matches, unknown_filter_keys

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


def test_fit_columns_drops_memory_before_accelerators():
    widths = {spec.key: spec.max_width for spec in COLUMNS}
    everything = sum(max(spec.min_width, len(spec.label)) + 2 for spec in COLUMNS)
    for available in range(everything - 1, 40, -1):
        keys = {spec.key for spec, _ in fit_columns(widths, available)}
        if "accelerators" in keys:
            continue
        # The first width without accelerators has long lost memory and cores.
        assert "memory" not in keys, available
        assert "cores" not in keys, available
        break
    else:
        raise AssertionError("accelerators never dropped")


@pytest.mark.parametrize(
    ("query", "unknown"),
    [("foo=bar", ["foo"]), ("arch=arm board=pi", []), ("Model=x model=y", ["model"]), ("plain =x", [])],
)
def test_unknown_filter_keys(query, unknown):
    assert unknown_filter_keys(query) == unknown


def test_no_match_message_lists_keys():
    assert no_match_message("rpi5") == "No device matches 'rpi5'."
    message = no_match_message("foo=bar")
    assert message.startswith("No device matches 'foo=bar'. 'foo' is not a filter key.")
    assert "name, status, board, arch, os and accelerators" in message


def test_reason_for_tui_host_key_advice():
    reason = (
        "The SSH host key of device rpi at 127.0.0.1:4001 is not known yet: the server presented a "
        "ssh-ed25519 key with fingerprint SHA256:abc. Check that fingerprint on the device "
        "(ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then connect again with "
        "--accept-new-host-keys to record it."
    )
    reworded = reason_for_tui(reason)
    assert "--accept-new-host-keys" not in reworded
    assert reworded.endswith("then press d (or r for one device) again and press y in the host key dialog to record it.")
    assert reason_for_tui("connection refused") == "connection refused"
    assert reason_for_tui(None) is None


def test_failure_notices_use_tui_keys():
    reason = "Check that fingerprint, then connect again with --accept-new-host-keys to record it."
    [(_title, message)] = failure_notices([("rpi", DeviceStatus.ERROR, reason)])
    assert "--accept-new-host-keys" not in message
    assert "press d" in message
