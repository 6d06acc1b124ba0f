"""A console killed mid-transfer: `rollout resume` finishes the rollout from SQLite and the device's state."""

import asyncio
import json
import os
import signal
import sys

from deploy_helpers import DEVICE_NAMES, FAST, GOOD_V1, link, part_files, set_fault

from edgetui.store import FleetStore

DEVICE = DEVICE_NAMES[0]
# Polls of the database while the console runs: 1200 x 50 ms, about a minute at most.
MAX_POLLS = 1200
POLL_S = 0.05


def transferring_rollout(db_path):
    """Return the rollout id once its device is transferring with bytes on the device, else None."""
    with FleetStore(db_path) as store:
        for rollout in store.rollouts(5):
            for deployment in store.deployments(rollout.id):
                if deployment.state == "transferring" and deployment.bytes_sent > 0:
                    return rollout.id
    return None


async def test_resume_after_console_killed(fleet, sample, db_path):
    set_fault(sample, DEVICE, "--slow-link", "150")
    command = [sys.executable, "-c", "import sys; from edgetui.cli.main import main; sys.exit(main())",
               "--db", str(db_path), "deploy", GOOD_V1, "--to", DEVICE, "--waves", "100%", "--json"]
    console = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.DEVNULL,
                                                   stderr=asyncio.subprocess.DEVNULL, env=dict(os.environ))
    rollout_id = None
    try:
        for _ in range(MAX_POLLS):
            rollout_id = transferring_rollout(db_path)
            if rollout_id is not None or console.returncode is not None:
                break
            await asyncio.sleep(POLL_S)
    finally:
        if console.returncode is None:
            os.kill(console.pid, signal.SIGKILL)
        await console.wait()
    assert rollout_id is not None, "the console never recorded a transfer in progress"
    assert fleet.store.rollout(rollout_id).state == "running"
    set_fault(sample, DEVICE, "--clear")

    rollout = await fleet.resume_rollout(rollout_id, **FAST)

    report = fleet.rollout_report(rollout.id)
    device = report["waves"][0]["devices"][0]
    assert report["state"] == "completed"
    assert device["state"] == "committed", device
    assert any(t["resumed_from"] for t in device["transfers"] if t["ok"]), json.dumps(device["transfers"])
    assert link(sample, DEVICE, "current") == device["release"]
    assert part_files(sample, DEVICE) == []
