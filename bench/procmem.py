"""Sample the memory of a whole process tree while it runs.

Peak memory is the largest sum of PSS (proportional set size) over the tree, so
pages shared between forked workers are counted once in total rather than once
per process. Linux only: it reads /proc/PID/smaps_rollup.
"""

import resource
import subprocess
import threading
import time
from pathlib import Path


def _children(pid: int) -> list[int]:
    """Return the direct children of ``pid``."""
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            continue
    return kids


def tree_pids(root: int) -> list[int]:
    """Return ``root`` and all its descendants."""
    pids, pending = [], [root]
    while pending:
        pid = pending.pop()
        pids.append(pid)
        pending += _children(pid)
    return pids


def pss_kib(pid: int) -> int:
    """Return the PSS of one process in KiB, or 0 when it has exited."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class TreeSampler:
    """Record the peak PSS of a process tree every ``interval`` seconds."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_kib = 0
        self.peak_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "TreeSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = tree_pids(self.pid)
            total = sum(pss_kib(pid) for pid in pids)
            if total > self.peak_kib:
                self.peak_kib = total
            self.peak_processes = max(self.peak_processes, len(pids))
            self._stop.wait(self.interval)


def run_measured(command: list[str], env: dict | None = None, cwd: Path | None = None):
    """Run ``command``; return (seconds, peak PSS in MiB, peak process count, result, CPU s).

    CPU seconds are user plus system time of the command and every descendant
    it waited for, so they count the tool's own work, not the devices'.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    with TreeSampler(process.pid) as sampler:
        stdout, stderr = process.communicate()
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    return seconds, sampler.peak_kib / 1024, sampler.peak_processes, result, cpu
