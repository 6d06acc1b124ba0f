"""The sampler thread inside serve: one sample line per interval, appended to the spool.

Latency percentiles use the nearest-rank method: the p-th percentile of n
sorted values is the value at rank ceil(p / 100 * n), so it is always one
of the measured latencies.
"""

import logging
import math
import threading
import time

from device_shim.telemetry.spool import SpoolWriter
from device_shim.telemetry.system import SYSTEM_FIELDS, SystemMetrics, is_power_of_ten

LOG = logging.getLogger(__name__)

WINDOW_FIELDS = ("requests", "errors", "release", "serving", "drift_psi", "drift_input_psi")
STOP_TIMEOUT_S = 10.0


def percentile(sorted_values, percent):
    """Return the nearest-rank percentile of ascending sorted_values, or None when it is empty."""
    if not sorted_values:
        return None
    rank = int(math.ceil(percent / 100.0 * len(sorted_values)))
    return sorted_values[min(max(rank, 1), len(sorted_values)) - 1]


def finite_or_none(value):
    """Return value when it is a finite number (bool excluded), else None, so a line is always valid JSON."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def latency_fields(window):
    """Return the p50/p95/p99 fields in ms of a window; None when it had no request or no latency."""
    latencies = sorted(
        value for value in (finite_or_none(item) for item in window.get("latencies_ms") or ()) if value is not None
    )
    if not window.get("requests"):
        latencies = []
    fields = {}
    for percent in (50, 95, 99):
        value = percentile(latencies, percent)
        fields["latency_ms_p{}".format(percent)] = round(float(value), 3) if value is not None else None
    return fields


def build_sample(window, system, interval_s, ts):
    """Return a sample dict in the contract's key order; stream and seq are filled in by the spool."""
    sample = {
        "type": "sample",
        "stream": None,
        "seq": None,
        "ts": round(ts, 3),
        "interval_s": interval_s,
        "requests": finite_or_none(window.get("requests")),
        "errors": finite_or_none(window.get("errors")),
    }
    sample.update(latency_fields(window))
    for name in SYSTEM_FIELDS:
        sample[name] = finite_or_none(system.get(name))
    release = window.get("release")
    sample["release"] = release if isinstance(release, str) else None
    serving = window.get("serving")
    sample["serving"] = serving if isinstance(serving, bool) else None
    sample["drift_psi"] = finite_or_none(window.get("drift_psi"))
    sample["drift_input_psi"] = finite_or_none(window.get("drift_input_psi"))
    return sample


class Sampler(object):
    """A daemon thread that writes one sample per interval on a fixed monotonic schedule.

    Ticks are due at start + k * interval, so a slow tick does not push the
    later ones back. Ticks missed entirely (the process was paused) are
    skipped, not made up in a burst.
    """

    def __init__(self, layout, window_source, interval_s=1.0, spool_max_samples=86400, system=None):
        if not isinstance(interval_s, (int, float)) or isinstance(interval_s, bool) or not interval_s > 0:
            raise ValueError("sampler interval_s must be a number > 0, got {!r}".format(interval_s))
        self.layout = layout
        self.window_source = window_source
        self.interval_s = float(interval_s)
        self.spool = SpoolWriter(layout, spool_max_samples, self.interval_s)
        self.system = system if system is not None else SystemMetrics(layout.home)
        self.samples_written = 0
        self._failures = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="edgetui-sampler")
        self._thread.daemon = True

    @property
    def stream(self):
        return self.spool.stream

    @property
    def next_seq(self):
        return self.spool.next_seq

    def start(self):
        """Open the spool (errors are raised here, not in the thread) and start the thread."""
        self.spool.open()
        self._thread.start()
        LOG.info("sampler started for %s: interval %.3f s, stream %s", self.layout.home, self.interval_s, self.stream)
        return self

    def stop(self, timeout=STOP_TIMEOUT_S):
        """Stop the thread, wait for its current tick, and close the spool cleanly."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._thread.is_alive():
            LOG.warning("sampler thread did not stop within %.0f s; the spool is left open", timeout)
            return
        self.spool.close()
        LOG.info("sampler stopped for %s after %d samples", self.layout.home, self.samples_written)

    def _run(self):
        due = time.monotonic() + self.interval_s
        while not self._stop.wait(max(0.0, due - time.monotonic())):
            self.tick()
            due += self.interval_s
            now = time.monotonic()
            if due <= now:
                missed = int((now - due) // self.interval_s) + 1
                LOG.warning("sampler fell %d intervals behind; skipping them", missed)
                due += missed * self.interval_s

    def tick(self):
        """Take one sample and append it; every failure is logged and never ends the thread."""
        ts = time.time()
        try:
            window = self.window_source()
            if not isinstance(window, dict):
                raise TypeError("window_source returned {}, expected a dict".format(type(window).__name__))
        except Exception as exc:  # noqa: BLE001 - the sample is written with nulls
            self._log_failure("window_source", exc)
            window = {}

        try:
            system = self.system.sample()
        except Exception as exc:  # noqa: BLE001 - the sample is written with nulls
            self._log_failure("system metrics", exc)
            system = {}

        try:
            sample = build_sample(window, system, self.interval_s, ts)
            self.spool.append(sample)
            self.samples_written += 1
        except Exception as exc:  # noqa: BLE001 - a full disk must not end the sampler
            self._log_failure("spool append", exc)

    def _log_failure(self, step, exc):
        count = self._failures.get(step, 0) + 1
        self._failures[step] = count
        if is_power_of_ten(count):
            LOG.error(
                "sampler %s failed in %s (%d times so far): %s: %s",
                step,
                self.layout.home,
                count,
                type(exc).__name__,
                exc,
                exc_info=count == 1,
            )


def start_sampler(layout, window_source, interval_s=1.0, spool_max_samples=86400):
    """Start a Sampler for layout (a release.paths.Layout) and return it; call .stop() to end it.

    window_source() returns the window since its previous call: {"requests",
    "errors", "latencies_ms": [...], "release", "serving", "drift_psi",
    "drift_input_psi"}.
    """
    return Sampler(layout, window_source, interval_s, spool_max_samples).start()
