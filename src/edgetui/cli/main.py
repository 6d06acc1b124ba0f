"""Argument parsing and dispatch for the `edgetui` command.

Exit status: 0 when every device succeeded, 1 when any device failed,
2 for invalid input (a bad file, an unknown device, a bad option).
"""

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from edgetui import __version__
from edgetui.cli.artifact_cmd import add_artifact_parser
from edgetui.cli.audit_cmd import add_audit_parser
from edgetui.cli.collect_cmd import COLLECT_COMMANDS, add_collect_parsers
from edgetui.cli.deploy_cmd import DEPLOY_COMMANDS, add_deploy_parsers
from edgetui.cli.logs import configure_logging
from edgetui.cli.optimize_cmd import add_optimize_parser
from edgetui.cli.telemetry_cmd import TELEMETRY_COMMANDS, add_telemetry_parsers
from edgetui.errors import EdgetuiError
from edgetui.settings import DB_ENV, default_db_path, log_path

log = logging.getLogger("edgetui.cli")

EXIT_OK = 0
EXIT_DEVICE_FAILED = 1
EXIT_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    """Build the parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="edgetui",
        description="Terminal console for fleets of edge AI devices, over SSH. "
        "Without a command, opens the TUI on your fleet.",
    )
    parser.add_argument("--version", action="version", version=f"edgetui {__version__}")
    parser.add_argument(
        "--db",
        type=Path,
        help=f"fleet database file (default: ${DB_ENV}, else {default_db_path()})",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="also print logs on stderr")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    commands.add_parser("tui", help="open the TUI on the fleet (the default)")
    _add_demo(commands)
    _add_fleet(commands)
    _add_discover(commands)
    _add_sample_fleet(commands)
    add_optimize_parser(commands)
    add_artifact_parser(commands)
    add_audit_parser(commands)
    add_deploy_parsers(commands)
    add_telemetry_parsers(commands)
    add_collect_parsers(commands)
    return parser


def _add_demo(commands) -> None:
    demo = commands.add_parser(
        "demo",
        help="start a sample fleet of simulated devices, discover it and open the TUI",
    )
    demo.add_argument(
        "--devices", type=int, default=8, help="number of simulated devices (default: 8)"
    )
    demo.add_argument(
        "--state-dir",
        type=Path,
        help="folder for the sample fleet's keys and homes (default: the data folder's demo/)",
    )


def _add_fleet(commands) -> None:
    fleet = commands.add_parser("fleet", help="import and list devices")
    actions = fleet.add_subparsers(dest="fleet_command", metavar="ACTION", required=True)

    importer = actions.add_parser(
        "import",
        help="add devices from an edgetui TOML, ssh_config or Ansible inventory (INI or YAML)",
    )
    importer.add_argument("file", type=Path)
    importer.add_argument("--json", action="store_true", help="print the result as JSON")

    lister = actions.add_parser("list", help="list devices with their status and board")
    lister.add_argument("--json", action="store_true", help="print the result as JSON")


def _add_discover(commands) -> None:
    discover = commands.add_parser(
        "discover", help="read every device's hardware facts over SSH and store them"
    )
    discover.add_argument("names", nargs="*", metavar="NAME", help="devices (default: all)")
    discover.add_argument("--json", action="store_true", help="print the results as JSON")
    discover.add_argument(
        "--accept-new-host-keys",
        action="store_true",
        help="trust and record host keys of devices never contacted before "
        "(a changed key is still rejected)",
    )
    discover.add_argument(
        "--max-connections",
        type=int,
        default=32,
        help="SSH connections open at once (default: 32)",
    )
    discover.add_argument(
        "--connect-timeout",
        type=float,
        default=10.0,
        help="seconds to wait for each device's SSH handshake (default: 10)",
    )


def _add_sample_fleet(commands) -> None:
    sample = commands.add_parser(
        "sample-fleet",
        help="run simulated devices built from captures of real boards",
        add_help=False,
    )
    sample.add_argument("rest", nargs=argparse.REMAINDER)


def main(argv: list[str] | None = None) -> int:
    """Run the `edgetui` command and return its exit status."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)

    # Everything after `sample-fleet` belongs to its own parser, `--help` included;
    # argparse's REMAINDER does not capture a leading option, so split by hand.
    sample_fleet_args = None
    if "sample-fleet" in argv:
        split = argv.index("sample-fleet") + 1
        argv, sample_fleet_args = argv[:split], argv[split:]
    args = parser.parse_args(argv)
    if sample_fleet_args is not None:
        args.rest = sample_fleet_args
    db_path = (args.db or default_db_path()).expanduser()
    configure_logging(log_path(), verbose=args.verbose)
    log.info("edgetui %s: %s", __version__, args.command or "tui")

    try:
        return _dispatch(args, db_path)
    except EdgetuiError as exc:
        print(f"edgetui: {exc.title}: {exc.message}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, db_path: Path) -> int:
    """Run the chosen subcommand."""
    # Imported here so `edgetui --help` stays fast: the TUI pulls in Textual.
    from edgetui.cli import commands

    if args.command in (None, "tui"):
        return commands.run_tui(db_path, discover_on_start=False)
    if args.command == "demo":
        from edgetui.cli.demo import run_demo

        return run_demo(args.devices, args.state_dir, args.db)
    if args.command == "fleet" and args.fleet_command == "import":
        return commands.fleet_import(db_path, args.file, as_json=args.json)
    if args.command == "fleet" and args.fleet_command == "list":
        return commands.fleet_list(db_path, as_json=args.json)
    if args.command == "discover":
        return asyncio.run(commands.discover(db_path, args))
    if args.command == "optimize":
        from edgetui.cli.optimize_cmd import run_optimize

        return run_optimize(db_path, args)
    if args.command == "artifact":
        from edgetui.cli.artifact_cmd import run_artifact

        return run_artifact(db_path, args)
    if args.command == "audit":
        from edgetui.cli.audit_cmd import run_audit

        return run_audit(db_path, args)
    if args.command in DEPLOY_COMMANDS:
        from edgetui.cli.deploy_cmd import run_deploy_command

        return run_deploy_command(db_path, args)
    if args.command in TELEMETRY_COMMANDS:
        from edgetui.cli.telemetry_cmd import run_telemetry_command

        return run_telemetry_command(db_path, args)
    if args.command in COLLECT_COMMANDS:
        from edgetui.cli.collect_cmd import run_collect_command

        return run_collect_command(db_path, args)
    if args.command == "sample-fleet":
        from sample_fleet.cli import main as sample_fleet_main

        return sample_fleet_main(args.rest)
    raise AssertionError(f"unhandled command {args.command!r}")
