"""Command line: `python -m sample_fleet up|list` (also `edgetui sample-fleet ...`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from sample_fleet.fleet import SampleFleet
from sample_fleet.profiles import ProfileError, list_profiles, load_profile

# Exit status for invalid options or profiles, as argparse uses.
_USAGE_ERROR = 2


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` (default: sys.argv[1:]), run the subcommand and return its exit status.

    `up` runs its own event loop with asyncio.run, so call this from synchronous code.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        # argparse exits on --help and on invalid options; return its status instead.
        return exc.code if isinstance(exc.code, int) else _USAGE_ERROR
    if args.command == "list":
        return _list_profiles()
    return _run_up(args)


def build_parser() -> argparse.ArgumentParser:
    """Build the parser of the `up` and `list` subcommands."""
    parser = argparse.ArgumentParser(
        prog="sample-fleet",
        description="Simulated edge devices: SSH servers on 127.0.0.1 that replay captures of real boards.",
    )
    subcommands = parser.add_subparsers(dest="command", required=True)

    up = subcommands.add_parser(
        "up",
        help="start the fleet in the foreground until SIGINT (Ctrl+C) or SIGTERM",
        description="Start simulated devices, write STATE_DIR/inventory.toml and run until SIGINT or SIGTERM.",
    )
    up.add_argument("--devices", type=_device_count, required=True, metavar="N",
                    help="number of devices, at least 1. Profiles are assigned round-robin")
    up.add_argument("--state-dir", type=Path, required=True, metavar="DIR",
                    help="folder for keys, home folders and inventory.toml (created if missing)")
    up.add_argument("--profile", type=Path, action="append", default=[], metavar="PATH",
                    help="profile folder to use, repeatable (default: all bundled profiles)")
    up.add_argument("--stop-on-stdin-eof", action="store_true",
                    help="also stop when standard input closes: a parent that pipes to it "
                         "then stops the fleet by exiting, even when it is killed")
    up.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                    help="level of the sample_fleet log on stderr (default: INFO)")

    subcommands.add_parser("list", help="list the bundled profiles")
    return parser


def _device_count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected a whole number of at least 1") from None
    if count < 1:
        raise argparse.ArgumentTypeError(f"invalid value {count}: the fleet needs at least 1 device")
    return count


def _list_profiles() -> int:
    for profile in list_profiles():
        print(f"{profile.name:<32} {profile.description}")
    return 0


def _run_up(args: argparse.Namespace) -> int:
    # Check everything the user typed before any server starts.
    try:
        for path in args.profile:
            load_profile(path)
    except ProfileError as exc:
        print(f"sample-fleet: error: {exc}", file=sys.stderr)
        return _USAGE_ERROR
    if args.state_dir.exists() and not args.state_dir.is_dir():
        print(f"sample-fleet: error: state directory {args.state_dir} exists and is not a directory", file=sys.stderr)
        return _USAGE_ERROR

    _configure_logging(args.log_level)
    try:
        return asyncio.run(
            _serve(args.state_dir, args.devices, args.profile or None, args.stop_on_stdin_eof)
        )
    except (ProfileError, OSError) as exc:
        print(f"sample-fleet: error: {exc}", file=sys.stderr)
        return 1


def _configure_logging(level: str) -> None:
    fleet_logger = logging.getLogger("sample_fleet")
    # main() may run several times in one process (tests, the console); one handler is enough.
    if not fleet_logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        fleet_logger.addHandler(handler)
    fleet_logger.setLevel(level)
    # asyncssh logs every channel at INFO; its warnings are enough here.
    logging.getLogger("asyncssh").setLevel(logging.WARNING)


async def _serve(
    state_dir: Path, devices: int, profiles: list[Path] | None, stop_on_stdin_eof: bool = False
) -> int:
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(signum, stop_requested.set)
    if stop_on_stdin_eof:
        loop.create_task(_stop_at_stdin_eof(stop_requested))
    try:
        async with SampleFleet(state_dir, devices, profiles) as fleet:
            for device in fleet.devices:
                print(f"{device.name:<36} port {device.port:<5} profile {device.profile.name}")
            print(f"inventory: {fleet.inventory_path}")
            print("Press Ctrl+C to stop.", flush=True)
            await stop_requested.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(signum)
    return 0


async def _stop_at_stdin_eof(stop_requested: asyncio.Event) -> None:
    """Set ``stop_requested`` once standard input reaches end of file."""
    # The read runs in a thread because stdin may be a pipe, a terminal or /dev/null.
    await asyncio.to_thread(sys.stdin.buffer.read)
    logging.getLogger("sample_fleet").info("standard input closed; stopping the fleet")
    stop_requested.set()
