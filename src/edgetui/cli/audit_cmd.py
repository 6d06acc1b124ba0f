"""The `edgetui audit` commands: list the audit log and verify its hash chain."""

import argparse
import json
import sys
from pathlib import Path

EXIT_OK = 0
EXIT_BROKEN = 1
DEFAULT_LIMIT = 50


def add_audit_parser(commands) -> None:
    """Add the `audit` subcommand and its actions to the subparsers ``commands``."""
    audit = commands.add_parser("audit", help="list and verify the hash-chained audit log")
    actions = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)

    verify = actions.add_parser(
        "verify", help="check that no audit entry was edited, removed or moved",
        description="Recompute the hash chain of the audit log. Exits 0 when it is intact, "
        "1 when not, naming the first bad entry.",
    )
    verify.add_argument("--json", action="store_true", help="print the result as JSON")

    lister = actions.add_parser("list", help="print the newest audit entries")
    lister.add_argument("--limit", type=int, default=DEFAULT_LIMIT,
                        help=f"number of entries, newest first (default: {DEFAULT_LIMIT})")
    lister.add_argument("--json", action="store_true", help="print the entries as JSON")


def run_audit(db_path: Path, args: argparse.Namespace) -> int:
    """Run `edgetui audit ACTION` and return the exit status."""
    from edgetui.audit import AuditLog
    from edgetui.cli.output import print_json
    from edgetui.store import FleetStore

    with FleetStore(db_path) as store:
        audit = AuditLog(store)
        if args.audit_command == "verify":
            report = audit.verify()
            if args.json:
                print_json(report.as_json())
            elif report.ok:
                print(f"audit log intact: {report.entries} entries")
            else:
                print(f"edgetui: audit log broken at entry {report.first_bad_id}: {report.problem}",
                      file=sys.stderr)
            return EXIT_OK if report.ok else EXIT_BROKEN
        entries = audit.entries(max(args.limit, 0))
    if args.json:
        print_json([entry.as_json() for entry in entries])
        return EXIT_OK
    for entry in entries:
        devices = ",".join(entry.devices) or "-"
        artifact = entry.artifact_id[:12] if entry.artifact_id else "-"
        print(f"{entry.id:>5} {entry.ts} {entry.user} {entry.action} {entry.result} "
              f"devices={devices} artifact={artifact} {json.dumps(entry.detail, sort_keys=True)}")
    return EXIT_OK
