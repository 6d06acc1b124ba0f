"""`edgetui demo`: a sample fleet, discovered and shown in the TUI, in one command.

The sample fleet runs as a child process, so the TUI's event loop stays free for
the screen. The child stops when the demo ends, however the demo ends.
"""

import logging
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from edgetui.errors import EdgetuiError, InputError
from edgetui.settings import data_dir

log = logging.getLogger("edgetui.demo")

# Eight boards that differ in the ways the console must handle: 64-bit and
# 32-bit ARM, x86 with AVX, RISC-V, MIPS without python3, a Docker host and
# three accelerators (NVIDIA GPUs on two Jetsons, a Coral Edge TPU).
DEMO_PROFILES = [
    "rpi4-aarch64",
    "jetson-nano-l4t32",
    "jetson-orin-jp6",
    "coral-edgetpu",
    "x86_64-nuc-ipc",
    "riscv-visionfive2-jh7110",
    "openwrt-busybox",
    "rpi3b-armv7-raspbian-docker",
]

START_TIMEOUT_S = 60.0


class DemoError(EdgetuiError):
    """The sample fleet for the demo could not be started."""

    title = "Demo failed to start"


def demo_profiles(count: int) -> list[Path]:
    """Return ``count`` bundled profile folders, as varied as the bundle allows."""
    import sample_fleet

    bundled = {profile.name: profile.path for profile in sample_fleet.list_profiles()}
    chosen = [bundled[name] for name in DEMO_PROFILES if name in bundled]
    chosen += [path for name, path in sorted(bundled.items()) if name not in DEMO_PROFILES]
    if not chosen:
        raise DemoError("No sample fleet profiles are installed; reinstall edgetui.")
    return chosen[:count]


def start_sample_fleet(state_dir: Path, count: int) -> subprocess.Popen:
    """Start `sample-fleet up` in a child process and wait until its inventory exists."""
    inventory = state_dir / "inventory.toml"
    state_dir.mkdir(parents=True, exist_ok=True)
    inventory.unlink(missing_ok=True)

    # The fleet stops when its stdin pipe closes, which happens however this
    # process ends: a quit, Ctrl-C, a closed terminal (SIGHUP) or even SIGKILL.
    command = [sys.executable, "-m", "sample_fleet", "up", "--devices", str(count)]
    command += ["--state-dir", str(state_dir), "--stop-on-stdin-eof"]
    for profile in demo_profiles(count):
        command += ["--profile", str(profile)]

    log_file = open(state_dir / "sample-fleet.log", "w", encoding="utf-8")  # noqa: SIM115
    log.info("starting the sample fleet: %s", " ".join(command))
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log_file.close()

    deadline = time.monotonic() + START_TIMEOUT_S
    while not inventory.exists():
        if process.poll() is not None:
            raise DemoError(
                f"The sample fleet exited with status {process.returncode} before it "
                f"listened. Its output is in {state_dir / 'sample-fleet.log'}."
            )
        if time.monotonic() > deadline:
            stop_sample_fleet(process)
            raise DemoError(
                f"The sample fleet did not write {inventory} within {START_TIMEOUT_S:.0f} s. "
                f"Its output is in {state_dir / 'sample-fleet.log'}."
            )
        time.sleep(0.1)
    return process


def stop_sample_fleet(process: subprocess.Popen) -> None:
    """Stop the sample fleet with SIGTERM, and SIGKILL its group if it does not exit."""
    if process.poll() is not None:
        return
    log.info("stopping the sample fleet (pid %d)", process.pid)
    if process.stdin is not None:
        process.stdin.close()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        log.warning("the sample fleet ignored SIGTERM; killing process group %d", process.pid)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def run_demo(devices: int, state_dir: Path | None, db_path: Path | None) -> int:
    """Start the sample fleet, import and discover it in a demo database, open the TUI."""
    if devices < 1:
        raise InputError(f"--devices must be at least 1, not {devices}.")

    from edgetui.cli.commands import demo_db_path, run_tui
    from edgetui.service import Fleet

    state_dir = (state_dir or data_dir() / "demo").expanduser().resolve()
    # The demo keeps its own database so it never mixes simulated devices
    # into the user's real fleet.
    db_path = (db_path or demo_db_path()).expanduser().resolve()

    print(f"Starting {devices} simulated devices in {state_dir} ...", file=sys.stderr)
    print(demo_locations(db_path, state_dir), file=sys.stderr)
    log.info("demo database %s, sample fleet state folder %s", db_path, state_dir)
    process = start_sample_fleet(state_dir, devices)
    try:
        fleet = Fleet.open(db_path)
        try:
            _replace_demo_devices(fleet, state_dir / "inventory.toml")
        finally:
            fleet.store.close()
        return run_tui(db_path, discover_on_start=True)
    finally:
        stop_sample_fleet(process)
        # The TUI has cleared the screen, so the locations are repeated for the user to copy.
        print(demo_locations(db_path, state_dir), file=sys.stderr)


def demo_locations(db_path: Path, state_dir: Path) -> str:
    """Return where the demo keeps its database and sample fleet, and a command that reads its telemetry."""
    device = DEMO_PROFILES[0]
    db_text = shlex.quote(str(db_path))
    return (
        f"Demo database: {db_path}\n"
        f"Sample fleet state folder: {state_dir}\n"
        f"Read the demo's telemetry from another shell, for example:\n"
        f"  edgetui --db {db_text} telemetry {device} --since 10m\n"
        f"  edgetui --db {db_text} alerts"
    )


def _replace_demo_devices(fleet, inventory: Path) -> None:
    """Import the fleet's inventory, dropping simulated devices of earlier demo runs."""
    import tomllib

    current = {entry["name"] for entry in tomllib.loads(inventory.read_text())["device"]}
    for device in fleet.devices():
        if device.name not in current and device.tags.get("simulated") == "true":
            fleet.store.remove_device(device.name)
    fleet.import_inventory(inventory)
