"""Text of the Deploy screen: artifact cells, device steps and wave status, from plain records. No I/O."""

from edgetui.tui.variant_rows import megabytes

ARTIFACT_COLUMNS = [("name", "name"), ("version", "version"), ("size", "size MB"), ("created", "created")]
"""Key and label of each column of the artifact table, as `edgetui artifact list` shows them."""

FAILED_STATES = frozenset({"failed", "rolled_back"})
"""Final device states that count against a wave."""


def artifact_cells(artifact) -> dict[str, str]:
    """Return the artifact table's cells of one Artifact."""
    return {
        "name": artifact.name,
        "version": artifact.version,
        "size": megabytes(artifact.size_bytes),
        "created": artifact.created.replace("T", " ").removesuffix("Z") + " UTC",
    }


def step_text(state: str, bytes_done: int, bytes_total: int) -> str:
    """Return a device's step as "transferring 1.20 / 2.31 MB", or the bare state when no bytes count."""
    if bytes_total > 0 and state in ("transferring", "staged"):
        return f"{state} {megabytes(bytes_done)} / {megabytes(bytes_total)} MB"
    return state


def wave_statuses(report: dict) -> list[str]:
    """Return each wave's status from the deploy JSON: passed, halted, not started or failures on the last wave."""
    halt_reason = report.get("halt_reason") or ""
    statuses = []
    for wave in report["waves"]:
        states = [device["state"] for device in wave["devices"]]
        failed = sum(1 for state in states if state in FAILED_STATES)
        if report["state"] == "halted" and halt_reason.startswith(f"wave {wave['index']}:"):
            statuses.append("halted")
        elif all(state == "planned" for state in states):
            statuses.append("not started")
        elif failed:
            statuses.append(f"finished, {failed} failed")
        else:
            statuses.append("passed")
    return statuses


def summary_text(report: dict) -> str:
    """Return the finished rollout's summary: its id, artifact, state and the count of each device state."""
    counts: dict[str, int] = {}
    for wave in report["waves"]:
        for device in wave["devices"]:
            counts[device["state"]] = counts.get(device["state"], 0) + 1
    states = ", ".join(f"{count} {state}" for state, count in sorted(counts.items()))
    return f"Rollout {report['rollout']} of {report['artifact']} {report['state']}: {states}."
