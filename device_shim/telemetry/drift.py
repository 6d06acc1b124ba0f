"""Drift: the population stability index (PSI) of recent model inputs and outputs against the release's reference.

The manifest's "reference" object summarizes each output (under "outputs")
and each input (under "input_stats") over the release's sample inputs, with a
10-bin histogram {"edges": [11 floats], "counts": [10 ints]}. The server bins
the values of every request over the same edges, keeps the counts of the last
WINDOW_REQUESTS requests per name, and compares their fractions with the
reference fractions:

    PSI = sum over bins of (a - e) * ln(a / e)

where a is the recent fraction and e the reference fraction, both floored at
FRACTION_FLOOR so that an empty bin does not give an infinite term.
drift_psi is the maximum over outputs and drift_input_psi the maximum over
inputs. Both are None until a name has MIN_REQUESTS requests since the release
loaded, or when the reference has no histogram.
"""

import collections
import math
import threading

WINDOW_REQUESTS = 300
MIN_REQUESTS = 30
FRACTION_FLOOR = 1e-4
# Values binned per tensor and request. A larger tensor is sampled with an
# even stride, which keeps the bin fractions close to those of all its values
# and bounds the cost per request.
MAX_VALUES_PER_TENSOR = 65536


def psi(expected_counts, actual_counts):
    """Return the PSI of actual_counts against expected_counts (same bins), or None when either is empty."""
    expected_total = float(sum(expected_counts))
    actual_total = float(sum(actual_counts))
    if expected_total <= 0 or actual_total <= 0:
        return None
    total = 0.0
    for expected, actual in zip(expected_counts, actual_counts):
        e = max(expected / expected_total, FRACTION_FLOOR)
        a = max(actual / actual_total, FRACTION_FLOOR)
        total += (a - e) * math.log(a / e)
    return total


def reference_histograms(summaries):
    """Return {name: (edges, counts)} for the summaries that carry a usable histogram."""
    histograms = {}
    if not isinstance(summaries, dict):
        return histograms
    for name, summary in summaries.items():
        histogram = summary.get("histogram") if isinstance(summary, dict) else None
        if not isinstance(histogram, dict):
            continue
        edges = histogram.get("edges")
        counts = histogram.get("counts")
        if not _is_number_list(edges) or not _is_number_list(counts):
            continue
        if len(edges) != len(counts) + 1 or len(counts) < 1 or sum(counts) <= 0:
            continue
        histograms[name] = ([float(edge) for edge in edges], [float(count) for count in counts])
    return histograms


def _is_number_list(value):
    return isinstance(value, list) and all(
        isinstance(item, (int, float)) and not isinstance(item, bool) for item in value
    )


class NameWindow(object):
    """The bin counts of one input or output over its last WINDOW_REQUESTS requests, with their running sum."""

    def __init__(self, edges, reference_counts):
        self.edges = edges
        self.reference_counts = reference_counts
        self.recent = collections.deque()
        self.sums = [0] * len(reference_counts)

    def add(self, counts):
        self.recent.append(counts)
        for index, count in enumerate(counts):
            self.sums[index] += count
        if len(self.recent) > WINDOW_REQUESTS:
            dropped = self.recent.popleft()
            for index, count in enumerate(dropped):
                self.sums[index] -= count

    def psi(self):
        if len(self.recent) < MIN_REQUESTS:
            return None
        return psi(self.reference_counts, self.sums)


def bin_counts(numpy, value, edges):
    """Count the finite values of a numeric array in the bins between edges.

    Values below the first edge count in bin 0 and values above the last edge
    in the last bin. Inside, bins are half-open [e_i, e_i+1) except the last,
    which includes its right edge, as numpy.histogram made the reference.
    Returns None for a value that is not a numeric array.
    """
    if not isinstance(value, numpy.ndarray) or value.dtype.kind not in "biuf":
        return None
    flat = value.ravel()
    if flat.size > MAX_VALUES_PER_TENSOR:
        stride = -(-flat.size // MAX_VALUES_PER_TENSOR)
        flat = flat[::stride]
    flat = flat.astype(numpy.float64)
    finite = flat[numpy.isfinite(flat)]
    inner_edges = numpy.asarray(edges[1:-1], dtype=numpy.float64)
    indices = numpy.searchsorted(inner_edges, finite, side="right")
    counts = numpy.bincount(indices, minlength=len(edges) - 1)
    return [int(count) for count in counts]


class DriftTracker(object):
    """The recent histograms of one loaded release's inputs and outputs; safe to use from many threads."""

    def __init__(self, reference):
        reference = reference if isinstance(reference, dict) else {}
        self.lock = threading.Lock()
        self.outputs = self._windows(reference.get("outputs"))
        self.inputs = self._windows(reference.get("input_stats"))

    @staticmethod
    def _windows(summaries):
        return dict(
            (name, NameWindow(edges, counts)) for name, (edges, counts) in reference_histograms(summaries).items()
        )

    def observe(self, numpy, inputs, outputs):
        """Add one request: inputs and outputs map names to the arrays it sent and received."""
        input_counts = self._counts(numpy, self.inputs, inputs)
        output_counts = self._counts(numpy, self.outputs, outputs)
        with self.lock:
            for name, counts in input_counts:
                self.inputs[name].add(counts)
            for name, counts in output_counts:
                self.outputs[name].add(counts)

    @staticmethod
    def _counts(numpy, windows, values):
        # Binning runs outside the lock because it is the costly step and touches no shared state.
        result = []
        for name, value in values.items():
            window = windows.get(name)
            if window is None:
                continue
            counts = bin_counts(numpy, value, window.edges)
            if counts is not None and sum(counts) > 0:
                result.append((name, counts))
        return result

    def values(self):
        """Return (drift_psi, drift_input_psi): the maximum PSI over outputs and over inputs, or None."""
        with self.lock:
            return _maximum(self.outputs), _maximum(self.inputs)


def _maximum(windows):
    scores = [score for score in (window.psi() for window in windows.values()) if score is not None]
    return round(max(scores), 6) if scores else None
