"""Benchmark: live telemetry of N devices into one console with the TUI open, against N `ssh` clients.

The sample fleet runs in recorded mode (`sample-fleet up --recorded FILE`): no
model server runs, and each device streams samples recorded from a real shim at
1 Hz, with its own stream id, seq and ts. FILE is made first with
`sample-fleet record` on one device serving the demo release with traffic,
unless --recording names one.

In one run, on the same fleet:
1. Console: this process runs the edgetui app headless (Textual's run_test)
   with the telemetry collector on, as `edgetui tui` does. Once every device
   streams, it measures for --seconds its own CPU time (all threads, the fleet
   excluded) and its peak memory. Every --press-every seconds it presses a key
   (cursor moves, the device screen, the alerts screen) and times it from the
   press until a rendered frame shows the change. Then it reads every device's
   next seq and counts the seqs below it that are not stored.
2. Peer: one OpenSSH `ssh` client per device runs the shim's `stream` and
   appends its output to a file, for the same time. CPU and PSS of those
   processes, and the seqs missing from the files.

Usage: .venv/bin/python bench/telemetry.py [--devices 200] [--seconds 300] [--recording FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import resource
import shlex
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from pathlib import Path

from procmem import pss_kib

TOP = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Keys pressed in turn, with the screen state that shows each was handled.
KEY_CYCLE = ["down", "down", "down", "up", "up", "up", "enter", "escape", "a", "escape"]
# Terminal size of the headless app: a common laptop terminal.
SCREEN_SIZE = (160, 48)
# Bounds on every wait, so that a broken run ends instead of hanging.
FLEET_START_TIMEOUT_S = 300.0
STREAMS_OPEN_TIMEOUT_S = 300.0
KEY_TIMEOUT_S = 5.0
DRAIN_TIMEOUT_S = 30.0
# Verification connections opened at once.
CONNECT_CONCURRENCY = 20

log = logging.getLogger("bench.telemetry")


# Processes and machine


def process_cpu_seconds(pid: int) -> float:
    """Return user plus system CPU seconds of one process, or 0 when it has exited."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def self_cpu_seconds() -> float:
    """Return this process's user plus system CPU seconds, all threads, children excluded."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mib() -> float:
    """Return this process's peak resident set size (VmHWM) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class PssSampler:
    """Record the peak sum of PSS over ``pids()`` every ``interval`` seconds, in a thread."""

    def __init__(self, pids, interval: float = 0.5) -> None:
        self.pids = pids
        self.interval = interval
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="pss-sampler")

    def __enter__(self) -> PssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, sum(pss_kib(pid) for pid in self.pids()))
            self._stop.wait(self.interval)


def machine() -> dict:
    """Return the CPU, cores and the versions the numbers depend on (without importing onnxruntime here)."""
    import asyncssh
    import textual

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    openssh = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip()
    memory = next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(int(memory) / 2**20, 1),
            "python": platform.python_version(), "asyncssh": asyncssh.__version__,
            "textual": textual.__version__, "openssh": openssh, "kernel": platform.release()}


def percentiles(values: list[float]) -> dict:
    """Return p50, p95 and max of ``values`` in milliseconds."""
    if not values:
        return {"count": 0, "p50_ms": None, "p95_ms": None, "max_ms": None}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"count": len(values), "p50_ms": round(1000 * statistics.median(ordered), 1),
            "p95_ms": round(1000 * p95, 1), "max_ms": round(1000 * ordered[-1], 1)}


# Sample fleet


def record_file(folder: Path, seconds: float) -> Path:
    """Record ``seconds`` of a real shim's stream (rpi4-aarch64 serving the demo release, with traffic)."""
    state, output = folder / "record-fleet", folder / "recording.jsonl"
    up_log = open(folder / "record-fleet.log", "w")
    command = [sys.executable, "-m", "sample_fleet", "up", "--devices", "1", "--state-dir", str(state),
               "--profile", str(TOP / "sample_fleet" / "profiles" / "rpi4-aarch64")]
    fleet = subprocess.Popen(command, cwd=TOP, stdout=subprocess.PIPE, stderr=up_log, text=True)
    log.info("recording %g s of a real shim's stream; the one-device fleet has pid %d", seconds, fleet.pid)
    try:
        # `up` prints "demo release ..." once the device serves; the traffic generator then runs.
        deadline = time.monotonic() + FLEET_START_TIMEOUT_S
        for line in fleet.stdout:
            if line.startswith("demo release"):
                break
            if time.monotonic() > deadline:
                sys.exit(f"the demo release was not ready within {FLEET_START_TIMEOUT_S:g} s; see {up_log.name}")
        else:
            sys.exit(f"the one-device sample fleet exited early; see {up_log.name}")
        subprocess.run([sys.executable, "-m", "sample_fleet", "record", "--state-dir", str(state), "--name",
                        "rpi4-aarch64", "--seconds", str(seconds), "--output", str(output)],
                       cwd=TOP, check=True, timeout=seconds + 120)
    finally:
        stop_process(fleet)
    return output


def start_fleet(state: Path, devices: int, recording: Path) -> subprocess.Popen:
    """Start the sample fleet in recorded mode and wait for its inventory."""
    state.mkdir(parents=True)
    fleet_log = open(state / "fleet.log", "w")
    command = [sys.executable, "-m", "sample_fleet", "up", "--devices", str(devices), "--state-dir", str(state),
               "--recorded", str(recording), "--log-level", "WARNING"]
    process = subprocess.Popen(command, cwd=TOP, stdout=fleet_log, stderr=subprocess.STDOUT)
    log.info("sample fleet of %d recorded devices started, pid %d", devices, process.pid)
    deadline = time.monotonic() + FLEET_START_TIMEOUT_S
    while not (state / "inventory.toml").exists():
        if process.poll() is not None:
            sys.exit(f"the sample fleet exited early; see {state / 'fleet.log'}")
        if time.monotonic() > deadline:
            stop_process(process)
            sys.exit(f"the sample fleet did not start within {FLEET_START_TIMEOUT_S:g} s")
        time.sleep(0.2)
    return process


def stop_process(process: subprocess.Popen) -> None:
    """Stop one process started here: SIGTERM, then SIGKILL after 30 s."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        log.warning("pid %d ignored SIGTERM for 30 s; killing it", process.pid)
        process.kill()
        process.wait()


def stream_command() -> str:
    """Return the console's launch line of the shim's `stream`, which the recorded fleet serves."""
    from edgetui.shim_bundle import build_shim_bundle
    from edgetui.shim_client import launch_line

    return launch_line(build_shim_bundle().sha256, "stream") + " " + shlex.join(["--home", "."])


async def next_seqs(entries: list[dict]) -> dict[str, tuple[str, int]]:
    """Return each device's stream id and the next seq it will make, from the hello line of a new stream."""
    import asyncssh

    command = stream_command()
    limit = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one(entry: dict) -> tuple[str, tuple[str, int]]:
        async with limit:
            async with asyncssh.connect(
                entry["host"], entry["port"], username=entry["user"], client_keys=[entry["key_file"]],
                known_hosts=([asyncssh.import_public_key(entry["host_key"])], [], []), config=[],
                agent_path=None,
            ) as conn:
                process = await conn.create_process(command, encoding=None)
                hello = json.loads(await asyncio.wait_for(process.stdout.readline(), 30))
                process.stdin.write_eof()
                process.close()
        return entry["name"], (hello["stream"], hello["next_seq"])

    return dict(await asyncio.gather(*(one(entry) for entry in entries)))


def lost_seqs(expected: dict[str, tuple[str, int]], seen: dict[str, set[int]]) -> dict:
    """Count, per device, the seqs below its next seq that are missing from ``seen``."""
    lost = {}
    for name, (_stream, next_seq) in expected.items():
        have = seen.get(name, set())
        lost[name] = sum(1 for seq in range(1, next_seq) if seq not in have)
    return {"total": sum(lost.values()), "devices_with_loss": sum(1 for count in lost.values() if count),
            "expected": sum(next_seq - 1 for _stream, next_seq in expected.values())}


# Console


class FrameProbe:
    """Render each frame the app displays and note when one shows an awaited state.

    Headless Textual builds every frame but skips turning it into terminal
    output. The probe does that step and writes the result to /dev/null, so its
    cost counts as the console's, as in a real terminal.
    """

    def __init__(self, app) -> None:
        self.app = app
        self.frames = 0
        self._original = app._display
        self._sink = open(os.devnull, "w")
        self._expect = None
        self._seen = asyncio.Event()
        self.seen_at = 0.0
        app._display = self._display

    def _display(self, screen, renderable) -> None:
        self._original(screen, renderable)
        if renderable is None or self.app._batch_count:
            return
        if hasattr(renderable, "render_segments"):
            self._sink.write(renderable.render_segments(self.app.console))
        self.frames += 1
        if self._expect is not None and self._expect(screen):
            self.seen_at = time.perf_counter()
            self._expect = None
            self._seen.set()

    async def press(self, pilot, key: str, shows) -> float | None:
        """Press ``key``; return the seconds until a frame for which ``shows(screen)`` holds, None after the timeout."""
        self._seen.clear()
        self._expect = shows
        started = time.perf_counter()
        await pilot.press(key)
        try:
            await asyncio.wait_for(self._seen.wait(), KEY_TIMEOUT_S)
        except TimeoutError:
            self._expect = None
            return None
        return self.seen_at - started


def expected_state(key: str, app):
    """Return a test of the displayed screen that shows ``key`` was handled."""
    from edgetui.tui.screens.alerts import AlertsScreen
    from edgetui.tui.screens.device import DeviceScreen
    from edgetui.tui.screens.fleet import FleetScreen

    if key in ("down", "up"):
        row = app.screen.table.cursor_row + (1 if key == "down" else -1)
        return lambda screen: isinstance(screen, FleetScreen) and screen.table.cursor_row == row
    if key == "enter":
        return lambda screen: isinstance(screen, DeviceScreen)
    if key == "a":
        return lambda screen: isinstance(screen, AlertsScreen)
    return lambda screen: isinstance(screen, FleetScreen)


async def wait_streaming(app, devices: int) -> None:
    """Wait until the collector reports every device streaming."""
    deadline = time.monotonic() + STREAMS_OPEN_TIMEOUT_S
    while True:
        collector = app.telemetry.collector
        if collector is not None:
            states = collector.states()
            streaming = sum(1 for state in states.values() if state.state == "streaming")
            if streaming == devices:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {streaming if collector else 0} of {devices} devices streamed "
                               f"after {STREAMS_OPEN_TIMEOUT_S:g} s")
        await asyncio.sleep(0.2)


def stored_seqs(db_path: Path, expected: dict[str, tuple[str, int]]) -> dict[str, set[int]]:
    """Return the seqs stored for each device's current stream."""
    connection = sqlite3.connect(db_path)
    try:
        seqs: dict[str, set[int]] = {}
        for device, stream, seq in connection.execute("SELECT device, stream, seq FROM telemetry_samples"):
            if expected.get(device, (None,))[0] == stream:
                seqs.setdefault(device, set()).add(seq)
        return seqs
    finally:
        connection.close()


async def drain(db_path: Path, expected: dict[str, tuple[str, int]]) -> float:
    """Wait until every device's highest stored seq reaches its next seq minus one; return the seconds waited."""
    started = time.monotonic()
    query = "SELECT device, MAX(seq) FROM telemetry_samples WHERE stream = ? AND device = ?"

    def behind() -> int:
        connection = sqlite3.connect(db_path)
        try:
            count = 0
            for name, (stream, next_seq) in expected.items():
                top = connection.execute(query, (stream, name)).fetchone()[1]
                count += top is None or top < next_seq - 1
            return count
        finally:
            connection.close()

    while await asyncio.to_thread(behind) and time.monotonic() - started < DRAIN_TIMEOUT_S:
        await asyncio.sleep(0.5)
    return time.monotonic() - started


async def console_phase(folder: Path, state: Path, devices: int, seconds: float, press_every: float,
                        fleet_pid: int) -> dict:
    """Run the app headless with the collector on; measure CPU, memory, key latency and lost samples."""
    from edgetui.cli.logs import configure_logging
    from edgetui.service import Fleet
    from edgetui.settings import Settings
    from edgetui.tui.app import create_app

    log_file = folder / "edgetui.log"
    configure_logging(log_file)
    db_path = folder / "data" / "edgetui" / "fleet.db"
    db_path.parent.mkdir(parents=True, exist_ok=True)
    fleet = Fleet.open(db_path)
    fleet.import_inventory(state / "inventory.toml")
    entries = tomllib.loads((state / "inventory.toml").read_text())["device"]
    app = create_app(fleet, Settings(), collect_telemetry=True)
    probe = FrameProbe(app)
    out: dict = {}
    latencies: dict[str, list[float]] = {}
    missed: list[str] = []

    with PssSampler(lambda: [os.getpid()]) as memory:
        try:
            async with app.run_test(size=SCREEN_SIZE) as pilot:
                started, cpu_start = time.monotonic(), self_cpu_seconds()
                await wait_streaming(app, devices)
                out["start_seconds"] = round(time.monotonic() - started, 1)
                out["start_cpu_seconds"] = round(self_cpu_seconds() - cpu_start, 1)
                log.info("console: %d devices streaming after %.1f s", devices, out["start_seconds"])

                wall_start, cpu_start, frames_start = time.monotonic(), self_cpu_seconds(), probe.frames
                fleet_cpu_start = process_cpu_seconds(fleet_pid)
                presses = 0
                while time.monotonic() - wall_start < seconds:
                    key = KEY_CYCLE[presses % len(KEY_CYCLE)]
                    elapsed = await probe.press(pilot, key, expected_state(key, app))
                    if elapsed is None:
                        missed.append(key)
                    else:
                        latencies.setdefault(key, []).append(elapsed)
                    presses += 1
                    next_press = wall_start + presses * press_every
                    await asyncio.sleep(max(0.0, min(next_press, wall_start + seconds) - time.monotonic()))
                wall = time.monotonic() - wall_start
                cpu = self_cpu_seconds() - cpu_start
                fleet_cpu = process_cpu_seconds(fleet_pid) - fleet_cpu_start
                out.update(seconds=round(wall, 1), cpu_seconds=round(cpu, 1),
                           cpu_percent_of_one_core=round(100 * cpu / wall, 1),
                           fleet_cpu_percent_of_one_core=round(100 * fleet_cpu / wall, 1),
                           frames_per_second=round((probe.frames - frames_start) / wall, 1))

                # Outside the measured time: each device's next seq, then let the console store what is below it.
                expected = await next_seqs(entries)
                out["drain_seconds"] = round(await drain(db_path, expected), 1)
                states = app.telemetry.collector.states().values()
                out["collector"] = {key: sum(getattr(state, key) for state in states)
                                    for key in ("samples", "duplicates", "gaps", "garbage", "reconnects")}
                app.exit()
        finally:
            await fleet.aclose()
    out["peak_pss_mib"] = round(memory.peak_kib / 1024, 1)
    out["peak_rss_mib"] = round(peak_rss_mib(), 1)
    out["lost"] = lost_seqs(expected, stored_seqs(db_path, expected))
    all_latencies = [value for values in latencies.values() for value in values]
    out["keys"] = {"all": percentiles(all_latencies), "missed": missed,
                   **{key: percentiles(values) for key, values in latencies.items()}}
    log_text = log_file.read_text(errors="replace")
    out["log_warnings"] = log_text.count(" WARNING ")
    out["log_errors"] = log_text.count(" ERROR ")
    return out


# Peer


def peer_phase(folder: Path, state: Path, seconds: float, fleet_pid: int) -> dict:
    """Run one `ssh` client per device appending the stream to a file; measure their CPU, PSS and lost seqs."""
    from edgetui.shim_bundle import build_shim_bundle
    from edgetui.shim_client import shim_path

    entries = tomllib.loads((state / "inventory.toml").read_text())["device"]
    peer = folder / "peer"
    peer.mkdir()
    known = peer / "known_hosts"
    known.write_text("".join(f"[{e['host']}]:{e['port']} {e['host_key']}\n" for e in entries))
    remote = f"python3 {shim_path(build_shim_bundle().sha256)} stream --home ."
    processes: dict[str, subprocess.Popen] = {}
    out: dict = {}
    try:
        for entry in entries:
            command = ["ssh", "-F", "/dev/null", "-p", str(entry["port"]), "-i", entry["key_file"],
                       "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={known}",
                       "-o", "StrictHostKeyChecking=yes", "-o", "LogLevel=ERROR",
                       f"{entry['user']}@{entry['host']}", remote]
            # stdin stays an open pipe, as a terminal would: the stream ends when stdin reaches EOF.
            with open(peer / f"{entry['name']}.jsonl", "ab") as output, open(peer / f"{entry['name']}.err", "ab") as err:
                processes[entry["name"]] = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=output, stderr=err)
        log.info("peer: %d ssh clients started", len(processes))

        started = time.monotonic()
        while any((peer / f"{name}.jsonl").stat().st_size == 0 for name in processes):
            if time.monotonic() - started > STREAMS_OPEN_TIMEOUT_S:
                raise RuntimeError(f"not every ssh client had output after {STREAMS_OPEN_TIMEOUT_S:g} s")
            if any(process.poll() is not None for process in processes.values()):
                raise RuntimeError(f"an ssh client exited early; see the .err files in {peer}")
            time.sleep(0.2)
        out["start_seconds"] = round(time.monotonic() - started, 1)

        pids = [process.pid for process in processes.values()]
        with PssSampler(lambda: pids) as memory:
            wall_start, cpu_start = time.monotonic(), sum(process_cpu_seconds(pid) for pid in pids)
            fleet_cpu_start = process_cpu_seconds(fleet_pid)
            time.sleep(seconds)
            wall = time.monotonic() - wall_start
            cpu = sum(process_cpu_seconds(pid) for pid in pids) - cpu_start
            fleet_cpu = process_cpu_seconds(fleet_pid) - fleet_cpu_start
        out.update(seconds=round(wall, 1), processes=len(pids), cpu_seconds=round(cpu, 1),
                   cpu_percent_of_one_core=round(100 * cpu / wall, 1), peak_pss_mib=round(memory.peak_kib / 1024, 1),
                   fleet_cpu_percent_of_one_core=round(100 * fleet_cpu / wall, 1))

        expected = asyncio.run(next_seqs(entries))
        # The clients write each line as it arrives; a few seconds let the last ones land.
        time.sleep(3)
    finally:
        for process in processes.values():
            process.stdin.close()
        for process in processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    seen: dict[str, set[int]] = {}
    for name in processes:
        for line in (peer / f"{name}.jsonl").read_text().splitlines():
            item = json.loads(line)
            if item.get("type") == "sample":
                seen.setdefault(name, set()).add(item["seq"])
    out["lost"] = lost_seqs(expected, seen)
    out["bytes_written"] = sum((peer / f"{name}.jsonl").stat().st_size for name in processes)
    return out


# Run and report


def main() -> int:
    """Run both phases on one sample fleet, then print a Markdown table and the raw JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=200, help="recorded sample-fleet devices (default 200)")
    parser.add_argument("--seconds", type=float, default=300.0, help="measured time of each phase (default 300)")
    parser.add_argument("--press-every", type=float, default=2.0, help="seconds between key presses (default 2)")
    parser.add_argument("--recording", type=Path, help="JSON lines from `sample-fleet record`; "
                                                       "default: record 120 s first")
    parser.add_argument("--skip-peer", action="store_true", help="measure the console only")
    parser.add_argument("--output", type=Path, help="also write the JSON result to this file")
    args = parser.parse_args()
    # The benchmark's own progress goes to stderr; edgetui's log goes to a file, as in `edgetui tui`.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False

    with tempfile.TemporaryDirectory(prefix="edgetui-bench-telemetry-") as tmp:
        folder = Path(tmp)
        # edgetui's data and config live in the temporary folder, never the user's.
        os.environ["XDG_DATA_HOME"] = str(folder / "data")
        os.environ["XDG_CONFIG_HOME"] = str(folder / "config")
        os.environ.pop("EDGETUI_DB", None)
        recording = args.recording or record_file(folder, 120.0)
        results = {"machine": machine(), "mode": "recorded streams", "recording": str(args.recording or "made here"),
                   "recorded_samples": sum(1 for line in recording.read_text().splitlines() if '"sample"' in line),
                   "devices": args.devices, "date": time.strftime("%Y-%m-%d"),
                   "command": " ".join([".venv/bin/python", "bench/telemetry.py", *sys.argv[1:]]),
                   "load_at_start": round(os.getloadavg()[0], 2)}
        fleet = start_fleet(folder / "fleet", args.devices, recording)
        try:
            results["console"] = asyncio.run(
                console_phase(folder, folder / "fleet", args.devices, args.seconds, args.press_every, fleet.pid))
            log.info("console: %s", json.dumps(results["console"]))
            if not args.skip_peer:
                results["peer"] = peer_phase(folder, folder / "fleet", args.seconds, fleet.pid)
                log.info("peer: %s", json.dumps(results["peer"]))
        finally:
            stop_process(fleet)
    results["load_at_end"] = round(os.getloadavg()[0], 2)

    text = json.dumps(results, indent=1)
    if args.output:
        args.output.write_text(text + "\n")
    print(markdown(results))
    print(text)
    return 0


def markdown(results: dict) -> str:
    """Return the main numbers as a Markdown table with the targets."""
    console, keys = results["console"], results["console"]["keys"]["all"]
    info = results["machine"]
    lines = [f"Machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}, textual {info['textual']}, "
             f"asyncssh {info['asyncssh']}; {results['devices']} devices, {results['mode']}, "
             f"{console['seconds']:.0f} s", "",
             "| measure | edgetui console (TUI + collector) | peer: one `ssh` per device | target |",
             "| --- | --- | --- | --- |"]
    peer = results.get("peer", {})
    lines.append(f"| CPU, % of one core | {console['cpu_percent_of_one_core']} | "
                 f"{peer.get('cpu_percent_of_one_core', 'n/a')} | under 25 |")
    lines.append(f"| peak memory, MiB (PSS; console peak RSS {console['peak_rss_mib']}) | {console['peak_pss_mib']} | "
                 f"{peer.get('peak_pss_mib', 'n/a')} | under 300 MB |")
    lines.append(f"| key press to frame, p50 / p95 / max ms ({keys['count']} presses, "
                 f"{len(results['console']['keys']['missed'])} unanswered) | {keys['p50_ms']} / {keys['p95_ms']} / "
                 f"{keys['max_ms']} | n/a | within 100 ms |")
    peer_lost = peer.get("lost", {})
    lines.append(f"| samples lost (of those made) | {console['lost']['total']} of {console['lost']['expected']} | "
                 f"{peer_lost.get('total', 'n/a')} of {peer_lost.get('expected', 'n/a')} | zero |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
