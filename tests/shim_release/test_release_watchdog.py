"""The release watchdog: expiry, a killed watchdog process, a killed activation, boot recovery."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from shim_release_helpers import REPO, Device, command_line, process_alive, wait_until

from edgetui.shim_bundle import build_shim_bundle


def committed_then_trial(device, staged, watchdog_s=1):
    """Commit release 1.0.0, then activate 2.0.0 without committing; return both ids."""
    good = staged("1.0.0")
    status, reply = device.run("activate", {"release": good})
    assert status == 0, reply
    status, reply = device.run("commit", {"release": good})
    assert status == 0, reply
    trial = staged("2.0.0")
    status, reply = device.run("activate", {"release": trial, "watchdog_s": watchdog_s})
    assert status == 0, reply
    return good, trial


def kill_and_wait(pid):
    os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: not process_alive(pid), timeout_s=10)


def sleep_past(deadline):
    """Sleep until the wall clock passes deadline (epoch seconds), at most 20 s."""
    time.sleep(min(20.0, max(0.0, deadline - time.time()) + 0.2))


def watchdog_entries(device):
    return [entry for entry in device.journal() if entry.get("trigger") == "watchdog"]


def test_watchdog_process_rolls_back(device, staged):
    good, trial = committed_then_trial(device, staged, watchdog_s=1)
    pid = device.watchdog_state()["pid"]
    # Only the filesystem is read here, so no shim command can do the rollback.
    assert wait_until(lambda: device.link("current") == good, timeout_s=20)
    assert wait_until(lambda: not (device.state / "watchdog.json").exists(), timeout_s=5)
    assert wait_until(lambda: not process_alive(pid), timeout_s=10)
    entries = watchdog_entries(device)
    assert len(entries) == 1
    assert entries[0]["command"] == "watchdog"
    assert entries[0]["detail"]["from"] == trial
    assert entries[0]["release"] == good


@pytest.mark.parametrize("command", ["status", "inventory"])
def test_next_command_rolls_back_after_killed_watchdog(device, staged, command):
    good, trial = committed_then_trial(device, staged, watchdog_s=1)
    state = device.watchdog_state()
    kill_and_wait(state["pid"])
    sleep_past(state["deadline"])
    assert device.link("current") == trial

    if command == "status":
        status, reply = device.run("status")
        assert status == 0
        assert reply["current"] == good
        assert reply["watchdog"]["armed"] is False
    else:
        # inventory has no --home: it checks the working directory, as on a device.
        completed = subprocess.run(
            device.shim + ["inventory"],
            stdout=subprocess.PIPE,
            cwd=device.home,
            env=device.environment(),
            timeout=60,
        )
        assert completed.returncode == 0
        assert "arch" in json.loads(completed.stdout)
    assert device.link("current") == good
    assert watchdog_entries(device)[-1]["detail"]["from"] == trial


def test_killed_activation_is_rolled_back(device, staged):
    good = staged("1.0.0")
    device.run("activate", {"release": good})
    device.run("commit", {"release": good})
    trial = staged("2.0.0")
    process = device.start(
        "activate",
        {"release": trial, "watchdog_s": 1, "health_timeout_s": 4},
        env={"EDGETUI_SHIM_HEALTH_DELAY_S": "30"},
    )
    # Kill the shim between the switch and the health check.
    assert wait_until(lambda: device.link("current") == trial, timeout_s=20)
    process.kill()
    process.wait(timeout=10)

    status, reply = device.run("status")
    assert status == 0
    assert reply["current"] == trial
    assert reply["known_good"] == good
    assert reply["previous"] == good
    assert reply["watchdog"]["armed"] is True
    assert reply["watchdog"]["phase"] == "activating"
    assert reply["watchdog"]["fallback"] == good
    assert reply["watchdog"]["process_alive"] is True

    assert wait_until(lambda: device.link("current") == good, timeout_s=20)
    assert wait_until(lambda: not (device.state / "watchdog.json").exists(), timeout_s=5)
    assert watchdog_entries(device)[-1]["detail"]["from"] == trial


def test_watchdog_check_restarts_process(device, staged):
    good, trial = committed_then_trial(device, staged, watchdog_s=120)
    state = device.watchdog_state()
    kill_and_wait(state["pid"])
    status, reply = device.run("watchdog-check")
    assert status == 0, reply
    assert reply["restarted"] is True
    new_state = device.watchdog_state()
    assert new_state["pid"] == reply["pid"] != state["pid"]
    assert new_state["deadline"] == state["deadline"]
    assert process_alive(new_state["pid"])
    assert device.link("current") == trial


def test_watchdog_check_rolls_back_overdue(device, staged):
    good, trial = committed_then_trial(device, staged, watchdog_s=1)
    state = device.watchdog_state()
    kill_and_wait(state["pid"])
    sleep_past(state["deadline"])
    status, reply = device.run("watchdog-check")
    assert status == 0, reply
    assert reply["armed"] is False
    assert device.link("current") == good


def test_corrupt_watchdog_file_rolls_back(device, staged):
    good, trial = committed_then_trial(device, staged, watchdog_s=120)
    kill_and_wait(device.watchdog_state()["pid"])
    (device.state / "watchdog.json").write_text("{not json")
    status, reply = device.run("status")
    assert status == 0
    assert reply["current"] == good


def test_commit_after_deadline_is_too_late(device, staged):
    good, trial = committed_then_trial(device, staged, watchdog_s=1)
    state = device.watchdog_state()
    kill_and_wait(state["pid"])
    sleep_past(state["deadline"])
    status, reply = device.run("commit", {"release": trial})
    assert status == 1
    assert reply["code"] == "not_current"
    assert device.link("current") == good
    assert device.link("known_good") == good


def test_boot_hook_line(device):
    status, reply = device.run("boot-hook")
    assert status == 0
    assert reply["crontab"].startswith("@reboot cd ")
    assert "watchdog-check" in reply["crontab"]
    assert str(device.home) in reply["crontab"]
    assert not (device.state / "watchdog.json").exists()


def test_zipapp_release_cycle(tmp_path, signer, staged):
    bundle = build_shim_bundle()
    home = tmp_path / "home"
    folder = home / ".edgetui" / "shim" / bundle.sha256
    folder.mkdir(parents=True)
    (folder / "shim.pyz").write_bytes(bundle.data)
    device = Device(home, shim=[sys.executable, str(folder / "shim.pyz")])
    try:
        release = staged("1.0.0")
        status, reply = device.run("activate", {"release": release})
        assert status == 0, reply
        pid = reply["watchdog"]["pid"]
        assert process_alive(pid)
        assert "watchdog" in command_line(pid)
        status, reply = device.run("commit", {"release": release})
        assert status == 0, reply
        assert wait_until(lambda: not process_alive(pid), timeout_s=5)
        status, reply = device.run("boot-hook")
        assert str(folder / "shim.pyz") in reply["crontab"]
    finally:
        device.stop_processes()


def test_activation_resumes_after_kill(device, staged):
    good = staged("1.0.0")
    device.run("activate", {"release": good})
    device.run("commit", {"release": good})
    trial = staged("2.0.0")
    process = device.start(
        "activate",
        {"release": trial, "watchdog_s": 60, "health_timeout_s": 30},
        env={"EDGETUI_SHIM_HEALTH_DELAY_S": "30"},
    )
    assert wait_until(lambda: device.link("current") == trial, timeout_s=20)
    process.kill()
    process.wait(timeout=10)
    first_pid = device.watchdog_state()["pid"]

    status, reply = device.run("activate", {"release": trial, "watchdog_s": 60})
    assert status == 0, reply
    assert reply["health"]["passed"] is True
    assert "already_active" not in reply
    state = device.watchdog_state()
    assert state["phase"] == "armed"
    assert state["fallback"] == good
    assert state["pid"] != first_pid
    assert process_alive(state["pid"])
    assert wait_until(lambda: not process_alive(first_pid), timeout_s=5)
    assert device.link("previous") == good
