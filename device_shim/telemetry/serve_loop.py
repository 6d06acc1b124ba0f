"""The foreground serve: lock, HTTP server, sampler, and the loop that reloads and stops on signals."""

import logging
import os
import signal
import socket
import time

from device_shim.telemetry.detach import START_WAIT_S, detach, wait_for_running
from device_shim.telemetry.inference import InferenceApp
from device_shim.telemetry.model import ModelHolder
from device_shim.telemetry.requests_stats import RequestStats, make_window_source
from device_shim.telemetry.serve_files import ServeFiles
from device_shim.telemetry.server import HOST, start_server, stop_server

log = logging.getLogger("device_shim.telemetry.serve")

LINK_CHECK_S = 1.0
TICK_S = 0.1


class SignalFlags(object):
    """Flags that the signal handlers set and the main loop reads.

    The handlers only assign attributes: taking a lock (Event.set) inside a
    handler can deadlock when the signal lands while the main thread holds it.
    """

    def __init__(self):
        self.stop_signal = None
        self.reload_requested = False

    def install(self):
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        signal.signal(signal.SIGHUP, self._reload)

    def _stop(self, number, frame):
        self.stop_signal = number

    def _reload(self, number, frame):
        self.reload_requested = True

    def take_reload(self):
        requested = self.reload_requested
        self.reload_requested = False
        return requested


def serve(layout, settings):
    """Run serve for layout with checked settings; return (reply, exit status)."""
    files = ServeFiles(layout)
    if settings.detach:
        return detach(layout, files, settings, log)
    if not files.try_lock():
        log.info("another serve has the lock %s; waiting for it to listen", files.lock_file)
        return wait_for_running(files, time.monotonic() + START_WAIT_S)
    try:
        return run_foreground(layout, files, settings)
    finally:
        files.unlock()


def bind(files, settings, app):
    """Start the HTTP server on --port, else on the previous serve's port when free, else on a port the OS chooses."""
    if settings.port:
        return start_server(settings.port, app)
    previous = files.read_state() or {}
    port = previous.get("port")
    if isinstance(port, int) and 0 < port <= 65535:
        try:
            return start_server(port, app)
        except OSError as exc:
            log.info("the previous port %d cannot be bound (%s); letting the OS choose one", port, exc)
    return start_server(0, app)


def start_sampler(layout, holder, stats, settings):
    """Start the telemetry sampler thread; return it, or None when it could not start."""
    from device_shim.telemetry.sampler import start_sampler as start

    try:
        return start(layout, make_window_source(stats, holder), settings.interval, settings.spool_max_samples)
    except Exception:  # noqa: BLE001 - inference keeps serving when the spool cannot be written
        log.exception("the telemetry sampler did not start; serving without telemetry samples")
        return None


def run_foreground(layout, files, settings):
    """Serve until SIGTERM or SIGINT; the caller holds the serve lock."""
    pid = os.getpid()
    log.info("serve starting on %s for home %s", socket.gethostname(), layout.home)
    flags = SignalFlags()
    # Handlers first: activation may send SIGHUP as soon as serve.pid exists,
    # and SIGHUP's default action would end the process.
    flags.install()
    files.write_pid(pid)
    try:
        return serve_until_stopped(layout, files, settings, flags, pid)
    finally:
        files.remove_own(pid)


def serve_until_stopped(layout, files, settings, flags, pid):
    """Load the release, listen, write serve.json, start the sampler, and watch until a stop signal."""
    holder = ModelHolder(layout, settings.intra_op_threads)
    holder.reload("start")
    stats = RequestStats()
    try:
        server = bind(files, settings, InferenceApp(holder, stats))
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", HOST, settings.port, exc)
        return {
            "ok": False,
            "code": "port_in_use",
            "error": "cannot listen on {}:{}: {}; choose another --port or leave it out".format(
                HOST, settings.port, exc
            ),
        }, 1

    sampler = None
    try:
        state = {"pid": pid, "host": HOST, "port": server.server_address[1], "started": time.time(), "release": None}
        publish_release(files, state, holder)
        sampler = start_sampler(layout, holder, stats, settings)
        watch(flags, holder, files, state)
    finally:
        stop_server(server)
        if sampler is not None:
            sampler.stop()
    log.info("serve stopped by signal %d", flags.stop_signal)
    return {"ok": True, "stopped": True}, 0


def publish_release(files, state, holder):
    """Write serve.json with the serving release."""
    model = holder.current
    state["release"] = None if model is None else model.release
    files.write_state(state)


def watch(flags, holder, files, state):
    """Reload on SIGHUP and when `current` changes, until a stop signal arrives."""
    next_link_check = time.monotonic() + LINK_CHECK_S
    while flags.stop_signal is None:
        reason = None
        if flags.take_reload():
            reason = "SIGHUP"
        elif time.monotonic() >= next_link_check:
            next_link_check = time.monotonic() + LINK_CHECK_S
            if holder.link_changed():
                reason = "the current link changed"
        if reason is not None:
            holder.reload(reason)
            model = holder.current
            if state["release"] != (None if model is None else model.release):
                publish_release(files, state, holder)
            continue
        time.sleep(TICK_S)
