"""Group per-device discovery failures into a few notifications, worded for the TUI."""

import re

from edgetui.domain import DeviceStatus

NAMES_SHOWN = 3
"""Device names a grouped notification lists before it ends with an ellipsis."""

Failure = tuple[str, DeviceStatus, str]
"""A failed device: its name, status after discovery (offline or error) and reason."""

CLI_HOST_KEY_ADVICE = re.compile(r"connect again with --accept-new-host-keys to record it\.?")
"""The SSH layer's advice for an unknown host key, which names a command-line flag."""

TUI_HOST_KEY_ADVICE = (
    "press d (or r for one device) again and press y in the host key dialog to record it."
)
"""What a TUI user does instead of passing --accept-new-host-keys."""


def reason_for_tui(reason: str | None) -> str | None:
    """Reword a failure reason written for the command line into the keys of the TUI."""
    if reason is None:
        return None
    return CLI_HOST_KEY_ADVICE.sub(TUI_HOST_KEY_ADVICE, reason)


def failure_notices(failures: list[Failure]) -> list[tuple[str, str]]:
    """Return (title, message) notices: one for unreachable devices, one for other errors.

    A group of one device shows its reason; a larger group lists the first names,
    as in "5 devices unreachable: a, b, c, …", and the device screen shows each reason.
    """
    failures = [(name, status, reason_for_tui(reason)) for name, status, reason in failures]
    offline = [failure for failure in failures if failure[1] is DeviceStatus.OFFLINE]
    errors = [failure for failure in failures if failure[1] is not DeviceStatus.OFFLINE]
    notices = []
    if offline:
        notices.append(_notice(offline, "unreachable"))
    if errors:
        notices.append(_notice(errors, "failed discovery"))
    return notices


def _notice(group: list[Failure], verb: str) -> tuple[str, str]:
    """Return the notice of one group of failures."""
    if len(group) == 1:
        name, _status, reason = group[0]
        return f"{name} {verb}", reason
    names = ", ".join(name for name, _status, _reason in group[:NAMES_SHOWN])
    more = ", …" if len(group) > NAMES_SHOWN else ""
    return f"Discovery: {len(group)} devices {verb}", f"{len(group)} devices {verb}: {names}{more}"
