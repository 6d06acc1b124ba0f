"""Fault switches of the sample fleet: faults.json, the `fault` command and their effect on real clients."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import asyncssh
import pytest
from sample_fleet_helpers import connect, profile_path, read_inventory

from sample_fleet import SampleFleet
from sample_fleet.cli import main
from sample_fleet.faults import (
    FAULTS_FILE,
    DeviceFaults,
    FaultFileError,
    Faults,
    TokenBucket,
    read_faults,
    update_faults,
)

DEVICE = "rpi4-aarch64"
MEGABYTE = 1024 * 1024
# Bounds for waiting on commands and child processes, so a hang fails the test instead of blocking it.
_COMMAND_TIMEOUT_SECONDS = 20
_EXIT_TIMEOUT_SECONDS = 30
# Appends a journal line as the shim's activate does first, then runs until killed.
ACTIVATION_COMMAND = "mkdir -p .edgetui && echo '{}' >> .edgetui/journal.jsonl && exec sleep 30 # activate"


@pytest.fixture
async def fleet(tmp_path: Path) -> AsyncIterator[SampleFleet]:
    """Run one rpi4-aarch64 device in this process; it replaces conftest's four-device fleet here."""
    async with SampleFleet(tmp_path / "state", devices=1, profiles=[profile_path(DEVICE)]) as running:
        yield running


def set_fault(fleet: SampleFleet, *options: str) -> int:
    """Run `sample-fleet fault` in this process for the test device and return its exit status."""
    return main(["fault", "--state-dir", str(fleet.state_dir), DEVICE, *options])


async def upload(entry: dict, path: str, data: bytes) -> None:
    """Write `data` to `path` on the device over a new SFTP session."""
    async with await connect(entry) as conn, conn.start_sftp_client() as sftp:
        await sftp.makedirs(str(Path(path).parent), exist_ok=True)
        async with sftp.open(path, "wb") as remote:
            await remote.write(data)


async def run(entry: dict, command: str, **kwargs) -> asyncssh.SSHCompletedProcess:
    """Run one command on the device over a new connection, failing when it hangs."""
    async with await connect(entry) as conn:
        return await asyncio.wait_for(conn.run(command, check=False, **kwargs), _COMMAND_TIMEOUT_SECONDS)


# The token bucket, with a fake clock.


class FakeClock:
    """A monotonic clock that moves only when the test advances it."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_without_rate_never_delays() -> None:
    bucket = TokenBucket(FakeClock())

    assert bucket.reserve(10 * MEGABYTE) == 0.0


def test_token_bucket_delays_beyond_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(clock)
    bucket.set_rate(1000.0)

    # A full bucket contains 0.1 s of the rate: 100 bytes.
    assert bucket.reserve(100) == 0.0
    assert bucket.reserve(500) == pytest.approx(0.5)
    assert bucket.reserve(1000) == pytest.approx(1.5)


def test_token_bucket_refills_with_time() -> None:
    clock = FakeClock()
    bucket = TokenBucket(clock)
    bucket.set_rate(1000.0)
    bucket.reserve(600)

    clock.now += 0.5

    assert bucket.reserve(0) == 0.0
    assert bucket.reserve(100) == pytest.approx(0.1)


def test_token_bucket_caps_idle_credit() -> None:
    clock = FakeClock()
    bucket = TokenBucket(clock)
    bucket.set_rate(1000.0)

    clock.now += 60
    delay = bucket.reserve(1100)

    assert delay == pytest.approx(1.0)


def test_token_bucket_rate_removed() -> None:
    bucket = TokenBucket(FakeClock())
    bucket.set_rate(1000.0)
    bucket.reserve(5000)

    bucket.set_rate(None)

    assert bucket.reserve(5000) == 0.0


# faults.json


def test_faults_file_round_trips(tmp_path: Path) -> None:
    faults = Faults(cut_after_bytes=5, kill_on_activate=True, kill_after_ms=300, disk_full=True, slow_link_kbps=2.5)

    update_faults(tmp_path, lambda current: faults)

    assert read_faults(tmp_path) == faults
    assert json.loads((tmp_path / FAULTS_FILE).read_text())["slow_link_kbps"] == 2.5


def test_faults_file_removed_when_empty(tmp_path: Path) -> None:
    update_faults(tmp_path, lambda current: Faults(disk_full=True))

    update_faults(tmp_path, lambda current: Faults())

    assert not (tmp_path / FAULTS_FILE).exists()
    assert read_faults(tmp_path) == Faults()


@pytest.mark.parametrize(
    "text",
    ['{"cut_after_bytes": -1}', '{"disk_full": "yes"}', '{"slow_link_kbps": 0}', '{"speed": 1}', "[]", "{"],
)
def test_faults_file_invalid_rejected(tmp_path: Path, text: str) -> None:
    (tmp_path / FAULTS_FILE).write_text(text)

    with pytest.raises(FaultFileError):
        read_faults(tmp_path)


def test_one_shot_claimed_once(tmp_path: Path) -> None:
    update_faults(tmp_path, lambda current: Faults(cut_after_bytes=10, disk_full=True))
    faults = DeviceFaults("device", tmp_path)

    first = faults.claim("cut_after_bytes")
    second = faults.claim("cut_after_bytes")

    assert first is True
    assert second is False
    assert read_faults(tmp_path) == Faults(disk_full=True)


# The `fault` command in this process.


def test_fault_unknown_device_exits_2(fleet: SampleFleet, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["fault", "--state-dir", str(fleet.state_dir), "no-such-device", "--disk-full"])

    error = capsys.readouterr().err
    assert status == 2
    assert "no-such-device" in error
    assert DEVICE in error
    assert not (fleet.state_dir / "no-such-device").exists()


def test_fault_without_inventory_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["fault", "--state-dir", str(tmp_path), DEVICE, "--disk-full"])

    assert status == 2
    assert "inventory.toml" in capsys.readouterr().err


def test_fault_kill_after_ms_needs_kill(fleet: SampleFleet, capsys: pytest.CaptureFixture[str]) -> None:
    status = set_fault(fleet, "--kill-after-ms", "100")

    assert status == 2
    assert "--kill-on-activate" in capsys.readouterr().err
    assert read_faults(fleet.devices[0].directory) == Faults()


def test_fault_options_combine(fleet: SampleFleet, capsys: pytest.CaptureFixture[str]) -> None:
    set_fault(fleet, "--disk-full")
    status = set_fault(fleet, "--slow-link", "50", "--cut-after-bytes", "7")

    assert status == 0
    assert read_faults(fleet.devices[0].directory) == Faults(cut_after_bytes=7, disk_full=True, slow_link_kbps=50.0)
    printed = capsys.readouterr().out.splitlines()[-1]
    assert printed == f"{DEVICE}: cut-after-bytes 7 (one-shot), disk-full, slow-link 50 KB/s"


def test_fault_clear_replaces_invalid_file(fleet: SampleFleet, capsys: pytest.CaptureFixture[str]) -> None:
    (fleet.devices[0].directory / FAULTS_FILE).write_text("{")

    rejected = set_fault(fleet, "--disk-full")
    cleared = set_fault(fleet, "--clear", "--disk-full")

    assert rejected == 1
    assert "--clear" in capsys.readouterr().err
    assert cleared == 0
    assert read_faults(fleet.devices[0].directory) == Faults(disk_full=True)


# Effects on a running fleet, with real asyncssh clients.


async def test_cut_after_bytes_drops_connection_once(fleet: SampleFleet) -> None:
    entry = read_inventory(fleet)[DEVICE]
    home = fleet.devices[0].home
    data = os.urandom(MEGABYTE)
    set_fault(fleet, "--cut-after-bytes", "100000")

    with pytest.raises((asyncssh.ConnectionLost, asyncssh.SFTPConnectionLost)):
        await asyncio.wait_for(upload(entry, ".edgetui/artifacts/a.part", data), _COMMAND_TIMEOUT_SECONDS)
    partial = (home / ".edgetui/artifacts/a.part").read_bytes()
    await upload(entry, ".edgetui/artifacts/b.part", data)

    assert 100_000 <= len(partial) < MEGABYTE
    assert partial == data[: len(partial)]
    assert (home / ".edgetui/artifacts/b.part").read_bytes() == data
    assert read_faults(fleet.devices[0].directory) == Faults()


async def test_cut_waits_for_large_enough_transfer(fleet: SampleFleet) -> None:
    entry = read_inventory(fleet)[DEVICE]
    set_fault(fleet, "--cut-after-bytes", "100000")

    # A transfer shorter than the cut leaves the one-shot switch set for the next one.
    await upload(entry, "small", b"x" * 1000)

    assert (fleet.devices[0].home / "small").read_bytes() == b"x" * 1000
    assert read_faults(fleet.devices[0].directory) == Faults(cut_after_bytes=100000)


async def test_disk_full_rejects_writes(fleet: SampleFleet) -> None:
    entry = read_inventory(fleet)[DEVICE]
    set_fault(fleet, "--disk-full")

    with pytest.raises(asyncssh.SFTPError) as error:
        await upload(entry, ".edgetui/artifacts/a.part", b"model bytes")
    free = await run(entry, "echo $EDGETUI_SHIM_FAKE_FREE_MB")

    assert "No space left on device" in error.value.reason
    assert free.stdout == "0\n"


async def test_clear_restores_disk(fleet: SampleFleet) -> None:
    entry = read_inventory(fleet)[DEVICE]
    set_fault(fleet, "--disk-full")
    set_fault(fleet, "--clear")

    await upload(entry, ".edgetui/artifacts/a.part", b"model bytes")
    free = await run(entry, "echo \"[$EDGETUI_SHIM_FAKE_FREE_MB]\"")

    assert (fleet.devices[0].home / ".edgetui/artifacts/a.part").read_bytes() == b"model bytes"
    assert free.stdout == "[]\n"
    assert not (fleet.devices[0].directory / FAULTS_FILE).exists()


async def test_kill_on_activate_at_journal_line(fleet: SampleFleet) -> None:
    entry = read_inventory(fleet)[DEVICE]
    set_fault(fleet, "--kill-on-activate")

    killed = await run(entry, ACTIVATION_COMMAND)
    # The journal grows here too, so only a cleared switch lets this one finish.
    next_one = await run(entry, "echo '{}' >> .edgetui/journal.jsonl; sleep 0.3; echo done # activate")

    assert killed.exit_signal is not None
    assert killed.exit_signal[0] == "KILL"
    assert next_one.exit_status == 0
    assert next_one.stdout == "done\n"


async def test_kill_on_activate_ignores_other_commands(fleet: SampleFleet) -> None:
    entry = read_inventory(fleet)[DEVICE]
    set_fault(fleet, "--kill-on-activate")

    other = await run(entry, "mkdir -p .edgetui; echo '{}' >> .edgetui/journal.jsonl; sleep 0.3; echo status")

    assert other.exit_status == 0
    assert read_faults(fleet.devices[0].directory) == Faults(kill_on_activate=True)


async def test_kill_on_activate_after_delay(fleet: SampleFleet) -> None:
    entry = read_inventory(fleet)[DEVICE]
    set_fault(fleet, "--kill-on-activate", "--kill-after-ms", "100")

    killed = await run(entry, "exec sleep 30 # activate")

    assert killed.exit_signal is not None
    assert killed.exit_signal[0] == "KILL"
    assert read_faults(fleet.devices[0].directory) == Faults()


async def test_slow_link_upload_intact(fleet: SampleFleet) -> None:
    entry = read_inventory(fleet)[DEVICE]
    uplink = fleet.devices[0].faults.uplink
    consumed: list[int] = []
    original_consume = uplink.consume

    async def record(size: int) -> None:
        consumed.append(size)
        await original_consume(size)

    uplink.consume = record
    data = os.urandom(256 * 1024)
    set_fault(fleet, "--slow-link", "4000")

    await upload(entry, "upload", data)
    echoed = await run(entry, "cat", input=data[:65536], encoding=None)

    assert uplink.rate == 4_000_000
    assert (fleet.devices[0].home / "upload").read_bytes() == data
    assert echoed.stdout == data[:65536]
    # Every byte from the client passed the bucket: the SFTP writes and the stdin copy.
    assert sum(consumed) == len(data) + 65536


async def test_invalid_faults_file_ignored(fleet: SampleFleet) -> None:
    entry = read_inventory(fleet)[DEVICE]
    (fleet.devices[0].directory / FAULTS_FILE).write_text('{"disk_full": "yes"}')

    result = await run(entry, "echo \"[$EDGETUI_SHIM_FAKE_FREE_MB]\"")

    assert result.stdout == "[]\n"


# The `fault` command against a fleet in another process.


async def read_line(stream: asyncio.StreamReader) -> str:
    """Read one line of the child's stdout, failing when it does not come."""
    line = await asyncio.wait_for(stream.readline(), _EXIT_TIMEOUT_SECONDS)
    assert line, "the fleet process closed its stdout early"
    return line.decode()


async def run_cli(*args: str) -> tuple[int, str, str]:
    """Run `python -m sample_fleet ARGS` and return its exit status, stdout and stderr."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sample_fleet", *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(child.communicate(), _EXIT_TIMEOUT_SECONDS)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    return child.returncode, stdout.decode(), stderr.decode()


async def test_fault_cli_changes_running_fleet(tmp_path: Path) -> None:
    state = tmp_path / "state"
    fleet_process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sample_fleet", "up", "--devices", "1", "--state-dir", str(state),
        "--profile", str(profile_path(DEVICE)), "--stop-on-stdin-eof",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await read_line(fleet_process.stdout)
        await read_line(fleet_process.stdout)
        entry = read_inventory_file(state / "inventory.toml")[DEVICE]

        set_status, set_output, _ = await run_cli("fault", "--state-dir", str(state), DEVICE, "--disk-full")
        with pytest.raises(asyncssh.SFTPError):
            await upload(entry, "a.part", b"data")
        full = await run(entry, "echo $EDGETUI_SHIM_FAKE_FREE_MB")
        clear_status, clear_output, _ = await run_cli("fault", "--state-dir", str(state), DEVICE, "--clear")
        await upload(entry, "a.part", b"data")
        unknown_status, _, unknown_error = await run_cli("fault", "--state-dir", str(state), "nope", "--clear")

        fleet_process.send_signal(signal.SIGTERM)
        fleet_status = await asyncio.wait_for(fleet_process.wait(), _EXIT_TIMEOUT_SECONDS)
    finally:
        if fleet_process.returncode is None:
            fleet_process.kill()
            await fleet_process.wait()

    assert set_status == 0
    assert set_output == f"{DEVICE}: disk-full\n"
    assert full.stdout == "0\n"
    assert clear_status == 0
    assert clear_output == f"{DEVICE}: no faults\n"
    assert (state / DEVICE / "home" / "a.part").read_bytes() == b"data"
    assert unknown_status == 2
    assert "'nope'" in unknown_error
    assert fleet_status == 0


def read_inventory_file(path: Path) -> dict[str, dict]:
    """Parse an inventory.toml and return its entries by device name."""
    return {entry["name"]: entry for entry in tomllib.loads(path.read_text())["device"]}
