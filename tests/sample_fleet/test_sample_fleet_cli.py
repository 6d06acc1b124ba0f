"""`python -m sample_fleet`: argument errors, and a real foreground run stopped by SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys
import tomllib
from pathlib import Path

import pytest
from sample_fleet_helpers import connect, profile_path, wait_until_ended

from sample_fleet.cli import main

# Bounds for waiting on the child process, so a hang fails the test instead of blocking it.
_LINE_TIMEOUT_SECONDS = 60
_EXIT_TIMEOUT_SECONDS = 60


def test_devices_zero_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["up", "--devices", "0", "--state-dir", str(tmp_path / "state")])

    assert status == 2
    assert "invalid value 0" in capsys.readouterr().err
    assert not (tmp_path / "state").exists()


def test_profile_without_toml_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "not-a-profile"
    folder.mkdir()

    status = main(["up", "--devices", "1", "--state-dir", str(tmp_path / "state"), "--profile", str(folder)])

    error = capsys.readouterr().err
    assert status == 2
    assert str(folder) in error
    assert "missing profile.toml" in error


def test_list_prints_bundled_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["list"])

    assert status == 0
    assert "rpi4-aarch64" in capsys.readouterr().out


async def read_line(stream: asyncio.StreamReader) -> str:
    """Read one line of the child's stdout, failing when it does not come."""
    line = await asyncio.wait_for(stream.readline(), _LINE_TIMEOUT_SECONDS)
    assert line, "the fleet process closed its stdout early"
    return line.decode()


async def test_up_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    state = tmp_path / "state"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sample_fleet", "up", "--devices", "2", "--state-dir", str(state),
        "--profile", str(profile_path("rpi4-aarch64")), "--profile", str(profile_path("openwrt-busybox")),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        device_lines = [await read_line(child.stdout), await read_line(child.stdout)]
        inventory_line = await read_line(child.stdout)

        assert device_lines[0].split()[0] == "rpi4-aarch64"
        assert device_lines[1].split()[0] == "openwrt-busybox"
        assert inventory_line == f"inventory: {state / 'inventory.toml'}\n"
        entries = tomllib.loads((state / "inventory.toml").read_text())["device"]
        assert [entry["name"] for entry in entries] == ["rpi4-aarch64", "openwrt-busybox"]

        conn = await connect(entries[0])
        uname = await conn.run("uname -a", check=False)
        process = await conn.create_process("echo $$; sleep 300 & echo $!; wait")
        shell_pid = int(await process.stdout.readline())
        sleep_pid = int(await process.stdout.readline())

        child.send_signal(signal.SIGTERM)
        status = await asyncio.wait_for(child.wait(), _EXIT_TIMEOUT_SECONDS)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()

    assert uname.stdout == (profile_path("rpi4-aarch64") / "commands" / "uname -a").read_text()
    assert status == 0
    assert await wait_until_ended(shell_pid)
    assert await wait_until_ended(sleep_pid)
    conn.close()
