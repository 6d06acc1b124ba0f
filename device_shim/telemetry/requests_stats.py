"""Per-request measurements of the inference server, and the window source that the sampler reads each interval."""

import threading
import time

# Latencies kept per sampler window. At 1 s intervals this is far above the
# request rate of one device, so it only bounds memory when the sampler stops
# reading. Requests and errors are still counted past it.
MAX_WINDOW_LATENCIES = 100000


class RequestStats(object):
    """Counts of inference requests and errors, in total and since the last window; safe from many threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.since = time.time()
        self.total_requests = 0
        self.total_errors = 0
        self.window_requests = 0
        self.window_errors = 0
        self.window_latencies = []

    def record(self, latency_ms, error):
        """Count one finished inference request; error is True when its reply had a 4xx or 5xx status."""
        with self.lock:
            self.total_requests += 1
            self.window_requests += 1
            if error:
                self.total_errors += 1
                self.window_errors += 1
            if len(self.window_latencies) < MAX_WINDOW_LATENCIES:
                self.window_latencies.append(latency_ms)

    def totals(self):
        """Return {"requests", "errors", "since"} counted since the server started."""
        with self.lock:
            return {"requests": self.total_requests, "errors": self.total_errors, "since": self.since}

    def take_window(self):
        """Return (requests, errors, latencies in ms) since the last call, and start a new window."""
        with self.lock:
            window = (self.window_requests, self.window_errors, self.window_latencies)
            self.window_requests = 0
            self.window_errors = 0
            self.window_latencies = []
        return window


def make_window_source(stats, holder):
    """Return the window_source() callable that the sampler calls once per interval.

    It returns {"requests", "errors", "latencies_ms", "release", "serving",
    "drift_psi", "drift_input_psi"} for the requests finished since its last
    call, and starts a new window.
    """

    def window_source():
        requests, errors, latencies = stats.take_window()
        model = holder.current
        drift_psi, drift_input_psi = (None, None) if model is None else model.drift.values()
        return {
            "requests": requests,
            "errors": errors,
            "latencies_ms": latencies,
            "release": None if model is None else model.release,
            "serving": model is not None,
            "drift_psi": drift_psi,
            "drift_input_psi": drift_input_psi,
        }

    return window_source
