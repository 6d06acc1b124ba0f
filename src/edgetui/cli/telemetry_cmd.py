"""The telemetry commands: `telemetry NAME`, `alerts` with its rule actions, and `export telemetry`.

They read the fleet database only; collecting telemetry is `edgetui collect`.
This module imports nothing heavy at import time, because main.py imports it
to build the parser.
"""

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("edgetui.cli")

EXIT_OK = 0
TELEMETRY_COMMANDS = ("telemetry", "alerts", "export")

_OPERATORS = {">": ">", "<": "<", "gt": ">", "lt": "<"}


def add_telemetry_parsers(commands) -> None:
    """Add the telemetry, alerts and export subcommands to ``commands``."""
    telemetry = commands.add_parser(
        "telemetry", help="print a device's stored telemetry samples",
        description="Print the telemetry samples that `edgetui collect` stored for NAME, oldest first.",
    )
    telemetry.add_argument("name", metavar="NAME", help="device name")
    telemetry.add_argument("--since", default="10m", metavar="DURATION",
                           help="how far back: 90s, 10m, 2h, 1d or plain seconds (default: 10m)")
    telemetry.add_argument("--per-minute", action="store_true",
                           help="print the per-minute roll-ups instead of the raw samples")
    telemetry.add_argument("--json", action="store_true", help="print the samples as a JSON list")

    _add_alerts_parser(commands)

    export = commands.add_parser("export", help="export stored data to a file")
    kinds = export.add_subparsers(dest="export_command", metavar="KIND", required=True)
    samples = kinds.add_parser(
        "telemetry", help="export telemetry samples as CSV or JSON",
        description="Write the stored samples of the named devices (default: every device with telemetry) "
        "to stdout or to FILE. CSV has a header row and one row per sample.",
    )
    samples.add_argument("names", nargs="*", metavar="NAME", help="devices (default: all with telemetry)")
    samples.add_argument("--since", default="1d", metavar="DURATION",
                         help="how far back: 90s, 10m, 2h, 1d or plain seconds (default: 1d)")
    samples.add_argument("--format", choices=("csv", "json"), default="csv", help="file format (default: csv)")
    # A string, not a Path: Path("out/") drops the "/" that shows a folder was meant.
    samples.add_argument("--output", metavar="FILE",
                         help="file to write, replaced atomically; its folder must exist (default: stdout)")


def _add_alerts_parser(commands) -> None:
    alerts = commands.add_parser(
        "alerts", help="list alerts, and list or change alert rules",
        description="Without an action, list alerts newest first. `edgetui collect` evaluates the rules.",
    )
    alerts.add_argument("--open", action="store_true", help="only alerts that are still open")
    alerts.add_argument("--device", metavar="NAME", help="only alerts of this device")
    alerts.add_argument("--since", metavar="DURATION",
                        help="only alerts open at some time in the last DURATION (90s, 10m, 2h, 1d)")
    alerts.add_argument("--json", action="store_true", help="print the alerts as a JSON list")
    actions = alerts.add_subparsers(dest="alerts_command", metavar="ACTION")

    rules = actions.add_parser("rules", help="list the alert rules")
    rules.add_argument("--json", action="store_true", help="print the rules as a JSON list")

    rule = actions.add_parser("rule", help="add, remove, enable or disable an alert rule")
    rule_actions = rule.add_subparsers(dest="rule_command", metavar="ACTION", required=True)
    add = rule_actions.add_parser(
        "add", help="add an alert rule",
        description="Add a rule that opens an alert when the aggregate of METRIC over the last --for seconds "
        "(at least 15 s; errors over requests for error_rate, request-weighted for latencies, the mean "
        "otherwise) is OP THRESHOLD, once the device has streamed for that long. A rule with --device applies to that device only and replaces, for it, the "
        "fleet rules of the same metric, operator and severity.",
    )
    add.add_argument("rule_name", metavar="NAME", help="rule name: letters, digits, '.', '_' or '-'")
    add.add_argument("--metric", required=True,
                     help="metric to compare, such as latency_ms_p95, error_rate (a fraction: 0.05 = 5%%), "
                     "offline_s (seconds without telemetry), temp_c or drift_psi; an unknown name lists them all")
    add.add_argument("--op", required=True, choices=tuple(_OPERATORS),
                     help="comparison with the threshold: '>' (or gt) or '<' (or lt)")
    add.add_argument("--threshold", required=True,
                     help="value in the metric's unit; error_rate also takes a percentage such as 5%%")
    add.add_argument("--for", dest="for_duration", default="0", metavar="DURATION",
                     help="window the aggregate covers, which the device must have streamed for: 90s, 10m, "
                     "2h or plain seconds (default: 0, which means 15 s)")
    add.add_argument("--device", metavar="NAME", help="apply to this device only (default: the whole fleet)")
    add.add_argument("--severity", choices=("watch", "act"), default="watch", help="default: watch")
    add.add_argument("--disabled", action="store_true", help="add the rule switched off")
    add.add_argument("--json", action="store_true", help="print the new rule as JSON")
    for name, text in (("remove", "delete a rule; its open alerts resolve at the next evaluation"),
                       ("enable", "switch a rule on"),
                       ("disable", "switch a rule off; its open alerts resolve at the next evaluation")):
        action = rule_actions.add_parser(name, help=text)
        action.add_argument("rule_name", metavar="NAME", help="rule name")


def run_telemetry_command(db_path: Path, args: argparse.Namespace) -> int:
    """Run `telemetry`, `alerts` or `export telemetry` and return the exit status."""
    from edgetui.cli.commands import require_database
    from edgetui.store import FleetStore
    from edgetui.telemetry import TelemetryStore

    require_database(db_path)
    with FleetStore(db_path) as fleet:
        store = TelemetryStore(fleet)
        try:
            return _dispatch(fleet, store, args)
        except BrokenPipeError:
            # The reader of stdout went away, as `| head` does: stop quietly.
            # Pointing stdout at /dev/null keeps the flush at exit from failing again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_OK


def _dispatch(fleet, store, args: argparse.Namespace) -> int:
    if args.command == "telemetry":
        return _run_telemetry(fleet, store, args)
    if args.command == "export":
        return _run_export(fleet, store, args)
    if args.alerts_command == "rules":
        return _print_rules(store.rules(), args.json)
    if args.alerts_command == "rule":
        return _run_rule_action(store, args)
    return _run_alerts(fleet, store, args)


def _since_ts(text: str, option: str = "--since") -> float:
    from edgetui.telemetry import parse_duration

    return time.time() - parse_duration(text, option=option)


def _require_device(fleet, store, name: str) -> None:
    """Raise DeviceNotFound, which lists close names, unless ``name`` is a fleet device or has telemetry."""
    if name not in store.devices():
        fleet.device(name)


def _run_telemetry(fleet, store, args: argparse.Namespace) -> int:
    from edgetui.cli.output import print_json
    from edgetui.telemetry.export import rollup_json, sample_json

    since = _since_ts(args.since)
    _require_device(fleet, store, args.name)
    if args.per_minute:
        rows = store.rollups(args.name, since)
        if args.json:
            print_json([rollup_json(row) for row in rows])
            return EXIT_OK
    else:
        rows = store.samples(args.name, since)
        if args.json:
            print_json([sample_json(row) for row in rows])
            return EXIT_OK

    if not rows:
        print(f"No telemetry from {args.name} in the last {args.since}. "
              f"Collect it with `edgetui collect {args.name}`.")
        return EXIT_OK
    from rich.console import Console

    console = Console(highlight=False)
    console.print(_samples_table(rows, per_minute=args.per_minute))
    for stream in store.streams(args.name):
        console.print(
            f"stream {stream['stream'] or '(unknown)'}: last seq {stream['last_seq']}, "
            f"clock offset {stream['clock_offset_s']:+.3f} s, gaps {stream['gaps']}, "
            f"dropped {stream['dropped_total']}, duplicates {stream['duplicates']}, garbage {stream['garbage']}"
        )
    return EXIT_OK


def _samples_table(rows: list[dict[str, Any]], *, per_minute: bool):
    """Build the table of samples or roll-ups; the title gives the dates and the rows the times."""
    from datetime import UTC, datetime

    from rich.table import Table

    times = [datetime.fromtimestamp(row["minute"] if per_minute else row["ts"], UTC) for row in rows]
    title = f"{rows[0]['device']}: {times[0]:%Y-%m-%d %H:%M:%S} to {times[-1]:%Y-%m-%d %H:%M:%S} UTC"
    table = Table(box=None, header_style="bold", title=title, title_justify="left")
    first = "minute" if per_minute else "time"
    # Fits 80 columns; p50, p99 and the other fields are in --json.
    # Release ids are long, so the caption names them once instead of a column on every row.
    table.caption = _releases_caption([row["release"] for row in rows])
    table.caption_justify = "left"
    for column in (first, "samples" if per_minute else "seq", "req/s", "err %", "p95 ms", "cpu %", "mem MB",
                   "°C", "drift"):
        table.add_column(column, justify="left" if column == first else "right", no_wrap=True)

    for when, row in zip(times, rows):
        table.add_row(
            f"{when:%H:%M}" if per_minute else f"{when:%H:%M:%S}",
            str(row["samples"] if per_minute else row["seq"]),
            f"{row['throughput_rps']:.1f}",
            f"{row['error_rate'] * 100:.1f}",
            _number(row["latency_ms_p95"]),
            _number(row["cpu_percent"]),
            _number(row["mem_used_mb"], "{:.0f}"),
            _number(row["temp_c"]),
            _number(row["drift_psi"], "{:.3f}"),
        )
    return table


def _releases_caption(releases: list[str | None]) -> str:
    """Name the releases of the rows in their order, such as "releases: a, b (some samples without a release)"."""
    named = list(dict.fromkeys(release for release in releases if release))
    if not named:
        return "no release served in these samples"
    caption = ("release: " if len(named) == 1 else "releases: ") + ", ".join(named)
    if None in releases or "" in releases:
        caption += " (some samples without a release)"
    return caption


def _number(value: float | None, pattern: str = "{:.1f}") -> str:
    return "-" if value is None else pattern.format(value)


def _run_alerts(fleet, store, args: argparse.Namespace) -> int:
    from edgetui.cli.output import print_json
    from edgetui.telemetry.export import alert_json, iso_utc

    since = _since_ts(args.since) if args.since else None
    if args.device:
        _require_device(fleet, store, args.device)
    alerts = store.alerts(open_only=args.open, device=args.device, since=since)
    if args.json:
        print_json([alert_json(alert) for alert in alerts])
        return EXIT_OK
    if not alerts:
        print("No open alerts." if args.open else "No alerts.")
        return EXIT_OK

    # One line per alert: the messages are long, and a table column would wrap them.
    for alert in alerts:
        opened = iso_utc(alert["opened_at"])[:19].replace("T", " ")
        if alert["open"]:
            state = f"open since {opened}"
        else:
            state = f"resolved {iso_utc(alert['resolved_at'])[:19].replace('T', ' ')}, opened {opened}"
        print(f"#{alert['id']} {alert['severity']:<5} {alert['device']} {alert['rule']} ({state} UTC): "
              f"{alert['message']}")
    return EXIT_OK


def _print_rules(rules: list[dict[str, Any]], as_json: bool) -> int:
    from edgetui.cli.output import print_json
    from edgetui.telemetry import format_duration

    if as_json:
        print_json(rules)
        return EXIT_OK
    if not rules:
        print("No alert rules. Add one with `edgetui alerts rule add NAME --metric M --op '>' --threshold X`.")
        return EXIT_OK

    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    for column in ("name", "condition", "window", "applies to", "severity", "enabled"):
        table.add_column(column)
    for rule in rules:
        table.add_row(
            rule["name"], f"{rule['metric']} {rule['op']} {rule['threshold']:g}",
            format_duration(rule["for_s"]) if rule["for_s"] else "-", rule["device"] or "fleet",
            rule["severity"], "yes" if rule["enabled"] else "no",
        )
    Console(highlight=False).print(table)
    return EXIT_OK


def _run_rule_action(store, args: argparse.Namespace) -> int:
    from edgetui.cli.output import print_json
    from edgetui.telemetry import parse_duration

    action = args.rule_command
    if action == "add":
        rule = store.add_rule(
            args.rule_name, args.metric, _OPERATORS[args.op], _threshold(args.threshold, args.metric),
            for_s=parse_duration(args.for_duration, option="--for", allow_zero=True), device=args.device,
            severity=args.severity, enabled=not args.disabled,
        )
        if args.json:
            print_json(rule)
        else:
            print(f"Added alert rule {rule['name']}: {rule['metric']} {rule['op']} {rule['threshold']:g} "
                  f"for {rule['for_s']:g} s on {rule['device'] or 'the fleet'} ({rule['severity']}).")
        return EXIT_OK
    if action == "remove":
        store.remove_rule(args.rule_name)
        print(f"Removed alert rule {args.rule_name}.")
        return EXIT_OK
    store.set_rule_enabled(args.rule_name, action == "enable")
    print(f"Alert rule {args.rule_name} {action}d.")
    return EXIT_OK


def _threshold(text: str, metric: str) -> float:
    """Parse --threshold: a number, or for error_rate a percentage such as "5%" (0.05).

    The store checks the range per metric; this only reads the number.
    """
    from edgetui.errors import InputError

    percent = text.strip().endswith("%")
    if percent and metric != "error_rate":
        raise InputError(f"--threshold {text!r}: only error_rate takes a percentage. "
                         f"Give {metric} in its own unit, without '%'.")
    try:
        value = float(text.strip().removesuffix("%"))
    except ValueError:
        raise InputError(f"--threshold {text!r} is not a number. Give a number such as 0.05 or 100.") from None
    return value / 100 if percent else value


def _run_export(fleet, store, args: argparse.Namespace) -> int:
    from edgetui.errors import InputError
    from edgetui.telemetry.export import atomic_text_file, check_output_path, write_samples

    since = _since_ts(args.since)
    # Checked before any sample is read, so a wrong path fails at once.
    output = None
    if args.output is not None:
        output = check_output_path(args.output, example=f"telemetry.{args.format}")
    names = list(dict.fromkeys(args.names)) or store.devices()
    for name in names:
        _require_device(fleet, store, name)

    # One device at a time, so only one device's samples are in memory.
    samples = (sample for name in names for sample in store.samples(name, since))
    if output is None:
        write_samples(sys.stdout, samples, args.format)
        return EXIT_OK
    try:
        with atomic_text_file(output) as out:
            count = write_samples(out, samples, args.format)
    except PermissionError as exc:
        raise InputError(f"Cannot write --output {args.output!r}: {exc.strerror}. "
                         "Choose a file in a folder you can write to.") from exc
    devices = "1 device" if len(names) == 1 else f"{len(names)} devices"
    print(f"Wrote {count} samples of {devices} to {output}.", file=sys.stderr)
    log.info("exported %d telemetry samples of %d devices to %s", count, len(names), output)
    return EXIT_OK
