"""Build the text of the device screen's sections from domain objects.

Values from devices and the store go through `Content` substitution or plain
parts, never into markup, so brackets in a reason or a board name show as typed.
"""

from datetime import datetime

from textual.content import Content

from edgetui.domain import Device, Event, FactsSnapshot, HardwareFacts
from edgetui.tui.failures import reason_for_tui
from edgetui.tui.formatting import HOST_FACTS, as_utc, fact_rows, relative_time, value_text

LABEL_WIDTH = 18
"""Width of the label column in the key-value sections."""

CHANGES_SHOWN = 5
"""Number of past discoveries whose changes the "what changed" section lists."""


def key_values(pairs: list[tuple[str, str]]) -> Content:
    """Lay out (label, value) pairs as aligned lines with highlighted labels."""
    lines = [
        Content.assemble((label.ljust(LABEL_WIDTH), "$text-primary"), value)
        for label, value in pairs
    ]
    return Content("\n").join(lines)


def status_section(device: Device, now: datetime, telemetry_seen: datetime | None = None,
                   sample_release: str | None = None) -> Content:
    """Describe the device's address, status with its full reason, and last contact.

    "last seen" is the newer of the last discovery and ``telemetry_seen`` (the
    newest telemetry line). The release falls back to ``sample_release``, the
    release that the newest sample names, when the store has none.
    """
    seen = device.last_seen
    if telemetry_seen is not None and (seen is None or as_utc(telemetry_seen) > as_utc(seen)):
        seen = telemetry_seen
    release = device.current_release
    if not release and sample_release:
        release = f"{sample_release} (from telemetry)"
    pairs = [
        ("address", device.address),
        ("user", device.user or "from ssh_config"),
        ("status", str(device.status)),
        ("reason", reason_for_tui(device.status_reason) or "—"),
        ("last seen", _seen_text(seen, now)),
        ("release", release or "—"),
    ]
    if device.tags:
        pairs.append(("tags", value_text(device.tags)))
    return key_values(pairs)


def simulated_note(device: Device) -> Content:
    """Say which facts of a simulated device come from the host, so they are not read as the board's."""
    profile = device.tags.get("profile")
    board = f"the {profile} profile" if profile else "its profile"
    host_facts = f"{', '.join(HOST_FACTS[:-1])} and {HOST_FACTS[-1]}"
    return Content.assemble(
        ("Simulated device: ", "bold $text-warning"),
        f"{host_facts} are those of the computer that runs the sample fleet. "
        f"The other facts come from captures of a real board ({board}).",
    )


def facts_section(facts: HardwareFacts | None) -> Content:
    """List every fact of the latest successful discovery."""
    if facts is None:
        return Content("No successful discovery yet. Press r to discover this device.")
    return key_values(fact_rows(facts))


def changes_section(history: list[FactsSnapshot], now: datetime) -> Content:
    """List the facts that changed at each of the last few discoveries, before -> after."""
    lines: list[Content] = []
    for snapshot in history[:CHANGES_SHOWN]:
        if not snapshot.changes:
            continue
        lines.append(Content.from_markup("[b]$when[/b]", when=_seen_text(snapshot.at, now)))
        for change in snapshot.changes:
            lines.append(
                Content.assemble(
                    "  ",
                    (change.fact.ljust(LABEL_WIDTH - 2), "$text-primary"),
                    (value_text(change.before), "$text-error"),
                    " -> ",
                    (value_text(change.after), "$text-success"),
                )
            )
    if not lines:
        return Content("Nothing changed between the stored discoveries.")
    return Content("\n").join(lines)


def events_section(events: list[Event], now: datetime) -> Content:
    """List the device's recent events, newest first, with their outcome."""
    if not events:
        return Content("No events recorded for this device.")
    lines = []
    for event in events:
        outcome = ("ok  ", "$text-success") if event.ok else ("fail", "$text-error")
        lines.append(
            Content.assemble(
                relative_time(event.ts, now).rjust(9),
                "  ",
                outcome,
                "  ",
                (event.action, "bold"),
                "  ",
                event.message,
            )
        )
    return Content("\n").join(lines)


def _seen_text(moment: datetime | None, now: datetime) -> str:
    """Return a timestamp as "2024-05-01 12:00:00 UTC (3h ago)", or "never"."""
    if moment is None:
        return "never"
    return f"{as_utc(moment):%Y-%m-%d %H:%M:%S} UTC ({relative_time(moment, now)})"
