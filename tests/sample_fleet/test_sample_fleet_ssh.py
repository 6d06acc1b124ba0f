"""Real asyncssh clients against a real in-process sample fleet."""

from __future__ import annotations

import asyncio
import os
import stat
import sys
from pathlib import Path

import asyncssh
import pytest
from sample_fleet_helpers import connect, profile_path, read_inventory, wait_until_ended

from sample_fleet import SampleFleet

RPI4_UNAME = (profile_path("rpi4-aarch64") / "commands" / "uname -a").read_bytes()


async def run(fleet: SampleFleet, device: str, command: str, **kwargs) -> asyncssh.SSHCompletedProcess:
    """Run one command on a device over a new connection, with bytes in and out."""
    async with await connect(read_inventory(fleet)[device]) as conn:
        return await conn.run(command, encoding=None, check=False, **kwargs)


async def test_inventory_lists_every_device(fleet: SampleFleet) -> None:
    inventory = read_inventory(fleet)

    assert sorted(inventory) == sorted(device.name for device in fleet.devices)
    for device in fleet.devices:
        entry = inventory[device.name]
        assert entry["host"] == "127.0.0.1"
        assert entry["port"] == device.port
        assert entry["port"] > 0
        assert entry["user"] == "edge"
        assert Path(entry["key_file"]).is_file()
        assert entry["host_key"].startswith("ssh-ed25519 ")
        assert entry["tags"] == {"profile": device.profile.name, "simulated": "true"}
    assert [path.name for path in fleet.state_dir.iterdir() if path.name.endswith(".tmp")] == []


async def test_key_files_are_private_ed25519(fleet: SampleFleet) -> None:
    for device in fleet.devices:
        for key_path in (device.client_key_path, device.host_key_path):
            assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
            key = asyncssh.read_private_key(key_path)
            assert key.get_algorithm() == "ssh-ed25519"
        public_line = device.client_key_path.with_name("client_key.pub").read_text()
        assert public_line.startswith("ssh-ed25519 ")


async def test_client_with_inventory_key_connects(fleet: SampleFleet) -> None:
    result = await run(fleet, "rpi4-aarch64", "echo connected")

    assert result.exit_status == 0
    assert result.stdout == b"connected\n"


async def test_unknown_client_key_rejected(fleet: SampleFleet) -> None:
    entry = read_inventory(fleet)["rpi4-aarch64"]
    other_key = asyncssh.generate_private_key("ssh-ed25519")

    with pytest.raises(asyncssh.PermissionDenied):
        await connect(entry, client_key=other_key)


async def test_other_device_key_rejected(fleet: SampleFleet) -> None:
    inventory = read_inventory(fleet)

    with pytest.raises(asyncssh.PermissionDenied):
        await connect(inventory["rpi4-aarch64"], client_key=inventory["coral-edgetpu"]["key_file"])


async def test_wrong_user_rejected(fleet: SampleFleet) -> None:
    entry = read_inventory(fleet)["rpi4-aarch64"]

    with pytest.raises(asyncssh.PermissionDenied):
        await connect(entry, username="root")


async def test_uname_a_prints_capture(fleet: SampleFleet) -> None:
    result = await run(fleet, "rpi4-aarch64", "uname -a")

    assert result.exit_status == 0
    assert result.stdout == RPI4_UNAME
    assert result.stderr == b""


async def test_uncaptured_option_exits_1(fleet: SampleFleet) -> None:
    result = await run(fleet, "rpi4-aarch64", "uname -m")

    assert result.exit_status == 1
    assert result.stdout == b""
    assert result.stderr == b"uname: unrecognized option\n"


async def test_uncaptured_program_not_found(fleet: SampleFleet) -> None:
    # The host has lsusb or uname perhaps, but a device only has what its profile captured.
    lsusb = await run(fleet, "rpi4-aarch64", "lsusb")
    uname = await run(fleet, "openwrt-busybox", "uname -a")

    assert lsusb.exit_status == 127
    assert uname.exit_status == 127


async def test_lsusb_prints_capture(fleet: SampleFleet) -> None:
    capture = (profile_path("coral-edgetpu") / "commands" / "lsusb").read_bytes()

    result = await run(fleet, "coral-edgetpu", "lsusb")

    assert result.exit_status == 0
    assert result.stdout == capture


async def test_captured_free_replaces_host_free(fleet: SampleFleet) -> None:
    commands = profile_path("openwrt-busybox-homeware") / "commands"

    free_m = await run(fleet, "openwrt-busybox-homeware", "free -m")
    free = await run(fleet, "openwrt-busybox-homeware", "free")
    df_h = await run(fleet, "openwrt-busybox-homeware", "df -h")

    assert free_m.stdout == (commands / "free -m").read_bytes()
    assert free.exit_status == 1
    assert free.stderr == b"free: unrecognized option\n"
    assert df_h.stdout == (commands / "df -h").read_bytes()


async def test_session_environment(fleet: SampleFleet) -> None:
    device = next(device for device in fleet.devices if device.name == "rpi4-aarch64")

    result = await run(fleet, "rpi4-aarch64", "env; echo cwd=$(pwd)")

    lines = result.stdout.decode().splitlines()
    environment = dict(line.split("=", 1) for line in lines if not line.startswith("cwd="))
    assert environment["HOME"] == str(device.home)
    assert environment["EDGETUI_SHIM_ROOT"] == str(profile_path("rpi4-aarch64").resolve() / "root")
    assert environment["PATH"] == str(device.bin_dir)
    assert environment["USER"] == "edge"
    assert environment["LOGNAME"] == "edge"
    assert environment["SHELL"] == "/bin/sh"
    assert environment["LANG"] == "C.UTF-8"
    # sh itself may add PWD; nothing else of the host's environment may leak in.
    assert set(environment) - {"PWD"} == {"HOME", "EDGETUI_SHIM_ROOT", "PATH", "USER", "LOGNAME", "SHELL", "LANG"}
    assert f"cwd={device.home}" in lines


async def test_python3_runs_console_interpreter(fleet: SampleFleet) -> None:
    result = await run(fleet, "rpi4-aarch64", 'python3 -c "import sys; print(sys.prefix)"')

    assert result.exit_status == 0
    assert result.stdout.decode().strip() == sys.prefix


async def test_python_false_profile_has_no_python3(fleet: SampleFleet) -> None:
    result = await run(fleet, "openwrt-busybox", "python3 -c 'print(1)'")
    lookup = await run(fleet, "openwrt-busybox", "command -v python3")

    assert result.exit_status == 127
    assert lookup.exit_status != 0


async def test_concurrent_sessions_complete_output(fleet: SampleFleet) -> None:
    # 2000 numbered lines per session, so a lost or truncated stream shows.
    command = 'i=0; while [ $i -lt 2000 ]; do echo "line $i"; i=$((i+1)); done'
    expected = "".join(f"line {i}\n" for i in range(2000)).encode()
    entry = read_inventory(fleet)["rpi4-aarch64"]

    async with await connect(entry) as conn:
        results = await asyncio.gather(*(conn.run(command, encoding=None, check=False) for _ in range(20)))

    assert [result.exit_status for result in results] == [0] * 20
    for result in results:
        assert result.stdout == expected


async def test_large_stdin_round_trips(fleet: SampleFleet) -> None:
    data = os.urandom(1024 * 1024)

    result = await run(fleet, "rpi4-aarch64", "cat", input=data)

    assert result.exit_status == 0
    assert len(result.stdout) == len(data)
    assert result.stdout == data


async def test_stdin_eof_reaches_command(fleet: SampleFleet) -> None:
    result = await run(fleet, "rpi4-aarch64", "wc -c", input=b"abcde")

    assert result.exit_status == 0
    assert result.stdout.strip() == b"5"


async def test_exit_status_and_stderr(fleet: SampleFleet) -> None:
    result = await run(fleet, "rpi4-aarch64", "echo out; echo err >&2; exit 3")

    assert result.exit_status == 3
    assert result.stdout == b"out\n"
    assert result.stderr == b"err\n"


async def test_killed_command_sends_exit_signal(fleet: SampleFleet) -> None:
    result = await run(fleet, "rpi4-aarch64", "kill -TERM $$")

    assert result.exit_signal is not None
    assert result.exit_signal[0] == "TERM"


async def test_client_signal_reaches_command(fleet: SampleFleet) -> None:
    entry = read_inventory(fleet)["rpi4-aarch64"]

    async with await connect(entry) as conn:
        process = await conn.create_process("echo started; exec sleep 300")
        assert await process.stdout.readline() == "started\n"
        process.send_signal("TERM")
        result = await process.wait()

    assert result.exit_signal is not None
    assert result.exit_signal[0] == "TERM"


async def test_sftp_upload_lands_in_home(fleet: SampleFleet) -> None:
    device = next(device for device in fleet.devices if device.name == "rpi4-aarch64")
    entry = read_inventory(fleet)["rpi4-aarch64"]

    async with await connect(entry) as conn, conn.start_sftp_client() as sftp:
        await sftp.makedirs(".edgetui", exist_ok=True)
        async with sftp.open(".edgetui/x", "wb") as remote:
            await remote.write(b"uploaded\n")

    assert (device.home / ".edgetui" / "x").read_bytes() == b"uploaded\n"


async def test_channel_close_kills_command(fleet: SampleFleet) -> None:
    entry = read_inventory(fleet)["rpi4-aarch64"]

    async with await connect(entry) as conn:
        process = await conn.create_process("echo $$; exec sleep 300")
        pid = int(await process.stdout.readline())
        process.close()
        await process.wait_closed()

        assert await wait_until_ended(pid)


async def test_stop_kills_running_sessions(tmp_path: Path) -> None:
    fleet = SampleFleet(tmp_path / "state", devices=1, profiles=[profile_path("rpi4-aarch64")])
    await fleet.start()
    try:
        conn = await connect(read_inventory(fleet)["rpi4-aarch64"])
        process = await conn.create_process("echo $$; sleep 300 & echo $!; wait")
        shell_pid = int(await process.stdout.readline())
        sleep_pid = int(await process.stdout.readline())
    finally:
        await fleet.stop()

    assert await wait_until_ended(shell_pid)
    assert await wait_until_ended(sleep_pid)
    conn.close()
