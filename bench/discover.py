"""Benchmark: hardware discovery of a sample fleet, edgetui against Ansible.

Starts N simulated devices (default 50), then in one run, alternating:
- edgetui: `edgetui discover --json` on a fresh database (a cold run that copies
  the shim to every device) and again (a warm run, shim already there);
- Ansible: `ansible all -m setup -f N` (ansible-core in its own venv under bench/,
  created on first use; SSH pipelining on, the best case for Ansible).
Reports the median wall time and the peak memory (PSS of the whole process tree)
of each. Usage: .venv/bin/python bench/discover.py [--devices 50] [--rounds 3]
"""

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from procmem import run_measured

HERE = Path(__file__).resolve().parent
TOP = HERE.parent
ANSIBLE_VENV = HERE / ".venv-ansible"


def ensure_ansible() -> Path:
    """Create bench/.venv-ansible with ansible-core on first use; return its `ansible`."""
    ansible = ANSIBLE_VENV / "bin" / "ansible"
    if not ansible.exists():
        subprocess.run([sys.executable, "-m", "venv", str(ANSIBLE_VENV)], check=True)
        pip = [str(ANSIBLE_VENV / "bin" / "pip"), "install", "-q", "ansible-core"]
        subprocess.run(pip, check=True)
    return ansible


def start_fleet(state: Path, devices: int) -> subprocess.Popen:
    """Start the sample fleet and wait for its inventory."""
    log = open(state / "fleet.log", "w")
    command = [sys.executable, "-m", "sample_fleet", "up", "--devices", str(devices)]
    process = subprocess.Popen(
        command + ["--state-dir", str(state)], stdout=log, stderr=subprocess.STDOUT
    )
    inventory = state / "inventory.toml"
    for _ in range(600):
        if inventory.exists():
            return process
        if process.poll() is not None:
            sys.exit(f"sample fleet exited early; see {state / 'fleet.log'}")
        time.sleep(0.1)
    process.terminate()
    sys.exit("sample fleet did not start within 60 s")


def write_ansible_inventory(state: Path, devices: list[dict]) -> tuple[Path, Path]:
    """Write an INI inventory and a known_hosts file for the same devices."""
    ini, known = state / "ansible.ini", state / "known_hosts"
    lines = ["[fleet]"]
    for d in devices:
        lines.append(
            f"{d['name']} ansible_host={d['host']} ansible_port={d['port']} "
            f"ansible_user={d['user']} ansible_ssh_private_key_file={d['key_file']} "
            "ansible_python_interpreter=/usr/bin/python3"
        )
    ini.write_text("\n".join(lines) + "\n")
    known.write_text(
        "".join(f"[{d['host']}]:{d['port']} {d['host_key']}\n" for d in devices)
    )
    return ini, known


def ansible_env(state: Path, known: Path) -> dict:
    """Keep Ansible's state under the benchmark folder and off the real known_hosts."""
    env = dict(os.environ)
    env.update(
        ANSIBLE_HOME=str(state / "ansible-home"),
        ANSIBLE_LOCAL_TEMP=str(state / "ansible-tmp"),
        ANSIBLE_SSH_CONTROL_PATH_DIR=str(state / "ansible-cp"),
        ANSIBLE_HOST_KEY_CHECKING="False",
        ANSIBLE_PIPELINING="True",
        ANSIBLE_SSH_COMMON_ARGS=f"-o UserKnownHostsFile={known}",
    )
    return env


def run_edgetui(state: Path, round_no: int, devices: int) -> dict:
    """Import into a fresh database, then time a cold and a warm discovery."""
    db = state / f"bench-{round_no}.db"
    base = [str(TOP / ".venv" / "bin" / "edgetui"), "--db", str(db)]
    subprocess.run(base + ["fleet", "import", str(state / "inventory.toml")], check=True,
                   capture_output=True)
    # A cold run copies the shim to every device; reset their homes first.
    for home in state.glob("*/home"):
        subprocess.run(["rm", "-rf", str(home / ".edgetui")], check=True)

    out = {}
    for label in ("cold", "warm"):
        command = base + ["discover", "--json", "--max-connections", str(devices)]
        seconds, peak_mib, _, result, cpu = run_measured(command)
        ok = sum(1 for row in json.loads(result.stdout) if row["ok"])
        out[label] = {"seconds": seconds, "peak_mib": peak_mib, "ok": ok, "cpu_s": cpu}
    return out


def run_ansible(ansible: Path, state: Path, ini: Path, env: dict, devices: int) -> dict:
    """Time `ansible all -m setup` with one fork per device."""
    command = [str(ansible), "all", "-i", str(ini), "-m", "setup", "-f", str(devices), "-o"]
    seconds, peak_mib, processes, result, cpu = run_measured(command, env=env)
    ok = result.stdout.decode(errors="replace").count("SUCCESS")
    return {"seconds": seconds, "peak_mib": peak_mib, "ok": ok, "processes": processes,
            "cpu_s": cpu}


def main() -> int:
    """Run the benchmark and print a Markdown table and the raw JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    ansible = ensure_ansible()
    with tempfile.TemporaryDirectory(prefix="edgetui-bench-") as tmp:
        state = Path(tmp)
        fleet = start_fleet(state, args.devices)
        try:
            devices = tomllib.loads((state / "inventory.toml").read_text())["device"]
            ini, known = write_ansible_inventory(state, devices)
            env = ansible_env(state, known)
            rounds = []
            for round_no in range(args.rounds):
                rounds.append({
                    "edgetui": run_edgetui(state, round_no, args.devices),
                    "ansible": run_ansible(ansible, state, ini, env, args.devices),
                })
        finally:
            fleet.send_signal(signal.SIGTERM)
            fleet.wait(timeout=30)

    report(rounds, args.devices)
    return 0


def report(rounds: list[dict], devices: int) -> None:
    """Print the medians as a Markdown table, then every round as JSON."""
    def median(path):
        values = []
        for r in rounds:
            value = r
            for key in path:
                value = value[key]
            values.append(value)
        return statistics.median(values)

    rows = [
        ("edgetui discover, cold (copies the shim)", ("edgetui", "cold")),
        ("edgetui discover, warm", ("edgetui", "warm")),
        ("ansible -m setup, pipelining", ("ansible",)),
    ]
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; {devices} devices; {len(rounds)} rounds")
    print("| tool | median s | console CPU s | peak MiB (PSS, process tree) | devices ok |")
    print("| --- | --- | --- | --- | --- |")
    for label, path in rows:
        print(f"| {label} | {median(path + ('seconds',)):.2f} | "
              f"{median(path + ('cpu_s',)):.2f} | "
              f"{median(path + ('peak_mib',)):.0f} | {median(path + ('ok',)):.0f} |")
    ansible_s = median(("ansible", "seconds"))
    for label in ("cold", "warm"):
        speedup = ansible_s / median(("edgetui", label, "seconds"))
        print(f"edgetui {label} is {speedup:.1f}x faster than Ansible")
    print(json.dumps(rounds, indent=1))


if __name__ == "__main__":
    sys.exit(main())
