"""Benchmark: over-the-air updates: transfer, resume, rollback and a rollout in waves.

In one run:
1. Transfer: a 100 MB file of random bytes to one loopback sshd (Debian's
   OpenSSH, started here), SSHPool.upload_resumable against `scp`, alternating,
   with the same key, ssh_config, cipher and key exchange.
2. Resume: the sample fleet's --cut-after-bytes fault cuts the same upload at
   half the file; the next upload resumes. Bytes sent to finish over bytes missing.
3. Rollback: VAD v1 then v2 deployed to N simulated devices, then timed
   rollbacks to the previous release (v1) on one device and on all, through
   Fleet.rollback and `edgetui rollback`, checked with the shim's status.
4. A 20 MB ONNX model (one MatMul) deployed to all devices in 4 waves.

Everything runs on 127.0.0.1, with XDG_DATA_HOME and XDG_CONFIG_HOME in a
temporary folder, so the user's database and signing key are never touched.
Usage: .venv/bin/python bench/deploy.py [--devices 50] [--rounds 3] [--size-mb 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WAVES = "1,10%,50%,100%"


def isolate_environment(folder: Path) -> Path:
    """Point edgetui's data and config folders into ``folder``; return the fleet database path."""
    os.environ["XDG_DATA_HOME"] = str(folder / "data")
    os.environ["XDG_CONFIG_HOME"] = str(folder / "config")
    for name in ("EDGETUI_DB", "EDGETUI_SIGNING_KEY_PASSPHRASE"):
        os.environ.pop(name, None)
    return folder / "data" / "edgetui" / "fleet.db"


def machine() -> dict:
    """Return the CPU model, cores, load and the versions that the numbers depend on."""
    import asyncssh
    import onnxruntime

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    openssh = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "asyncssh": asyncssh.__version__, "openssh": openssh, "onnxruntime": onnxruntime.__version__,
            "kernel": platform.release()}


def load_average() -> float:
    """Return the one-minute load average, to show what else ran during a phase."""
    return round(os.getloadavg()[0], 2)


async def fleet_phases(folder: Path, db_path: Path, source: Path, devices: int, rounds: int) -> dict:
    """Run resume, the v1 and v2 deploys, the rollbacks and the 20 MB rollout on one sample fleet."""
    from edgetui.service import Fleet

    import ota_fleet

    out: dict = {"artifact_bytes": ota_fleet.add_artifacts(db_path, folder)}
    state = folder / "fleet"
    state.mkdir()
    process = ota_fleet.start_fleet(state, devices)
    fleet = Fleet.open(db_path)
    try:
        fleet.import_inventory(state / "inventory.toml")
        names = [device.name for device in fleet.devices()]
        out["load_before_resume"] = load_average()
        out["resume"] = await ota_fleet.measure_resume(fleet, state, names[0], source)
        out["load_before_deploys"] = load_average()
        out["deploy_v1"] = await ota_fleet.timed_deploy(fleet, ota_fleet.VAD_V1, "100%")
        out["deploy_v2"] = await ota_fleet.timed_deploy(fleet, ota_fleet.VAD_V2, "100%")
        out["load_before_rollback"] = load_average()
        out["rollback"] = await ota_fleet.rollback_rounds(fleet, db_path, names, rounds)
        out["load_before_rollout"] = load_average()
        out["rollout_20mb"] = await ota_fleet.timed_deploy(fleet, ota_fleet.BIG_MODEL, WAVES)
        out["load_after"] = load_average()
    finally:
        await fleet.aclose()
        ota_fleet.stop_fleet(process)
        out["watchdogs_stopped"] = ota_fleet.stop_watchdogs(state)
    return out


def main() -> int:
    """Run every phase in one temporary folder, then print a Markdown table and the raw JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=50, help="simulated devices (default 50)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each transfer and rollback (default 3)")
    parser.add_argument("--size-mb", type=int, default=100, help="transfer file size in MB of 10^6 bytes")
    args = parser.parse_args()

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="edgetui-bench-ota-") as tmp:
        folder = Path(tmp)
        db_path = isolate_environment(folder)
        # Imported after the environment is set, so nothing reads the user's folders first.
        import ota_transfer

        results = {"machine": machine(), "command": " ".join([".venv/bin/python", "bench/deploy.py", *sys.argv[1:]]),
                   "load_at_start": load_average()}
        transfer_dir = folder / "transfer"
        transfer_dir.mkdir()
        results["transfer"] = ota_transfer.transfer_rounds(transfer_dir, args.size_mb * 1_000_000, args.rounds)
        source = transfer_dir / "artifact.bin"
        results["fleet"] = asyncio.run(fleet_phases(folder, db_path, source, args.devices, args.rounds))
    results["total_seconds"] = time.perf_counter() - started

    print(markdown(results))
    print(json.dumps(results, indent=1))
    return 0


# Report


def median_of(runs: list[dict], key: str) -> float:
    """Return the median of one field over rounds."""
    return statistics.median(run[key] for run in runs)


def markdown(results: dict) -> str:
    """Return the results as Markdown: the machine line, then one table with each target."""
    info = results["machine"]
    lines = [f"Machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}, asyncssh "
             f"{info['asyncssh']}, {info['openssh']}; load average at start {results['load_at_start']}; "
             f"total {results['total_seconds']:.0f} s", "",
             "| measure | result | target |", "| --- | --- | --- |"]
    lines += transfer_rows(results["transfer"])
    lines += fleet_rows(results["fleet"])
    return "\n".join(lines)


def transfer_rows(transfer: dict) -> list[str]:
    """Return the table rows of the transfer phase: medians per tool and setting, and the ratios."""
    rows = []
    for label, runs in transfer["settings"].items():
        edgetui, scp = median_of(runs["edgetui"], "mb_s"), median_of(runs["scp"], "mb_s")
        legacy = median_of(runs["scp -O"], "mb_s")
        send = median_of(runs["edgetui"], "send_mb_s")
        rows.append(f"| transfer, {label}: edgetui / scp (SFTP) / scp -O, MB/s | {edgetui:.0f} / {scp:.0f} / "
                    f"{legacy:.0f}; edgetui's SFTP writes alone {send:.0f} | |")
        target = " at least 0.8" if label.endswith("first") else ""
        rows.append(f"| transfer ratio edgetui / scp, {label} | {edgetui / scp:.2f} (writes alone {send / scp:.2f}) "
                    f"|{target} |")
    for label, runs in transfer["variants"].items():
        rows.append(f"| variant: {label}, MB/s | {median_of(runs, 'mb_s'):.0f} "
                    f"(writes alone {median_of(runs, 'send_mb_s'):.0f}) | |")
    return rows


def fleet_rows(fleet: dict) -> list[str]:
    """Return the table rows of resume, rollback and the 20 MB rollout."""
    resume = fleet["resume"]
    tcp = f"{resume['tcp_ratio']:.3f}" if resume["tcp_ratio"] is not None else "n/a"
    rows = [f"| resume after a cut at {resume['cut_after_bytes']} bytes: payload / TCP bytes sent over bytes "
            f"missing | {resume['payload_ratio']:.3f} / {tcp} | at most 1.05 |"]
    for interface, label in (("api", "Fleet.rollback"), ("cli", "`edgetui rollback`")):
        for many in (False, True):
            runs = [run for run in fleet["rollback"] if run["interface"] == interface and (run["devices"] > 1) == many]
            if not runs:
                continue
            devices = runs[0]["devices"]
            checked = min(run["serving_v1_by_status"] for run in runs)
            target = "under 5 s" if many else "under 1 s"
            rows.append(f"| rollback, {label}, {devices} device(s), median s | {median_of(runs, 'seconds'):.2f} "
                        f"(min {checked} of {devices} on v1 by status) | {target} |")
    for key, label in (("deploy_v1", "deploy VAD v1 (1.3 MB), one wave"), ("deploy_v2", "deploy VAD v2, one wave"),
                       ("rollout_20mb", f"deploy 20 MB model, waves {WAVES}")):
        deploy = fleet[key]
        waves = ", ".join(f"{wave['seconds']:.1f}" for wave in deploy["waves"] if wave["seconds"] is not None)
        rows.append(f"| {label}: total s (per wave s) | {deploy['seconds']:.1f} ({waves}); "
                    f"{deploy['committed']} committed, {deploy['state']} | recorded |")
    return rows


if __name__ == "__main__":
    sys.exit(main())
