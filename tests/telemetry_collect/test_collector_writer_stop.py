"""Stopping the telemetry writer while a write runs: the write finishes before the stop returns.

The app closes the store right after the collector stops, so a write still
running in its worker thread would fail on a closed database and lose its
batch.
"""

from __future__ import annotations

import asyncio
import threading

from edgetui.telemetry import TelemetryStore, parse_line
from edgetui.telemetry.collector_writer import TelemetryWriter


class SlowStore(TelemetryStore):
    """A real store whose ingest waits until the test lets it go, so a write is caught mid-way."""

    def __init__(self, path) -> None:
        super().__init__(path)
        self.started = threading.Event()
        self.release = threading.Event()

    def ingest(self, *args, **kwargs):
        self.started.set()
        self.release.wait(timeout=30)
        return super().ingest(*args, **kwargs)


def sample_line(seq: int) -> str:
    return (
        '{"type": "sample", "stream": "00112233aabbccdd", "seq": %d, "ts": 1000.0, "interval_s": 1.0, '
        '"requests": 2, "errors": 0, "latency_ms_p50": 3.0, "latency_ms_p95": 4.0, "latency_ms_p99": 5.0, '
        '"cpu_percent": null, "mem_used_mb": null, "mem_total_mb": null, "temp_c": null, '
        '"disk_free_mb": null, "disk_used_percent": null, "release": "demo-1.0.0-0123456789ab", '
        '"serving": true, "drift_psi": null, "drift_input_psi": null}' % seq
    )


async def test_cancelled_flush_waits_for_its_write(tmp_path):
    store = SlowStore(tmp_path / "fleet.db")
    writer = TelemetryWriter(store, online=dict, on_written=lambda device, result: None)
    writer.add_sample("rpi-a", parse_line(sample_line(1)), received_at=1000.0, clock_offset_s=0.0)

    flush = asyncio.create_task(writer.flush())
    started = await asyncio.to_thread(store.started.wait, 30)
    flush.cancel()
    # While the write is held, the cancelled flush must not return: the caller would close the store.
    returned_early, _ = await asyncio.wait({flush}, timeout=0.3)
    store.release.set()
    await asyncio.gather(flush, return_exceptions=True)
    stored = store.last_seq("rpi-a", "00112233aabbccdd")
    store.close()

    assert started
    assert not returned_early
    assert flush.cancelled()
    assert stored == 1
