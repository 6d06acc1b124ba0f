"""Command line: `python -m sample_fleet up|list|fault|record` (also `edgetui sample-fleet ...`)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import math
import os
import signal
import sys
import threading
import tomllib
from pathlib import Path

from sample_fleet.device import SimulatedDevice
from sample_fleet.faults import (
    FAULTS_FILE,
    MAX_DRIFT,
    MAX_LATENCY_SPIKE_MS,
    MAX_TRAFFIC_RATE,
    FaultFileError,
    Faults,
    update_faults,
)
from sample_fleet.fleet import SampleFleet
from sample_fleet.profiles import ProfileError, list_profiles, load_profile
from sample_fleet.record import RecordError, record_stream
from sample_fleet.recorded import RecordingError
from sample_fleet.traffic import DEFAULT_RATE

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
    if args.command == "fault":
        return _run_fault(args)
    if args.command == "record":
        return _run_record(args)
    return _run_up(args)


def build_parser() -> argparse.ArgumentParser:
    """Build the parser of the `up`, `list`, `fault` and `record` subcommands."""
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
    up.add_argument("--bare", action="store_true",
                    help="only the SSH servers: no demo release, no model servers and no traffic")
    up.add_argument("--traffic-rate", type=_traffic_rate, default=DEFAULT_RATE, metavar="RPS",
                    help=f"inference requests per second to each device's model server "
                         f"(default: {DEFAULT_RATE:g}; 0 sends none)")
    up.add_argument("--recorded", type=Path, metavar="FILE",
                    help="serve the shim's stream sessions from FILE, JSON lines recorded with "
                         "`sample-fleet record`; no model server and no traffic run (implies --bare)")
    up.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                    help="level of the sample_fleet log on stderr (default: INFO)")

    subcommands.add_parser("list", help="list the bundled profiles")
    _add_fault_parser(subcommands)
    _add_record_parser(subcommands)
    return parser


def _add_record_parser(subcommands: argparse._SubParsersAction) -> None:
    record = subcommands.add_parser(
        "record",
        help="record a device's real telemetry stream for `up --recorded FILE`",
        description="Run the real device shim's stream on one device of DIR for SECONDS and write its sample "
                    "lines to FILE. Run it while `sample-fleet up` (without --bare) runs on DIR, so the "
                    "samples carry real requests.",
    )
    record.add_argument("--state-dir", type=Path, required=True, metavar="DIR",
                        help="the state directory of a fleet started at least once")
    record.add_argument("--name", required=True, metavar="NAME", help="device name, as in DIR/inventory.toml")
    record.add_argument("--seconds", type=_seconds, default=60.0, metavar="N",
                        help="how long to record, in seconds (default: 60)")
    record.add_argument("--output", type=Path, required=True, metavar="FILE", help="the JSON-lines file to write")
    record.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="level of the sample_fleet log on stderr (default: INFO)")


def _add_fault_parser(subcommands: argparse._SubParsersAction) -> None:
    fault = subcommands.add_parser(
        "fault",
        help="set or clear fault switches of a simulated device",
        description="Change the fault switches of a device of a running fleet, which reads them at the start "
                    "of each session and SFTP transfer. Options combine with the switches already set; "
                    "without options, print the switches.",
    )
    fault.add_argument("--state-dir", type=Path, required=True, metavar="DIR",
                       help="the state directory of the running fleet")
    fault.add_argument("name", metavar="NAME", help="device name, as in DIR/inventory.toml")
    fault.add_argument("--cut-after-bytes", type=_whole_number, metavar="N",
                       help="one-shot: drop the SSH connection after N bytes of the next SFTP upload")
    fault.add_argument("--kill-on-activate", action="store_true",
                       help="one-shot: SIGKILL the next exec session whose command contains ' activate', "
                            "when it appends to .edgetui/journal.jsonl")
    fault.add_argument("--kill-after-ms", type=_whole_number, metavar="MS",
                       help="with --kill-on-activate: kill MS milliseconds after the session starts instead")
    fault.add_argument("--disk-full", action="store_true",
                       help="persistent: sessions get EDGETUI_SHIM_FAKE_FREE_MB=0 and SFTP writes fail")
    fault.add_argument("--slow-link", type=_link_rate, metavar="KBPS",
                       help="persistent: limit data from the client (SFTP writes, stdin) to KBPS kilobytes "
                            "(1000 bytes) per second")
    fault.add_argument("--latency-spike-ms", type=_spike_ms, metavar="MS",
                       help="persistent: pause the device's model server with SIGSTOP for MS milliseconds during "
                            "requests, at most 4 times per second")
    fault.add_argument("--error-rate", type=_fraction, metavar="FRACTION",
                       help="persistent: send this fraction (0 to 1) of requests malformed, so the server "
                            "answers 400")
    fault.add_argument("--drift", type=_drift, metavar="AMOUNT",
                       help="persistent: send inputs x * (1 + AMOUNT) + AMOUNT, so the model's outputs drift")
    fault.add_argument("--traffic-rate", type=_traffic_rate, metavar="RPS",
                       help="persistent: requests per second to this device, replacing `up --traffic-rate`")
    fault.add_argument("--clear", action="store_true",
                       help="remove every switch first; other options given are then set")
    fault.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                       help="level of the sample_fleet log on stderr (default: INFO)")


def _device_count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected a whole number of at least 1") from None
    if count < 1:
        raise argparse.ArgumentTypeError(f"invalid value {count}: the fleet needs at least 1 device")
    return count


def _whole_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected a whole number of at least 0") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"invalid value {value}: expected a whole number of at least 0")
    return value


def _link_rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected kilobytes per second above 0") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected kilobytes per second above 0")
    return value


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected {what}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected {what}")
    return value


def _traffic_rate(text: str) -> float:
    what = f"requests per second from 0 to {MAX_TRAFFIC_RATE:g}"
    value = _number(text, what)
    if not 0 <= value <= MAX_TRAFFIC_RATE:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected {what}")
    return value


def _fraction(text: str) -> float:
    value = _number(text, "a fraction from 0 to 1")
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected a fraction from 0 to 1")
    return value


def _drift(text: str) -> float:
    what = f"a number above -1 and at most {MAX_DRIFT:g}"
    value = _number(text, what)
    if not -1 < value <= MAX_DRIFT:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected {what}")
    return value


def _spike_ms(text: str) -> int:
    what = f"whole milliseconds from 1 to {MAX_LATENCY_SPIKE_MS}"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected {what}") from None
    if not 1 <= value <= MAX_LATENCY_SPIKE_MS:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected {what}")
    return value


def _seconds(text: str) -> float:
    value = _number(text, "seconds above 0")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected seconds above 0")
    return value


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

    if args.recorded is not None and not args.recorded.is_file():
        print(f"sample-fleet: error: recording {args.recorded} not found; record one with `sample-fleet record`",
              file=sys.stderr)
        return _USAGE_ERROR

    _configure_logging(args.log_level)
    options = {
        "demo_release": not args.bare and args.recorded is None,
        "traffic_rate": args.traffic_rate,
        "recorded": args.recorded,
    }
    try:
        return asyncio.run(
            _serve(args.state_dir, args.devices, args.profile or None, args.stop_on_stdin_eof, options)
        )
    except RecordingError as exc:
        print(f"sample-fleet: error: {exc}", file=sys.stderr)
        return _USAGE_ERROR
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
    # asyncssh logs every channel and httpx every request at INFO; their warnings are enough here.
    logging.getLogger("asyncssh").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)


async def _serve(
    state_dir: Path, devices: int, profiles: list[Path] | None, stop_on_stdin_eof: bool = False,
    options: dict | None = None,
) -> int:
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(signum, stop_requested.set)
    if stop_on_stdin_eof:
        loop.create_task(_stop_at_stdin_eof(stop_requested))
    try:
        async with SampleFleet(state_dir, devices, profiles, **(options or {})) as fleet:
            for device in fleet.devices:
                print(f"{device.name:<36} port {device.port:<5} profile {device.profile.name}")
            print(f"inventory: {fleet.inventory_path}")
            print("Press Ctrl+C to stop.", flush=True)
            if fleet.demo is not None:
                loop.create_task(_print_when_ready(fleet))
            await stop_requested.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(signum)
    return 0


async def _print_when_ready(fleet: SampleFleet) -> None:
    """Print one line once the demo release is installed and the servers run."""
    demo = fleet.demo
    await demo.ready.wait()
    release = demo.release.release_id if demo.release is not None else "none"
    print(f"demo release {release}: {len(demo.servers)} of {len(fleet.devices)} devices serving", flush=True)
    if demo.serve_error:
        print(f"no model server: {demo.serve_error}", flush=True)


async def _stop_at_stdin_eof(stop_requested: asyncio.Event) -> None:
    """Set ``stop_requested`` once standard input reaches end of file."""
    loop = asyncio.get_running_loop()
    stdin_fd = sys.stdin.fileno()

    def read_until_eof() -> None:
        # os.read, unlike sys.stdin.buffer, takes no lock that would abort the
        # interpreter's shutdown while this thread still waits for input.
        while os.read(stdin_fd, 65536):
            pass
        try:
            loop.call_soon_threadsafe(_stdin_closed, stop_requested)
        except RuntimeError:
            # The loop already ended, because a signal stopped the fleet first.
            pass

    # The read runs in a thread because stdin may be a pipe, a terminal or /dev/null.
    # A daemon thread, unlike asyncio.to_thread, does not keep the process alive
    # after SIGTERM while stdin stays open.
    threading.Thread(target=read_until_eof, name="stdin-eof", daemon=True).start()


def _stdin_closed(stop_requested: asyncio.Event) -> None:
    logging.getLogger("sample_fleet").info("standard input closed; stopping the fleet")
    stop_requested.set()


def _run_fault(args: argparse.Namespace) -> int:
    if args.kill_after_ms is not None and not args.kill_on_activate:
        print("sample-fleet: error: --kill-after-ms needs --kill-on-activate", file=sys.stderr)
        return _USAGE_ERROR
    try:
        names = _inventory_names(args.state_dir / "inventory.toml")
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        print(f"sample-fleet: error: cannot read {args.state_dir / 'inventory.toml'}: {exc}; "
              f"start the fleet with `sample-fleet up --state-dir {args.state_dir}`", file=sys.stderr)
        return _USAGE_ERROR
    if args.name not in names:
        print(f"sample-fleet: error: unknown device {args.name!r}: {args.state_dir / 'inventory.toml'} lists "
              f"{', '.join(names) or 'no devices'}", file=sys.stderr)
        return _USAGE_ERROR

    _configure_logging(args.log_level)
    directory = args.state_dir / args.name
    try:
        faults = update_faults(directory, lambda current: _apply_fault_options(current, args), not args.clear)
    except FaultFileError as exc:
        print(f"sample-fleet: error: invalid {directory / FAULTS_FILE}: {exc}; use --clear to replace it",
              file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"sample-fleet: error: cannot write the faults of {args.name}: {exc}", file=sys.stderr)
        return 1
    fleet_logger = logging.getLogger("sample_fleet")
    if faults == Faults() and args.clear:
        fleet_logger.info("%s: faults cleared", args.name)
    elif args.clear or _fault_options_given(args):
        fleet_logger.info("%s: faults set: %s", args.name, faults.describe())
    print(f"{args.name}: {faults.describe()}")
    return 0


def _inventory_names(path: Path) -> list[str]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [entry["name"] for entry in data.get("device", [])]


def _fault_options_given(args: argparse.Namespace) -> bool:
    return (args.cut_after_bytes is not None or args.kill_on_activate or args.disk_full
            or args.slow_link is not None or _traffic_options(args))


def _traffic_options(args: argparse.Namespace) -> dict[str, object]:
    """Return the traffic switches given on the command line, by Faults field name."""
    given = {
        "latency_spike_ms": args.latency_spike_ms,
        "error_rate": args.error_rate,
        "drift": args.drift,
        "traffic_rate": args.traffic_rate,
    }
    return {name: value for name, value in given.items() if value is not None}


def _apply_fault_options(current: Faults, args: argparse.Namespace) -> Faults:
    """Return `current` with the switches that the command line sets."""
    changes: dict[str, object] = {}
    if args.cut_after_bytes is not None:
        changes["cut_after_bytes"] = args.cut_after_bytes
    if args.kill_on_activate:
        changes["kill_on_activate"] = True
        changes["kill_after_ms"] = args.kill_after_ms
    if args.disk_full:
        changes["disk_full"] = True
    if args.slow_link is not None:
        changes["slow_link_kbps"] = args.slow_link
    changes.update(_traffic_options(args))
    return dataclasses.replace(current, **changes)


def _run_record(args: argparse.Namespace) -> int:
    try:
        names = _inventory_names(args.state_dir / "inventory.toml")
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        print(f"sample-fleet: error: cannot read {args.state_dir / 'inventory.toml'}: {exc}; "
              f"start the fleet with `sample-fleet up --state-dir {args.state_dir}`", file=sys.stderr)
        return _USAGE_ERROR
    if args.name not in names:
        print(f"sample-fleet: error: unknown device {args.name!r}: {args.state_dir / 'inventory.toml'} lists "
              f"{', '.join(names) or 'no devices'}", file=sys.stderr)
        return _USAGE_ERROR
    profile_name = _inventory_profiles(args.state_dir / "inventory.toml")[args.name]
    profile = next((item for item in list_profiles() if item.name == profile_name), None)
    if profile is None or not profile.python:
        print(f"sample-fleet: error: device {args.name} has no bundled profile with python3, so no shim runs there",
              file=sys.stderr)
        return _USAGE_ERROR

    _configure_logging(args.log_level)
    device = SimulatedDevice(name=args.name, profile=profile, directory=args.state_dir.resolve() / args.name)
    try:
        count = asyncio.run(record_stream(device, args.seconds, args.output))
    except (RecordError, OSError) as exc:
        print(f"sample-fleet: error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.name}: {count} samples written to {args.output}")
    return 0


def _inventory_profiles(path: Path) -> dict[str, str]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {entry["name"]: entry.get("tags", {}).get("profile", "") for entry in data.get("device", [])}
