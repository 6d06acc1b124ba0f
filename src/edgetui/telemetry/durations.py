"""Durations given on the command line: "90s", "10m", "2h", "1d", or plain seconds."""

import math
import re

from edgetui.errors import InputError

_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION_PATTERN = re.compile(r"(\d+(?:\.\d+)?|\.\d+)\s*([smhd]?)")


class DurationError(InputError):
    """A duration is not a positive number of seconds, minutes, hours or days."""

    title = "Invalid duration"


def parse_duration(text: str, *, option: str = "duration", allow_zero: bool = False) -> float:
    """Parse ``text`` into seconds. ``option`` names the value in the error, such as "--since"."""
    match = _DURATION_PATTERN.fullmatch(text.strip().lower())
    if match is None:
        raise DurationError(
            f"{option} {text!r} is not a duration: expected a number of seconds or a number followed by "
            "s, m, h or d, such as 90s, 10m, 2h or 1d."
        )

    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]
    if not math.isfinite(seconds):
        raise DurationError(f"{option} {text!r} is too large to count in seconds.")
    if seconds == 0 and not allow_zero:
        raise DurationError(f"{option} {text!r} is zero: use a duration of more than zero, such as 10m.")
    return seconds


def format_duration(seconds: float) -> str:
    """Format seconds the way parse_duration reads them, in the largest whole unit: 90 -> "90s", 600 -> "10m"."""
    for unit in ("d", "h", "m"):
        size = _UNIT_SECONDS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
