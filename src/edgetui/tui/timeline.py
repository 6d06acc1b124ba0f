"""A device's timeline: every update and rollback with when, what, the result, who or what triggered it and why. No I/O."""

from dataclasses import dataclass
from datetime import datetime

from textual.content import Content

from edgetui.tui.formatting import as_utc, relative_time

TRIGGER_TEXT = {
    "user": "the user",
    "health_check": "a failed health check",
    "watchdog": "the device's watchdog",
    "wave_halted": "a halted wave",
    "reconcile": "automatic reconcile",
    "console": "the console",
}
"""Timeline wording of each trigger that the deploy engine records."""

OK_STATES = frozenset({"committed"})
"""Update results shown as a success; rolled_back and failed show as errors."""


@dataclass(frozen=True)
class TimelineEntry:
    """One update, rollback or halt on the device."""

    at: datetime
    description: str
    result: str
    ok: bool
    trigger: str
    reason: str | None


def timeline_entries(deployments: list, events: list) -> list[TimelineEntry]:
    """Merge the device's updates (Deployment records) with its rollback and halt events, newest first."""
    entries = [
        TimelineEntry(d.updated_at or d.created_at, f"deploy {d.release}" + (f" (rollout {d.rollout_id})" if d.rollout_id else ""),
                      str(d.state), str(d.state) in OK_STATES, str(d.trigger), d.error)
        for d in deployments if (d.updated_at or d.created_at) is not None
    ]
    for event in events:
        entry = _event_entry(event)
        if entry is not None:
            entries.append(entry)
    return sorted(entries, key=lambda entry: as_utc(entry.at), reverse=True)


def _event_entry(event) -> TimelineEntry | None:
    """Return the entry of a rollback or a halt event, or None for any other event."""
    detail = event.detail or {}
    if event.action == "deploy-rollback":
        target = detail.get("current") or detail.get("to", "known_good")
        result = "rolled back" if event.ok else "failed"
        return TimelineEntry(event.ts, f"rollback to {target}", result, event.ok, detail.get("trigger", "user"),
                             None if event.ok else event.message)
    if event.action == "deploy-rollout" and detail.get("trigger") == "wave_halted":
        return TimelineEntry(event.ts, f"rollout {detail.get('rollout')} halted before this device",
                             "not updated", False, "wave_halted", detail.get("halt_reason"))
    return None


def timeline_section(entries: list[TimelineEntry], now: datetime) -> Content:
    """Lay out the entries as two lines each: when, what and result, then the trigger and reason."""
    if not entries:
        return Content("No update or rollback recorded for this device.")
    lines = []
    for entry in entries:
        result_style = "$text-success" if entry.ok else "$text-error"
        lines.append(Content.assemble(
            f"{as_utc(entry.at):%Y-%m-%d %H:%M:%S} UTC ({relative_time(entry.at, now)})  ",
            (entry.description, "bold"), "  ", (entry.result, result_style),
        ))
        because = f": {entry.reason}" if entry.reason else ""
        lines.append(Content(f"    triggered by {TRIGGER_TEXT.get(entry.trigger, entry.trigger)}{because}"))
    return Content("\n").join(lines)


def releases_section(releases: dict | None, error: str | None) -> Content:
    """Describe the device's releases as its shim reported them: current, known good and the others."""
    if releases is None:
        return Content(f"Releases unknown: {error}" if error else "Reading the releases from the device…")
    pairs = [("current", releases.get("current")), ("known good", releases.get("known_good"))]
    lines = [Content.assemble((label.ljust(18), "$text-primary"), value or "none") for label, value in pairs]
    special = {releases.get("current_id"), releases.get("known_good_id")}
    others = [entry for entry in releases.get("releases", []) if entry.get("id") not in special]
    other_text = ", ".join(f"{entry.get('version')} ({entry.get('state')})" for entry in others) or "none"
    lines.append(Content.assemble(("others".ljust(18), "$text-primary"), other_text))
    return Content("\n").join(lines)
