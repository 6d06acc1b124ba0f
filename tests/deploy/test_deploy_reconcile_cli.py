"""Reconcile after a failed transfer, and the deploy commands through the `edgetui` CLI."""

import asyncio
import json
import os
import sys

from deploy_helpers import DEVICE_NAMES, FAST, GOOD_V1, link, part_files, set_fault

DEVICE = DEVICE_NAMES[0]
CLI_TIMEOUT_S = 120


async def test_reconcile_finishes_failed_transfer(fleet, sample):
    # The shim goes first, so that the cut lands in the artifact's transfer.
    await fleet.releases(DEVICE)
    set_fault(sample, DEVICE, "--cut-after-bytes", "200000")
    rollout = await fleet.deploy(GOOD_V1, DEVICE, waves="100%", **{**FAST, "transfer_attempts": 1})
    failed = fleet.rollout_report(rollout.id)["waves"][0]["devices"][0]
    assert failed["state"] == "failed"
    assert failed["error_code"] == "transfer_failed"
    assert link(sample, DEVICE, "current") is None
    assert DEVICE in fleet.store.desired_releases()

    results = await fleet.reconcile()

    assert [(r["name"], r["state"]) for r in results] == [(DEVICE, "committed")]
    assert link(sample, DEVICE, "current") == failed["release"]
    assert part_files(sample, DEVICE) == []
    assert (await fleet.reconcile())[0]["state"] == "in_sync"


async def run_cli(db_path, *args):
    """Run `edgetui --db DB ARGS` in a subprocess and return (exit status, stdout)."""
    command = [sys.executable, "-c", "import sys; from edgetui.cli.main import main; sys.exit(main())",
               "--db", str(db_path), *args]
    process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.DEVNULL, env=dict(os.environ))
    try:
        stdout, _ = await asyncio.wait_for(process.communicate(), CLI_TIMEOUT_S)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return process.returncode, stdout.decode()


async def test_cli_deploy_and_releases_json(fleet, sample, db_path):
    status, output = await run_cli(db_path, "deploy", GOOD_V1, "--to", ",".join(DEVICE_NAMES[:2]),
                                   "--waves", "1,100%", "--json")
    report = json.loads(output)
    releases_status, releases_output = await run_cli(db_path, "releases", DEVICE, "--json")
    releases = json.loads(releases_output)
    list_status, list_output = await run_cli(db_path, "rollout", "list", "--json")

    assert status == 0
    assert set(report) >= {"rollout", "state", "halt_reason", "waves"}
    assert [wave["index"] for wave in report["waves"]] == [1, 2]
    device = report["waves"][0]["devices"][0]
    assert set(device) >= {"name", "state", "error", "bytes_sent", "release"}
    assert releases_status == 0
    assert releases["current"] == "1.0.0"
    assert releases["known_good"] == "1.0.0"
    assert list_status == 0
    assert json.loads(list_output)[0]["rollout"] == report["rollout"]


async def test_cli_unknown_device_exits_2(fleet, db_path):
    status, _output = await run_cli(db_path, "deploy", GOOD_V1, "--to", "nosuch-1", "--json")

    assert status == 2
