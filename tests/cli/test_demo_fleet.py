"""The demo's sample fleet process: started, imported, and always stopped."""

import os
import signal
import subprocess
import sys
import textwrap
import time

from edgetui.cli.demo import (
    DEMO_PROFILES,
    demo_locations,
    demo_profiles,
    start_sample_fleet,
    stop_sample_fleet,
)
from edgetui.inventory import load_inventory


def wait_for_exit(pid: int, attempts: int = 300) -> bool:
    """Poll until ``pid`` is gone or a zombie; give up after ``attempts`` tenths of a second."""
    for _ in range(attempts):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().split(")")[-1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.1)
    return False


def test_demo_profiles_are_bundled_and_distinct():
    paths = demo_profiles(len(DEMO_PROFILES))

    assert [path.name for path in paths] == DEMO_PROFILES
    assert len(set(paths)) == len(paths)


def test_demo_locations_give_ready_command(tmp_path):
    db_path = tmp_path / "data dir" / "demo.db"
    state_dir = tmp_path / "demo"

    text = demo_locations(db_path, state_dir)

    assert f"Demo database: {db_path}" in text
    assert f"Sample fleet state folder: {state_dir}" in text
    # The path has a space, so the command quotes it to stay ready to paste.
    assert f"edgetui --db '{db_path}' telemetry rpi4-aarch64 --since 10m" in text


def test_start_writes_inventory_and_stop_ends_process(tmp_path):
    process = start_sample_fleet(tmp_path, 2)
    try:
        inventory = load_inventory(tmp_path / "inventory.toml")
        assert len(inventory.devices) == 2
        assert len(inventory.host_keys) == 2
    finally:
        stop_sample_fleet(process)

    assert process.returncode == 0


def test_fleet_stops_when_demo_process_is_killed(tmp_path):
    # A child Python plays the demo: it starts the fleet, prints its pid, then
    # is killed with SIGKILL, so no cleanup code of it can run.
    script = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from edgetui.cli.demo import start_sample_fleet
        process = start_sample_fleet(Path({str(tmp_path)!r}), 1)
        print(process.pid, flush=True)
        time.sleep(120)
        """
    )
    demo = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    fleet_pid = int(demo.stdout.readline())

    os.kill(demo.pid, signal.SIGKILL)
    demo.wait()

    stopped = wait_for_exit(fleet_pid)
    if not stopped:
        os.kill(fleet_pid, signal.SIGKILL)
    assert stopped, f"sample fleet {fleet_pid} kept running after the demo was killed"
