"""Recorded-stream mode: a recording made from a real shim's stream, replayed by the fleet over SSH."""

from __future__ import annotations

import asyncio
import json
import shlex
from pathlib import Path

import pytest
from sample_fleet_helpers import connect, profile_path, read_inventory

from edgetui.shim_bundle import build_shim_bundle
from edgetui.shim_client import launch_line
from sample_fleet import SampleFleet
from sample_fleet.record import record_stream
from sample_fleet.recorded import Recording, RecordingError, stream_arguments
from sample_fleet.serve_processes import serve_pid

PROFILE = "rpi4-aarch64"
# Bound of every read of one stream line; samples come once a second.
LINE_TIMEOUT_S = 30


def stream_command(*arguments: str) -> str:
    """Return the console's launch line for the shim's stream with `arguments`."""
    return launch_line(build_shim_bundle().sha256, "stream") + " " + shlex.join(arguments)


async def read_json(process) -> dict:
    line = await asyncio.wait_for(process.stdout.readline(), LINE_TIMEOUT_S)
    assert line, "the stream ended early"
    return json.loads(line)


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Record 3 s of a real shim's stream on a bare one-device fleet."""
    folder = tmp_path_factory.mktemp("recording")
    output = folder / "recording.jsonl"

    async def record() -> None:
        async with SampleFleet(folder / "state", devices=1, profiles=[profile_path(PROFILE)]) as fleet:
            await record_stream(fleet.devices[0], 3, output)
            # The stream started a server for the recording, and record stops it again.
            assert serve_pid(fleet.devices[0]) is None

    asyncio.run(record())
    return output


def test_stream_arguments_of_launch_line() -> None:
    assert stream_arguments(stream_command("--after", "7", "--stream", "ab")) == ["--after", "7", "--stream", "ab"]
    assert stream_arguments(launch_line(build_shim_bundle().sha256, "stream")) == []
    assert stream_arguments(launch_line(build_shim_bundle().sha256, "status")) is None
    assert stream_arguments(None) is None


def test_recording_holds_real_samples(recording: Path) -> None:
    samples = Recording.load(recording).samples

    assert len(samples) >= 2
    assert all("cpu_percent" in sample and "seq" not in sample for sample in samples)


def test_recording_without_samples_rejected(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text('{"type": "hello"}\n')

    with pytest.raises(RecordingError, match="no sample line"):
        Recording.load(path)


async def test_recorded_stream_replays_after(tmp_path: Path, recording: Path) -> None:
    async with SampleFleet(tmp_path / "state", devices=2, profiles=[profile_path(PROFILE)], recorded=recording) as fleet:
        entry = read_inventory(fleet)[PROFILE]
        async with await connect(entry) as conn:
            first = await conn.create_process(stream_command("--home", "."), encoding=None)
            hello = await read_json(first)
            seqs = []
            while len(seqs) < 3:
                line = await read_json(first)
                if line["type"] == "sample":
                    assert line["stream"] == hello["stream"]
                    seqs.append(line["seq"])
            first.stdin.write_eof()
            await asyncio.wait_for(first.wait(), LINE_TIMEOUT_S)

            second = await conn.create_process(
                stream_command("--after", str(seqs[1]), "--stream", hello["stream"]), encoding=None
            )
            second_hello = await read_json(second)
            resumed = await read_json(second)
            second.stdin.write_eof()
            completed = await asyncio.wait_for(second.wait(), LINE_TIMEOUT_S)

        other = read_inventory(fleet)[f"{PROFILE}-2"]
        async with await connect(other) as conn:
            third = await conn.create_process(stream_command(), encoding=None)
            other_hello = await read_json(third)
            third.stdin.write_eof()
            await asyncio.wait_for(third.wait(), LINE_TIMEOUT_S)

    assert hello["type"] == "hello"
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)
    assert second_hello["stream"] == hello["stream"]
    assert resumed["type"] == "sample"
    assert resumed["seq"] == seqs[1] + 1
    assert completed.exit_status == 0
    assert other_hello["stream"] != hello["stream"]


async def test_recorded_stream_other_stream_replays_all(tmp_path: Path, recording: Path) -> None:
    async with SampleFleet(tmp_path / "state", devices=1, profiles=[profile_path(PROFILE)], recorded=recording) as fleet:
        entry = read_inventory(fleet)[PROFILE]
        # Let the device spool a few samples before the console connects.
        while fleet.recorded.streams[PROFILE].next_seq < 3:
            await asyncio.sleep(0.2)
        async with await connect(entry) as conn:
            process = await conn.create_process(stream_command("--after", "99", "--stream", "0" * 16), encoding=None)
            await read_json(process)
            replayed = await read_json(process)
            process.stdin.write_eof()
            await asyncio.wait_for(process.wait(), LINE_TIMEOUT_S)

    assert replayed["type"] == "sample"
    assert replayed["seq"] == 1


def test_up_rejects_missing_recording(tmp_path: Path) -> None:
    from sample_fleet.cli import main

    status = main(["up", "--devices", "1", "--state-dir", str(tmp_path / "s"), "--recorded", str(tmp_path / "no")])

    assert status == 2
