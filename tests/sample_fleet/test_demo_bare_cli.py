"""`sample-fleet up --bare` and the Python API's default: SSH servers only, no demo release or model server."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from sample_fleet_helpers import profile_path

from sample_fleet import SampleFleet
from sample_fleet.cli import build_parser
from sample_fleet.demo_release import DEMO_DIR

PROFILE = "rpi4-aarch64"
_LINE_TIMEOUT_S = 60
# How long the bare fleet runs before the check; a demo would create DIR/demo within a second.
_OBSERVE_S = 3


def test_up_options_default_to_demo() -> None:
    args = build_parser().parse_args(["up", "--devices", "1", "--state-dir", "x"])

    assert args.bare is False
    assert args.traffic_rate == 2.0


async def test_api_default_is_bare(tmp_path: Path) -> None:
    async with SampleFleet(tmp_path / "state", devices=1, profiles=[profile_path(PROFILE)]) as fleet:
        assert fleet.demo is None
        await asyncio.sleep(_OBSERVE_S)

    assert not (tmp_path / "state" / DEMO_DIR).exists()


async def test_up_bare_starts_no_server(tmp_path: Path) -> None:
    state = tmp_path / "state"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sample_fleet", "up", "--bare", "--devices", "1", "--state-dir", str(state),
        "--profile", str(profile_path(PROFILE)),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        for _ in range(3):
            line = await asyncio.wait_for(child.stdout.readline(), _LINE_TIMEOUT_S)
            assert line, "the fleet process closed its stdout early"
        await asyncio.sleep(_OBSERVE_S)
        demo_exists = (state / DEMO_DIR).exists()
        serve_files = list(state.glob("*/home/.edgetui/serve.pid"))
        child.send_signal(signal.SIGTERM)
        status = await asyncio.wait_for(child.wait(), _LINE_TIMEOUT_S)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()

    assert status == 0
    assert not demo_exists
    assert serve_files == []
