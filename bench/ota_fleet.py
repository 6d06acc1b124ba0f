"""Fleet side of the over-the-air benchmark: a sample fleet, signed artifacts, resume, rollback and a rollout.

The sample fleet runs in its own process (asyncssh servers on 127.0.0.1), so
the console under test and the simulated devices do not share an event loop.
They still share this machine's cores.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from edgetui.artifacts.package import AddOptions, add_artifact
from edgetui.artifacts.signing import SigningKey
from edgetui.artifacts.store import ArtifactStore
from edgetui.service import Fleet
from edgetui.ssh import ConnectionLost, SSHPool
from edgetui.ssh.files import PART_SUFFIX, local_sha256
from edgetui.store import FleetStore

from ota_transfer import cached_connection, tcp_bytes_acked

TOP = Path(__file__).resolve().parent.parent
PROFILE = TOP / "sample_fleet" / "profiles" / "rpi4-aarch64"
VAD_MODEL = TOP / "sample_models" / "silero_vad_openvino_16k.onnx"
VAD_V1, VAD_V2 = "vad:1.0.0", "vad:2.0.0"
BIG_MODEL = "matmul20:1.0.0"
# 2500 x 2000 float32 weights: 20,000,000 bytes, so the file is just over 20 MB.
BIG_ROWS, BIG_COLUMNS = 2500, 2000
FLEET_START_POLLS = 600  # 0.1 s apart: one minute for 50 devices to listen


# Artifacts


def build_matmul_model(path: Path) -> Path:
    """Write a one-MatMul ONNX model whose 2500x2000 float32 initializer makes it about 20 MB."""
    weight = np.random.default_rng(0).standard_normal((BIG_ROWS, BIG_COLUMNS), dtype=np.float32) * 0.01
    node = helper.make_node("MatMul", ["input", "weight"], ["output"])
    graph = helper.make_graph(
        [node], "matmul20",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, BIG_ROWS])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, BIG_COLUMNS])],
        initializer=[numpy_helper.from_array(weight, "weight")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    # onnx 1.23 writes a newer IR version by default; IR 8 with opset 17 also loads in older onnxruntime.
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def add_artifacts(db_path: Path, folder: Path) -> dict:
    """Sign and record VAD v1 and v2 and the 20 MB model in the benchmark's data folder; return their sizes."""
    big = build_matmul_model(folder / "matmul20.onnx")
    key = SigningKey.load_or_create()
    sizes = {}
    with FleetStore(db_path) as store:
        blobs = ArtifactStore()
        for ref, model in ((VAD_V1, VAD_MODEL), (VAD_V2, VAD_MODEL), (BIG_MODEL, big)):
            name, version = ref.split(":")
            result = add_artifact(model, AddOptions(name=name, version=version), store=store, blobs=blobs, key=key)
            sizes[ref] = result.artifact.size_bytes
    return sizes


# The sample fleet process


def start_fleet(state: Path, devices: int) -> subprocess.Popen:
    """Start `sample_fleet up` with rpi4-aarch64 devices and wait for its inventory."""
    log = open(state / "fleet.log", "w")
    command = [sys.executable, "-m", "sample_fleet", "up", "--devices", str(devices), "--state-dir", str(state),
               "--profile", str(PROFILE), "--stop-on-stdin-eof", "--log-level", "WARNING"]
    # --stop-on-stdin-eof: the fleet also stops if this script dies without cleaning up.
    process = subprocess.Popen(command, cwd=TOP, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT)
    inventory = state / "inventory.toml"
    for _ in range(FLEET_START_POLLS):
        if inventory.exists():
            return process
        if process.poll() is not None:
            raise RuntimeError(f"the sample fleet exited early; see {state / 'fleet.log'}")
        time.sleep(0.1)
    stop_fleet(process)
    raise RuntimeError("the sample fleet did not start within 60 s")


def stop_fleet(process: subprocess.Popen) -> None:
    """Stop the sample fleet by its PID and wait for it."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    if process.stdin is not None:
        process.stdin.close()


def stop_watchdogs(state: Path) -> list[int]:
    """Stop shim watchdog processes left for devices under ``state``; return their PIDs.

    A watchdog runs in its own session, so stopping the fleet does not end it.
    Only processes whose command line is `device_shim watchdog --home DIR` with
    DIR inside ``state`` are signalled.
    """
    stopped = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [word.decode(errors="replace") for word in argv]
        if "device_shim" not in words or "watchdog" not in words or "--home" not in words[:-1]:
            continue
        if words[words.index("--home") + 1].startswith(str(state)):
            os.kill(int(entry.name), signal.SIGTERM)
            stopped.append(int(entry.name))
    return stopped


def set_fault(state: Path, name: str, *options: str) -> str:
    """Set fault switches on a simulated device with `sample_fleet fault`; return what it prints."""
    command = [sys.executable, "-m", "sample_fleet", "fault", "--state-dir", str(state), name, *options]
    return subprocess.run(command, cwd=TOP, check=True, capture_output=True, text=True).stdout.strip()


# Resume after a cut link


async def measure_resume(fleet: Fleet, state: Path, name: str, source: Path) -> dict:
    """Cut an upload at half the file, then resume it; return the bytes and the ratios."""
    size = source.stat().st_size
    remote = "bench/artifact.bin"
    local_copy = state / name / "home" / remote
    fault = set_fault(state, name, "--cut-after-bytes", str(size // 2))
    device = fleet.device(name)

    first = await _upload_once(fleet, device, source, remote)
    if not first["cut"]:
        raise RuntimeError(f"the upload to {name} was not cut; fault switches: {fault}")
    on_device = Path(str(local_copy) + PART_SUFFIX).stat().st_size
    second = await _upload_once(fleet, device, source, remote)
    missing = size - on_device
    return {
        "device": name, "size_bytes": size, "cut_after_bytes": size // 2, "part_bytes_after_cut": on_device,
        "resumed_from": second["resumed_from"], "payload_bytes_sent": second["bytes_sent"],
        "tcp_bytes_sent": second["tcp_bytes"], "resume_seconds": second["seconds"],
        "payload_ratio": second["bytes_sent"] / missing,
        "tcp_ratio": second["tcp_bytes"] / missing if second["tcp_bytes"] else None,
        "complete_and_matching": local_sha256(local_copy) == local_sha256(source),
        "first_attempt": first,
    }


async def _upload_once(fleet: Fleet, device, source: Path, remote: str) -> dict:
    """Upload through a fresh pool, so its one TCP connection carries only this attempt."""
    pool = SSHPool(fleet.store, ssh_config=[], known_hosts_files=[], max_connections=1)
    start = time.perf_counter()
    try:
        result = await pool.upload_resumable(device, source, remote)
    except ConnectionLost as exc:
        return {"cut": True, "seconds": time.perf_counter() - start, "error": exc.reason}
    else:
        seconds = time.perf_counter() - start
        tcp = tcp_bytes_acked(cached_connection(pool))
        return {"cut": False, "seconds": seconds, "resumed_from": result.resumed_from,
                "bytes_sent": result.bytes_sent, "tcp_bytes": tcp}
    finally:
        await pool.close()


# Deploys


class WaveClock:
    """Progress callback that records when each device first and last reported."""

    def __init__(self) -> None:
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}

    def __call__(self, progress) -> None:
        now = time.perf_counter()
        self.first.setdefault(progress.device, now)
        self.last[progress.device] = now


async def timed_deploy(fleet: Fleet, ref: str, waves: str) -> dict:
    """Deploy ``ref`` to every device in ``waves``; return the total time, each wave's time and the states."""
    clock = WaveClock()
    start = time.perf_counter()
    rollout = await fleet.deploy(ref, "all", waves=waves, on_progress=clock)
    seconds = time.perf_counter() - start
    report = fleet.rollout_report(rollout.id)
    out = {"artifact": ref, "waves_spec": waves, "seconds": seconds, "state": report["state"],
           "halt_reason": report["halt_reason"], "waves": []}
    for wave in report["waves"]:
        names = [device["name"] for device in wave["devices"]]
        began = [clock.first[name] for name in names if name in clock.first]
        ended = [clock.last[name] for name in names if name in clock.last]
        out["waves"].append({
            "devices": len(names),
            "committed": sum(device["state"] == "committed" for device in wave["devices"]),
            "bytes_sent": sum(device["bytes_sent"] or 0 for device in wave["devices"]),
            "seconds": max(ended) - min(began) if began and ended else None,
        })
    out["committed"] = sum(wave["committed"] for wave in out["waves"])
    out["bytes_sent"] = sum(wave["bytes_sent"] for wave in out["waves"])
    return out


# Rollback


async def current_versions(fleet: Fleet, names: list[str]) -> list[str | None]:
    """Return each device's current version as its shim's status reports it."""
    reports = await asyncio.gather(*(fleet.releases(name) for name in names))
    return [report["current"] for report in reports]


async def rollback_api(fleet: Fleet, selector: str, to: str) -> tuple[float, list[dict]]:
    """Time Fleet.rollback, which returns once the shim's status confirms each device."""
    start = time.perf_counter()
    results = await fleet.rollback(selector, to=to)
    return time.perf_counter() - start, results


async def rollback_cli(db_path: Path, selector: str, to: str) -> tuple[float, list[dict]]:
    """Time `edgetui rollback SELECTOR --to TO --json` as a new process, as a user runs it."""
    command = [str(TOP / ".venv" / "bin" / "edgetui"), "--db", str(db_path), "rollback", selector, "--to", to, "--json"]
    start = time.perf_counter()
    process = await asyncio.create_subprocess_exec(*command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=300)
    seconds = time.perf_counter() - start
    if not stdout.strip():
        raise RuntimeError(f"edgetui rollback printed nothing (status {process.returncode}): {stderr[-2000:]!r}")
    return seconds, json.loads(stdout)


async def rollback_round(fleet: Fleet, db_path: Path, selector: str, names: list[str], interface: str) -> dict:
    """Roll back to the previous release (v1) and time it, check every device, then return them to v2."""
    if interface == "api":
        seconds, results = await rollback_api(fleet, selector, "previous")
    else:
        seconds, results = await rollback_cli(db_path, selector, "previous")
    versions = await current_versions(fleet, names)
    _, back = await rollback_api(fleet, selector, "known_good")
    return {
        "interface": interface, "devices": len(names), "seconds": seconds,
        "ok": sum(bool(result["ok"]) for result in results),
        "serving_v1_by_status": sum(version == VAD_V1.split(":")[1] for version in versions),
        "returned_to_v2": sum(bool(result["ok"]) for result in back),
    }


async def rollback_rounds(fleet: Fleet, db_path: Path, names: list[str], rounds: int) -> list[dict]:
    """Alternate one device and every device, through the API and the command line, ``rounds`` times."""
    cases = [(names[0], names[:1], "api"), ("all", names, "api"), (names[0], names[:1], "cli"), ("all", names, "cli")]
    out = []
    for _ in range(rounds):
        for selector, targets, interface in cases:
            out.append(await rollback_round(fleet, db_path, selector, targets, interface))
    return out
