"""The headless commands: each opens the fleet, acts, prints, and returns an exit status."""

import argparse
import asyncio
import sys
from pathlib import Path

from edgetui.cli.output import (
    device_row,
    discovery_row,
    error_console,
    fleet_table,
    print_json,
)
from edgetui.domain import DeviceStatus, DiscoveryUpdate
from edgetui.errors import InputError
from edgetui.service import Fleet
from edgetui.settings import Settings, data_dir

EXIT_OK = 0
EXIT_DEVICE_FAILED = 1


def fleet_import(db_path: Path, file: Path, *, as_json: bool) -> int:
    """Import an inventory file into the fleet database."""
    store_fleet = Fleet.open(db_path)
    try:
        summary = store_fleet.import_inventory(file)
    finally:
        store_fleet.store.close()

    if as_json:
        print_json(summary.as_dict())
    else:
        print(
            f"Imported {file} ({summary.source_format}): {len(summary.added)} added, "
            f"{len(summary.updated)} updated, {summary.host_keys} host keys recorded."
        )
    return EXIT_OK


def demo_db_path() -> Path:
    """Return the database that `edgetui demo` uses when --db is not given."""
    return data_dir() / "demo.db"


def require_database(db_path: Path) -> None:
    """Raise an error naming ``db_path`` when it does not exist.

    Commands that only read or act on devices must not create an empty
    database, because a mistyped --db would then look like an empty fleet.
    """
    if db_path.exists():
        return
    message = (f"No fleet database at {db_path}. Check --db or EDGETUI_DB, or create the "
               "fleet with `edgetui fleet import FILE`.")
    # `edgetui demo` keeps its devices and telemetry in a database of its own,
    # so after a demo this error is the first thing a newcomer meets.
    demo_db = demo_db_path()
    if demo_db.exists() and demo_db.resolve() != db_path.resolve():
        message += f" The demo's database is {demo_db}: read it with --db {demo_db}."
    raise InputError(message)


def fleet_list(db_path: Path, *, as_json: bool) -> int:
    """Print every device with its status and latest facts."""
    require_database(db_path)
    fleet = Fleet.open(db_path)
    try:
        rows = [(device, fleet.latest_facts(device.name)) for device in fleet.devices()]
    finally:
        fleet.store.close()

    if as_json:
        print_json([device_row(device, facts) for device, facts in rows])
    elif not rows:
        print("The fleet has no devices. Import an inventory: edgetui fleet import FILE")
    else:
        from rich.console import Console

        Console().print(fleet_table(rows))
    return EXIT_OK


async def discover(db_path: Path, args: argparse.Namespace) -> int:
    """Discover devices in parallel, with progress on stderr, and print the results."""
    if args.max_connections < 1:
        raise InputError(f"--max-connections must be at least 1, not {args.max_connections}.")
    if args.connect_timeout <= 0:
        raise InputError(f"--connect-timeout must be positive, not {args.connect_timeout}.")
    require_database(db_path)

    fleet = Fleet.open(
        db_path,
        accept_new_host_keys=args.accept_new_host_keys,
        max_connections=args.max_connections,
        connect_timeout=args.connect_timeout,
    )
    try:
        devices = fleet.select(args.names)
        progress = _Progress(len(devices))
        results = await fleet.discover(args.names, on_update=progress.update)
    finally:
        await fleet.aclose()

    if args.json:
        print_json([discovery_row(result) for result in results])
    else:
        _print_discovery_summary(results)

    return EXIT_OK if all(result.ok for result in results) else EXIT_DEVICE_FAILED


class _Progress:
    """Print one stderr line per finished device, with a running count."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.console = error_console()

    def update(self, update: DiscoveryUpdate) -> None:
        """Report a device that finished; starts are not printed to keep the log short."""
        if update.status == DeviceStatus.DISCOVERING:
            return
        self.done += 1
        width = len(str(self.total))
        line = f"[{self.done:>{width}}/{self.total}] {update.name}: {update.status.value}"
        if update.reason:
            line += f" ({update.reason})"
        self.console.print(line, markup=False)


def _print_discovery_summary(results) -> None:
    """Print one line per device for people."""
    for result in results:
        if not result.ok:
            print(f"{result.name}: FAILED: {result.error}")
            continue
        facts = result.facts
        accelerators = ", ".join(f"{a.vendor} {a.kind}" for a in facts.accelerators) or "none"
        cores = f"{facts.cpu_cores} cores" if facts.cpu_cores else "cores unknown"
        print(
            f"{result.name}: {facts.board or 'board unknown'}, {facts.arch or 'arch unknown'}, "
            f"{cores}, accelerators: {accelerators}"
        )
    failed = sum(1 for result in results if not result.ok)
    print(f"{len(results) - failed} of {len(results)} devices discovered.", file=sys.stderr)


def run_tui(db_path: Path, *, discover_on_start: bool) -> int:
    """Open the TUI on the fleet database; return when the user quits."""
    from edgetui.tui.app import create_app

    settings = Settings.load()
    fleet = Fleet.open(
        db_path,
        max_connections=settings.max_connections,
        connect_timeout=settings.connect_timeout,
    )
    app = create_app(
        fleet, settings, discover_on_start=discover_on_start, collect_telemetry=settings.collect_telemetry
    )
    asyncio.run(_run_app(app, fleet))
    return app.return_code or EXIT_OK


async def _run_app(app, fleet: Fleet) -> None:
    """Run the app, then close its SSH connections on the same event loop they live on."""
    try:
        await app.run_async()
    finally:
        await fleet.aclose()
