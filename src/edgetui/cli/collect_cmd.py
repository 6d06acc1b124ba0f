"""`edgetui collect` (stream telemetry into the fleet database) and `edgetui probe` (one inference on a device).

This module imports nothing heavy at import time, because main.py imports it
to build the parser.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger("edgetui.cli")

EXIT_OK = 0
EXIT_DEVICE_FAILED = 1
COLLECT_COMMANDS = ("collect", "probe")


def add_collect_parsers(commands) -> None:
    """Add the collect and probe subcommands to ``commands``."""
    collect = commands.add_parser(
        "collect", help="stream telemetry from devices into the fleet database",
        description="Open one telemetry stream per device and store its samples until Ctrl-C or --duration. "
        "State changes go to stderr; a summary per device is printed at the end.",
    )
    collect.add_argument("names", nargs="*", metavar="NAME", help="devices (default: all)")
    collect.add_argument("--duration", metavar="DURATION",
                         help="stop after this long: 90s, 10m, 2h, 1d or plain seconds (default: until Ctrl-C)")
    collect.add_argument("--json", action="store_true", help="print the summary as JSON")
    collect.add_argument("--accept-new-host-keys", action="store_true",
                         help="trust and record host keys of devices never contacted before")

    probe = commands.add_parser(
        "probe", help="run one inference on a device's model server and print the outputs",
        description="Start the device's model server when needed, forward its port over SSH and POST the "
        "input file to /v1/infer. Prints each output's shape, the top-5 of a (1, N) output, the round-trip "
        "latency and the server's own latency.",
    )
    probe.add_argument("name", metavar="NAME", help="device name")
    probe.add_argument("--input", required=True, type=Path, metavar="FILE",
                       help=".npz (one array per input name), .npy (the model's only input) or .json "
                       "(an /v1/infer request body)")
    probe.add_argument("--json", action="store_true", help="print the result as JSON, output values included")
    probe.add_argument("--accept-new-host-keys", action="store_true",
                       help="trust and record the device's host key if it was never contacted before")


def run_collect_command(db_path: Path, args: argparse.Namespace) -> int:
    """Run collect or probe and return the exit status."""
    if args.command == "collect":
        return asyncio.run(_collect(db_path, args))
    return asyncio.run(_probe(db_path, args))


# collect


async def _collect(db_path: Path, args: argparse.Namespace) -> int:
    from edgetui.service import Fleet
    from edgetui.telemetry import parse_duration

    duration = parse_duration(args.duration, option="--duration") if args.duration else None
    fleet = Fleet.open(db_path, accept_new_host_keys=args.accept_new_host_keys)
    try:
        collector = fleet.collector(args.names, on_state=_print_state)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        # Ctrl-C and SIGTERM end the wait, so the collector stores its queued samples before exiting.
        # Only the main thread may set signal handlers; elsewhere (tests) only --duration ends it.
        signals = (signal.SIGINT, signal.SIGTERM) if threading.current_thread() is threading.main_thread() else ()
        for signal_number in signals:
            loop.add_signal_handler(signal_number, stop.set)

        await collector.start()
        count = len(collector.states())
        devices = "1 device" if count == 1 else f"{count} devices"
        print(f"Collecting telemetry from {devices}; Ctrl-C stops.", file=sys.stderr)
        try:
            await asyncio.wait_for(stop.wait(), duration)
        except TimeoutError:
            pass
        await collector.stop()
        for signal_number in signals:
            loop.remove_signal_handler(signal_number)
        return _print_summary(collector.states(), args.json)
    finally:
        await fleet.aclose()


def _print_state(name: str, state: Any) -> None:
    """Print a device's new link state on stderr."""
    detail = f": {state.last_error}" if state.last_error and state.state in ("offline", "error", "unsupported") else ""
    print(f"{name}: {state.state}{detail}", file=sys.stderr)


def _print_summary(states: dict[str, Any], as_json: bool) -> int:
    """Print one line (or JSON object) per device; exit 1 when a device sent no sample."""
    rows = []
    for name, state in states.items():
        rows.append({
            "name": name, "state": _final_state(state), "samples": state.samples, "duplicates": state.duplicates,
            "gaps": state.gaps, "dropped": state.dropped, "garbage": state.garbage,
            "reconnects": state.reconnects, "stream": state.stream, "clock_offset_s": state.clock_offset_s,
            "last_error": state.last_error,
        })
    if as_json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            error = f", last error: {row['last_error']}" if row["last_error"] else ""
            if row["state"] == "offline" and not row["last_error"]:
                error = ", no connection before collection stopped"
            print(f"{row['name']}: {row['state']}, {row['samples']} samples, {row['duplicates']} duplicates, "
                  f"{row['gaps']} gaps, {row['dropped']} dropped, {row['garbage']} invalid lines, "
                  f"{row['reconnects']} reconnects{error}")
    return EXIT_OK if all(row["samples"] for row in rows) else EXIT_DEVICE_FAILED


def _final_state(state: Any) -> str:
    """Return the link state to report once collection has stopped.

    A device still "connecting" at the end never streamed in its last attempt:
    the attempt was cut short or waited for a retry after an error, so it is offline.
    """
    return "offline" if state.state == "connecting" else state.state


# probe


async def _probe(db_path: Path, args: argparse.Namespace) -> int:
    from edgetui.errors import DeviceError
    from edgetui.service import Fleet

    fleet = Fleet.open(db_path, accept_new_host_keys=args.accept_new_host_keys)
    try:
        try:
            result = await fleet.probe(args.name, args.input)
        except DeviceError as exc:
            print(f"edgetui: {exc.title}: {exc.message}", file=sys.stderr)
            return EXIT_DEVICE_FAILED
    finally:
        await fleet.aclose()

    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
        return EXIT_OK
    print(f"{result.device}: release {result.release or 'unknown'}, round trip {result.latency_ms:.1f} ms, "
          f"server {_milliseconds(result.server_latency_ms)}")
    for name, array in result.outputs.items():
        shape = "x".join(str(size) for size in array.shape) or "scalar"
        print(f"  {name}: shape {shape}, {array.dtype.name}")
        top = result.top_k(name)
        if top is not None:
            print("    top-5: " + ", ".join(f"{index} ({value:.4g})" for index, value in top))
        elif array.size <= 8:
            print(f"    values: {array.ravel().tolist()}")
    return EXIT_OK


def _milliseconds(value: float | None) -> str:
    return f"{value:.1f} ms" if value is not None else "not reported"
