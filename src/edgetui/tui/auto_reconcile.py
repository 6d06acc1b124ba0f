"""The TUI's automatic reconcile: a timer that updates devices whose desired release differs from their current one."""

import logging
from typing import TYPE_CHECKING

from textual.timer import Timer
from textual.worker import Worker

from edgetui.tui.messages import ReconcileFinished

if TYPE_CHECKING:
    from edgetui.tui.app import EdgetuiApp

log = logging.getLogger("edgetui.tui")

RECONCILE_GROUP = "reconcile"
"""Worker group of automatic reconcile runs."""

BUSY_GROUPS = frozenset({"deploy", "rollback"})
"""Worker groups that update devices themselves; a reconcile tick waits while one of them runs."""

QUIET_STATES = frozenset({"in_sync", "offline"})
"""Reconcile results that changed nothing and so show no notification."""


class AutoReconcile:
    """Start a reconcile worker every ``interval`` seconds while the app runs, one at a time."""

    def __init__(self, app: "EdgetuiApp", interval: float) -> None:
        self.app = app
        self.interval = interval
        self.timer: Timer | None = None
        self.last_error: str | None = None

    def start(self) -> None:
        """Check once now, then every interval; an interval of 0 or less turns it off."""
        if self.interval <= 0:
            log.info("automatic reconcile is off")
            return
        self.tick()
        self.timer = self.app.set_interval(self.interval, self.tick, name="auto-reconcile")

    def tick(self) -> Worker | None:
        """Start a reconcile worker unless one runs, a deploy or rollback runs, or every device is in sync."""
        busy = any(worker.group in BUSY_GROUPS | {RECONCILE_GROUP} and not worker.is_finished
                   for worker in self.app.workers)
        if busy or not self.app.fleet.out_of_sync_devices():
            return None
        # exclusive never cancels a running reconcile here, because the check above skips the tick instead.
        return self.app.run_worker(self._reconcile(), group=RECONCILE_GROUP, exclusive=True,
                                   description="reconcile devices to their desired release", exit_on_error=False)

    async def _reconcile(self) -> list[dict]:
        """Run `Fleet.reconcile` and post its results when it changed something; log a failure once."""
        try:
            results = await self.app.fleet.reconcile()
        except Exception as error:  # noqa: BLE001 - the next tick retries, so the failure is reported, not raised
            self._report_failure(f"{type(error).__name__}: {error}")
            return []
        self.last_error = None
        changed = [result for result in results if result["state"] not in QUIET_STATES]
        log.info("automatic reconcile: %d device(s) checked, %d changed", len(results), len(changed))
        if changed:
            self.app.post_message(ReconcileFinished(changed))
        return results

    def _report_failure(self, text: str) -> None:
        """Notify about a failed run, but only when the error differs from the last one, so a tick does not repeat it."""
        log.error("automatic reconcile failed: %s", text)
        if text != self.last_error:
            self.app.notify(text, title="Automatic reconcile failed", severity="error", timeout=10, markup=False)
        self.last_error = text
