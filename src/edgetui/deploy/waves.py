"""Wave plans: `1,25%,100%` splits the selected devices into a canary and growing waves."""

from __future__ import annotations

import math

from edgetui.errors import InputError

DEFAULT_WAVES = "1,25%,100%"


def plan_waves(spec: str, names: list[str]) -> list[list[str]]:
    """Split ``names`` into waves; each term of ``spec`` is the cumulative count or percentage done after its wave.

    Empty waves are dropped, so `1,25%,100%` on 3 devices gives waves of 1 and 2.
    Raises InputError unless the terms grow and the last one covers every device.
    """
    totals = [_cumulative(term.strip(), len(names), spec) for term in spec.split(",")]
    if totals != sorted(totals):
        raise InputError(f"Invalid waves {spec!r}: each wave must cover at least as many devices as the one before.")
    if not totals or totals[-1] < len(names):
        raise InputError(f"Invalid waves {spec!r}: the last wave must cover every selected device; end with 100%.")
    waves = []
    done = 0
    for total in totals:
        total = min(total, len(names))
        if total > done:
            waves.append(names[done:total])
            done = total
    return waves


def _cumulative(term: str, count: int, spec: str) -> int:
    """Return the number of devices a term covers: N devices or P percent rounded up."""
    try:
        if term.endswith("%"):
            percent = float(term[:-1])
            if not 0 < percent <= 100:
                raise ValueError(term)
            return math.ceil(count * percent / 100)
        value = int(term)
        if value < 1:
            raise ValueError(term)
        return value
    except ValueError:
        raise InputError(
            f"Invalid wave {term!r} in {spec!r}: give a device count such as 1 or a percentage such as 25%."
        ) from None
