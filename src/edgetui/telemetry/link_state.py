"""LinkState: how one device's telemetry stream is doing, and the reconnect backoff behind it."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

LinkStateName = Literal["connecting", "streaming", "offline", "error", "unsupported"]

UNSUPPORTED_RETRY_S = 600.0
"""Seconds between two attempts on an "unsupported" device, in case python3 gets installed on it."""


@dataclass(frozen=True)
class LinkState:
    """A snapshot of one device's telemetry link, as the collector reports it to the TUI and the CLI.

    ``offline`` means the device could not be reached or its stream ended, and
    ``error`` means a failure that retrying alone does not fix, such as a
    rejected key. The collector retries both with backoff. ``unsupported``
    means the device cannot run the stream at all because python3 is missing
    (``last_error`` gives the reason); the collector retries it only every
    UNSUPPORTED_RETRY_S seconds. The
    counters cover the collector's lifetime: ``samples`` new samples received,
    ``duplicates`` samples received again, ``gaps`` jumps in seq and
    ``dropped`` samples the device's spool reported lost (both as the store
    counts them, once per seq), and ``garbage`` lines that were not valid
    telemetry. ``clock_offset_s`` is this computer's clock minus the device's.
    """

    state: LinkStateName = "connecting"
    last_received_at: float | None = None
    last_error: str | None = None
    reconnects: int = 0
    samples: int = 0
    duplicates: int = 0
    gaps: int = 0
    garbage: int = 0
    dropped: int = 0
    stream: str | None = None
    clock_offset_s: float | None = None


class Backoff:
    """Exponential reconnect delays with jitter: ``initial`` doubling up to ``maximum`` seconds.

    Each delay is the current step times a random factor in [0.5, 1.5), so 200
    devices that dropped at once do not reconnect at once. reset() starts over
    at ``initial``; the collector calls it after a link stayed healthy a while.
    """

    def __init__(self, initial: float = 0.5, maximum: float = 30.0, rng: random.Random | None = None) -> None:
        if initial <= 0 or maximum < initial:
            raise ValueError(f"Invalid backoff: initial {initial} s must be > 0 and at most maximum {maximum} s")
        self.initial = initial
        self.maximum = maximum
        self._step = initial
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        """Return the delay before the next attempt and double the step for the one after."""
        delay = min(self._step * self._rng.uniform(0.5, 1.5), self.maximum)
        self._step = min(self._step * 2, self.maximum)
        return delay

    def reset(self) -> None:
        """Start again from the initial delay."""
        self._step = self.initial
