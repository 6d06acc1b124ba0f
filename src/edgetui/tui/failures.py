"""Group per-device discovery failures into a few notifications."""

from edgetui.domain import DeviceStatus

NAMES_SHOWN = 3
"""Device names a grouped notification lists before it ends with an ellipsis."""

Failure = tuple[str, DeviceStatus, str]
"""A failed device: its name, status after discovery (offline or error) and reason."""


def failure_notices(failures: list[Failure]) -> list[tuple[str, str]]:
    """Return (title, message) notices: one for unreachable devices, one for other errors.

    A group of one device shows its reason; a larger group lists the first names,
    as in "5 devices unreachable: a, b, c, …", and the device screen shows each reason.
    """
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
