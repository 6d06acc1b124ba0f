"""The @reboot crontab line a deploy installs, so watchdog-check runs after a device reboots.

The sample fleet's simulated crontab keeps each device's table in
DIR/<name>/crontab, and no cron daemon runs it: the "reboot" test runs the
line's command with sh -c, as cron would at boot.
"""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from deploy_helpers import DEVICE_NAMES, FAST, GOOD_V1, GOOD_V2, home, journal, link

from edgetui.deploy.boot_hook import INSTALLED, MARKER, UNAVAILABLE, UNCHANGED, ensure_boot_hook

DEVICE = DEVICE_NAMES[0]
OLD_SHIM_SHA256 = "0" * 64
POLL_S = 0.05


def crontab_file(sample, name=DEVICE) -> Path:
    return sample.state_dir / name / "crontab"


def crontab_lines(sample, name=DEVICE) -> list[str]:
    """Return the lines of the device's simulated crontab, or [] when it has none."""
    path = crontab_file(sample, name)
    return path.read_text().splitlines() if path.exists() else []


def watchdog_lines(sample, name=DEVICE) -> list[str]:
    return [line for line in crontab_lines(sample, name) if "watchdog-check" in line]


def boot_hook_events(fleet, name=DEVICE):
    return [event for event in fleet.events(name) if event.action == "deploy-boot-hook"]


async def deploy_state(fleet, ref, name=DEVICE) -> str:
    """Deploy ref to one device and return the device's final state."""
    rollout = await fleet.deploy(ref, name, waves="100%", **FAST)
    report = fleet.rollout_report(rollout.id)
    return next(device["state"] for wave in report["waves"] for device in wave["devices"] if device["name"] == name)


async def shim_boot_line(fleet, name=DEVICE) -> str:
    """Return the @reboot line that the device's shim returns for `boot-hook`."""
    reply = await fleet.deploy_context().release_shim.call(fleet.device(name), "boot-hook")
    return reply["crontab"]


def process_alive(pid: int) -> bool:
    """Return True when pid exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def wait_until(condition, timeout_s: float = 10.0) -> bool:
    """Poll condition() until it returns true or timeout_s passes; return its last result."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(POLL_S)
    return bool(condition())


def watchdog_state(sample, name=DEVICE) -> dict | None:
    path = home(sample, name) / ".edgetui" / "watchdog.json"
    return json.loads(path.read_text()) if path.exists() else None


def kill_watchdog(pid: int, device_home: Path) -> None:
    """Kill the shim's watchdog process by PID, checking first that it serves this device's home folder."""
    if process_alive(pid) and str(device_home) in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
        os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: not process_alive(pid))


async def test_deploy_installs_one_boot_line(fleet, sample):
    assert await deploy_state(fleet, GOOD_V1) == "committed"

    lines = crontab_lines(sample)
    expected = await shim_boot_line(fleet)
    assert lines == [f"{expected} {MARKER}"]
    assert lines[0].startswith("@reboot ")
    assert " watchdog-check " in lines[0]
    assert fleet.store.boot_hook_shim(DEVICE) == fleet.shim.bundle.sha256
    events = boot_hook_events(fleet)
    assert [event.detail["result"] for event in events] == [INSTALLED]
    assert events[0].ok is True


async def test_other_devices_get_their_own_line(fleet, sample):
    rollout = await fleet.deploy(GOOD_V1, "all", waves="100%", **FAST)
    report = fleet.rollout_report(rollout.id)
    states = [device["state"] for wave in report["waves"] for device in wave["devices"]]
    assert states == ["committed"] * len(DEVICE_NAMES)

    for name in DEVICE_NAMES:
        lines = watchdog_lines(sample, name)
        assert len(lines) == 1, (name, lines)
        assert str(home(sample, name)) in lines[0]


async def test_shim_change_replaces_old_line(fleet, sample):
    assert await deploy_state(fleet, GOOD_V1) == "committed"
    current = crontab_lines(sample)[0]
    # An older shim lived in another folder; the console remembers that shim.
    old_line = current.replace(fleet.shim.bundle.sha256, OLD_SHIM_SHA256)
    assert old_line != current
    user_line = "0 3 * * * echo nightly-job"
    crontab_file(sample).write_text(f"{user_line}\n{old_line}\n")
    fleet.store.record_boot_hook(DEVICE, OLD_SHIM_SHA256, old_line)

    assert await deploy_state(fleet, GOOD_V2) == "committed"

    assert crontab_lines(sample) == [user_line, current]
    assert fleet.store.boot_hook_shim(DEVICE) == fleet.shim.bundle.sha256
    assert [event.detail["result"] for event in boot_hook_events(fleet)] == [INSTALLED, INSTALLED]


async def test_line_without_marker_is_replaced(fleet, sample):
    assert await deploy_state(fleet, GOOD_V1) == "committed"
    current = crontab_lines(sample)[0]
    crontab_file(sample).write_text(current.removesuffix(" " + MARKER) + "\n")
    fleet.store.record_boot_hook(DEVICE, OLD_SHIM_SHA256, current)

    result = await ensure_boot_hook(fleet.deploy_context(), fleet.device(DEVICE))

    assert result == INSTALLED
    assert crontab_lines(sample) == [current]


async def test_same_line_is_unchanged(fleet, sample):
    assert await deploy_state(fleet, GOOD_V1) == "committed"
    before = crontab_file(sample).read_bytes()
    # Recording an older shim makes the console read the table again.
    fleet.store.record_boot_hook(DEVICE, OLD_SHIM_SHA256, "")

    result = await ensure_boot_hook(fleet.deploy_context(), fleet.device(DEVICE))

    assert result == UNCHANGED
    assert crontab_file(sample).read_bytes() == before
    assert fleet.store.boot_hook_shim(DEVICE) == fleet.shim.bundle.sha256


async def test_remembered_device_is_not_contacted(fleet, sample):
    assert await deploy_state(fleet, GOOD_V1) == "committed"
    crontab_file(sample).unlink()

    result = await ensure_boot_hook(fleet.deploy_context(), fleet.device(DEVICE))

    assert result == UNCHANGED
    assert not crontab_file(sample).exists()


async def test_device_without_crontab_still_deploys(fleet, sample):
    (sample.state_dir / DEVICE / "bin" / "crontab").unlink()

    assert await deploy_state(fleet, GOOD_V1) == "committed"

    assert not crontab_file(sample).exists()
    events = boot_hook_events(fleet)
    assert [event.detail["result"] for event in events] == [UNAVAILABLE]
    assert events[0].ok is False
    assert "only when the console contacts the device again" in events[0].message
    assert fleet.store.boot_hook_shim(DEVICE) is None


async def test_unreadable_table_is_kept(fleet, sample):
    # A crontab whose -l fails for another reason than a missing table must not be overwritten.
    program = sample.state_dir / DEVICE / "bin" / "crontab"
    program.write_text("#!/bin/sh\necho 'crontab: permission denied' >&2\nexit 1\n")
    crontab_file(sample).write_text("0 3 * * * echo nightly-job\n")

    assert await deploy_state(fleet, GOOD_V1) == "committed"

    assert crontab_lines(sample) == ["0 3 * * * echo nightly-job"]
    assert [event.detail["result"] for event in boot_hook_events(fleet)] == ["failed"]
    assert fleet.store.boot_hook_shim(DEVICE) is None


async def test_boot_line_rolls_back_overdue_release(fleet, sample):
    assert await deploy_state(fleet, GOOD_V1) == "committed"
    trial = link(sample, DEVICE, "current")
    assert await deploy_state(fleet, GOOD_V2) == "committed"
    good = link(sample, DEVICE, "current")
    assert trial != good
    line = watchdog_lines(sample)[0]
    device_home = home(sample, DEVICE)

    # Activate the older release without a commit, then kill its watchdog as a power cut would.
    ctx = fleet.deploy_context()
    reply = await ctx.release_shim.call(fleet.device(DEVICE), "activate",
                                        {"release": trial, "watchdog_s": 1, "health": False})
    pid = reply["watchdog"]["pid"]
    try:
        kill_watchdog(pid, device_home)
        state = watchdog_state(sample)
        time.sleep(min(20.0, max(0.0, state["deadline"] - time.time()) + 0.2))
        assert link(sample, DEVICE, "current") == trial

        # The "reboot": run the line's command as cron runs it, with cron's short PATH.
        command = line.removeprefix("@reboot ")
        completed = subprocess.run(["sh", "-c", command], env={"PATH": "/usr/bin:/bin", "HOME": str(device_home)},
                                   cwd=device_home, timeout=60)
        assert completed.returncode == 0
    finally:
        state = watchdog_state(sample) or {}
        for leftover in {pid, state.get("pid")} - {None}:
            kill_watchdog(leftover, device_home)

    assert link(sample, DEVICE, "current") == good
    assert link(sample, DEVICE, "known_good") == good
    assert watchdog_state(sample) is None
    rollbacks = [entry for entry in journal(sample, DEVICE) if entry.get("trigger") == "watchdog"]
    assert len(rollbacks) == 1, rollbacks
