"""Device selectors: `all`, comma-separated names, and filters on facts and tags.

A selector is a comma-separated list of terms; a device is selected when it
matches any term:
- `all`: every device;
- `NAME`: the device with that name (an unknown name is an error naming it);
- `FACT=VALUE`: devices whose latest facts have FACT equal to VALUE, such as `arch=aarch64`;
- `tag:KEY=VALUE`: devices whose tag KEY is VALUE, such as `tag:site=plant1`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from edgetui.domain import Device, HardwareFacts
from edgetui.domain.device import DEVICE_NAME_PATTERN, DEVICE_NAME_RULE
from edgetui.errors import InputError

FACT_NAME_PATTERN = re.compile(r"[a-z_][a-z0-9_]*")
FactsLookup = Callable[[str], HardwareFacts | None]


def select_devices(selector: str, devices: list[Device], facts_of: FactsLookup) -> list[Device]:
    """Return the devices ``selector`` matches, in fleet order; raise InputError for an invalid or empty selection."""
    terms = [term.strip() for term in selector.split(",")]
    if not selector.strip() or any(not term for term in terms):
        raise InputError(f"Invalid selector {selector!r}: give `all`, device names or filters separated by commas.")
    chosen: set[str] = set()
    unknown: list[str] = []
    by_name = {device.name: device for device in devices}
    for term in terms:
        matched = _match_term(term, devices, by_name, facts_of)
        if matched is None:
            unknown.append(term)
        else:
            chosen.update(matched)
    if unknown:
        known = ", ".join(sorted(by_name)) or "none"
        raise InputError(f"Unknown device names in selector: {', '.join(unknown)}. Known devices: {known}.")
    selected = [device for device in devices if device.name in chosen]
    if not selected:
        raise InputError(f"The selector {selector!r} matches no device.")
    return selected


def _match_term(term: str, devices: list[Device], by_name: dict[str, Device], facts_of: FactsLookup) -> set[str] | None:
    """Return the names one term selects, or None for a device name that is not in the fleet."""
    if term == "all":
        return set(by_name)
    if term.startswith("tag:"):
        key, value = _split_filter(term[len("tag:"):], term)
        return {device.name for device in devices if device.tags.get(key) == value}
    if "=" in term:
        key, value = _split_filter(term, term)
        if not FACT_NAME_PATTERN.fullmatch(key) or key not in HardwareFacts.model_fields:
            raise InputError(f"Unknown fact {key!r} in selector term {term!r}; facts are: "
                             f"{', '.join(sorted(HardwareFacts.model_fields))}.")
        return {device.name for device in devices if _fact_matches(facts_of(device.name), key, value)}
    if not DEVICE_NAME_PATTERN.fullmatch(term):
        raise InputError(f"Invalid device name {term!r} in selector: {DEVICE_NAME_RULE}.")
    return {term} if term in by_name else None


def _split_filter(text: str, term: str) -> tuple[str, str]:
    key, separator, value = text.partition("=")
    if not separator or not key or not value:
        raise InputError(f"Invalid filter {term!r}: write KEY=VALUE, such as arch=aarch64 or tag:site=plant1.")
    return key, value


def _fact_matches(facts: HardwareFacts | None, key: str, value: str) -> bool:
    """Compare a fact with the filter value as text; a device never discovered matches no fact filter."""
    if facts is None:
        return False
    actual = getattr(facts, key)
    if isinstance(actual, bool):
        return str(actual).lower() == value.lower()
    return actual is not None and str(actual) == value
