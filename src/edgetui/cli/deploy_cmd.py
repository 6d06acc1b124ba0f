"""The deploy commands: `deploy`, `rollout list|show|resume|cancel`, `rollback`, `releases` and `reconcile`.

This module imports nothing heavy at import time, because main.py imports it
to build the parser. Exit status: 0 when every device ended as asked, 1 when
any device did not, 2 for invalid input.
"""

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger("edgetui.cli")

EXIT_OK = 0
EXIT_DEVICE_FAILED = 1
DEPLOY_COMMANDS = ("deploy", "rollout", "rollback", "releases", "reconcile")


def add_deploy_parsers(commands) -> None:
    """Add the deploy, rollout, rollback, releases and reconcile subcommands to ``commands``."""
    deploy = commands.add_parser(
        "deploy", help="deploy a signed artifact to devices in waves",
        description="Send ARTIFACT to the selected devices, stage, activate and health-check it, and commit "
        "it when healthy. Wave 1 is the canary; a wave with too many failures halts the rollout.",
    )
    deploy.add_argument("artifact", metavar="ARTIFACT", help="artifact id, id prefix or NAME:VERSION")
    deploy.add_argument("--to", required=True, metavar="SELECTOR",
                        help="`all`, device names, or filters such as arch=aarch64 or tag:site=plant1, "
                        "separated by commas")
    deploy.add_argument("--waves", default="1,25%,100%",
                        help="cumulative device counts or percentages per wave (default: 1,25%%,100%%)")
    deploy.add_argument("--max-failures", type=int, default=0, metavar="N",
                        help="failed devices a wave may have before the rollout halts (default: 0)")
    deploy.add_argument("--watchdog-s", type=float, default=120.0, metavar="S",
                        help="seconds the device waits for the commit before it rolls back by itself (default: 120)")
    _add_common(deploy)

    rollout = commands.add_parser("rollout", help="list, show, resume or cancel rollouts")
    actions = rollout.add_subparsers(dest="rollout_command", metavar="ACTION", required=True)
    _add_common(actions.add_parser("list", help="list recent rollouts"))
    for name, text in (("show", "print a rollout's waves and devices"),
                       ("resume", "continue a rollout after a crash or a halt"),
                       ("cancel", "stop a rollout; devices not started stay planned")):
        action = actions.add_parser(name, help=text)
        action.add_argument("rollout_id", metavar="ID")
        _add_common(action)

    rollback = commands.add_parser("rollback", help="switch devices back to their known-good release")
    rollback.add_argument("selector", metavar="SELECTOR", help="`all`, device names or filters, comma-separated")
    rollback.add_argument("--to", default="known_good", choices=["known_good", "previous"],
                          help="release to return to (default: known_good)")
    _add_common(rollback)

    releases = commands.add_parser("releases", help="list a device's releases as the device reports them")
    releases.add_argument("name", metavar="NAME")
    _add_common(releases)

    _add_common(commands.add_parser(
        "reconcile", help="update reachable devices whose release differs from their desired release"))


def _add_common(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--accept-new-host-keys", action="store_true",
                        help="trust and record host keys of devices never contacted before")


def run_deploy_command(db_path: Path, args: argparse.Namespace) -> int:
    """Run one of the deploy commands and return its exit status."""
    return asyncio.run(_run(db_path, args))


async def _run(db_path: Path, args: argparse.Namespace) -> int:
    from edgetui.service import Fleet

    fleet = Fleet.open(db_path, accept_new_host_keys=args.accept_new_host_keys)
    try:
        return await _dispatch(fleet, args)
    finally:
        await fleet.aclose()


async def _dispatch(fleet, args: argparse.Namespace) -> int:
    progress = None if args.json else _print_progress
    if args.command == "deploy":
        rollout = await fleet.deploy(args.artifact, args.to, waves=args.waves, max_failures=args.max_failures,
                                     watchdog_s=args.watchdog_s, on_progress=progress)
        return _print_rollout(fleet.rollout_report(rollout.id), args.json)
    if args.command == "rollout":
        return await _rollout_action(fleet, args, progress)
    if args.command == "rollback":
        results = await fleet.rollback(args.selector, args.to)
        return _print_device_results(results, args.json, lambda r: f"{r['name']}: {r['version'] or r['current']}"
                                     if r["ok"] else f"{r['name']}: failed: {r['error']}", key="ok")
    if args.command == "releases":
        return _print_releases(await fleet.releases(args.name), args.json)
    results = await fleet.reconcile(on_progress=progress)
    return _print_device_results(results, args.json, lambda r: f"{r['name']}: {r['state']}"
                                 + (f" ({r['error']})" if r.get("error") else ""),
                                 key=lambda r: r["state"] in ("committed", "in_sync"))


async def _rollout_action(fleet, args: argparse.Namespace, progress) -> int:
    action = args.rollout_command
    if action == "list":
        rollouts = [rollout.summary_json() for rollout in fleet.rollouts()]
        if args.json:
            print(json.dumps(rollouts, indent=2))
        for item in [] if args.json else rollouts:
            print(f"{item['rollout']}  {item['state']:<9} {item['artifact']:<24} {item['selector']}  "
                  f"{item['created']}")
        return EXIT_OK
    if action == "resume":
        await fleet.resume_rollout(args.rollout_id, on_progress=progress)
    elif action == "cancel":
        fleet.cancel_rollout(args.rollout_id)
    report = fleet.rollout_report(args.rollout_id)
    status = _print_rollout(report, args.json)
    return EXIT_OK if action in ("show", "cancel") else status


def _print_progress(progress) -> None:
    done = f" {progress.bytes_done}/{progress.bytes_total} bytes" if progress.bytes_total else ""
    print(f"{progress.device}: {progress.state}{done}", file=sys.stderr)


def _print_rollout(report: dict[str, Any], as_json: bool) -> int:
    """Print the rollout; return 0 only when every device committed."""
    devices = [device for wave in report["waves"] for device in wave["devices"]]
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        print(f"rollout {report['rollout']} of {report['artifact']}: {report['state']}")
        if report["halt_reason"]:
            print(f"  halted: {report['halt_reason']}")
        for wave in report["waves"]:
            for device in wave["devices"]:
                error = f"  {device['error']}" if device["error"] else ""
                print(f"  wave {wave['index']}  {device['name']:<24} {device['state']:<12} "
                      f"{device['bytes_sent']:>10} bytes{error}")
    return EXIT_OK if all(device["state"] == "committed" for device in devices) else EXIT_DEVICE_FAILED


def _print_device_results(results: list[dict[str, Any]], as_json: bool, line, key) -> int:
    succeeded = key if callable(key) else (lambda result: bool(result[key]))
    if as_json:
        print(json.dumps(results, indent=2))
    else:
        for result in results:
            print(line(result))
    return EXIT_OK if all(succeeded(result) for result in results) else EXIT_DEVICE_FAILED


def _print_releases(report: dict[str, Any], as_json: bool) -> int:
    if as_json:
        print(json.dumps(report, indent=2))
        return EXIT_OK
    print(f"{report['device']}: current {report['current']}, known-good {report['known_good']}")
    for release in report["releases"]:
        print(f"  {release['id']:<40} {release['version']:<16} {release['state']}")
    return EXIT_OK
