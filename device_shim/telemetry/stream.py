"""The `stream` command: a hello line, the spooled samples after --after, then each new one, as JSON lines.

It runs until stdout breaks or stdin reaches EOF. Over SSH both mean that the
channel closed, and stdin EOF is the one that shows while the device is quiet.
The command prints nothing after its lines: its handler returns no reply.
"""

import errno
import json
import logging
import os
import sys
import threading
import time

from device_shim import __version__
from device_shim.release.paths import Layout
from device_shim.release.processes import runs_with_argument
from device_shim.telemetry.spool import spool_status
from device_shim.telemetry.spool_reader import SpoolReader
from device_shim.telemetry.state import STREAM_ID_PATTERN, SpoolLockTimeout, TelemetryPaths

LOG = logging.getLogger(__name__)

OPTIONS = ("home", "after", "stream")
EXIT_USAGE = 2

POLL_S = 0.2
HEARTBEAT_AFTER_S = 5.0
SERVE_ARGUMENT = "serve"


class OutputClosed(Exception):
    """stdout is closed: the reader of the stream has gone."""


class LineOutput(object):
    """Writes one JSON line at a time to a binary stream and flushes it."""

    def __init__(self, binary):
        self.binary = binary
        self.last_write = time.monotonic()

    def write_line(self, text):
        try:
            self.binary.write(text.encode("ascii", "backslashreplace") + b"\n")
            self.binary.flush()
        except (IOError, OSError, ValueError) as exc:
            # ValueError: the stream was closed from this side.
            if isinstance(exc, ValueError) or exc.errno in (errno.EPIPE, errno.ECONNRESET, errno.EBADF):
                raise OutputClosed(str(exc))
            raise
        self.last_write = time.monotonic()

    def write_object(self, value):
        self.write_line(json.dumps(value, separators=(",", ":")))


def watch_stdin(descriptor, closed):
    """Set closed when the stdin descriptor reaches EOF or fails; run in a daemon thread.

    It reads the raw descriptor: a daemon thread blocked inside sys.stdin's
    buffered reader makes the interpreter abort at exit (the buffer's lock is
    still held), when stream ends because stdout broke.
    """
    try:
        while os.read(descriptor, 4096):
            pass
    except OSError:
        pass
    closed.set()


def start_stdin_watcher():
    """Return an Event that a daemon thread sets when stdin reaches EOF."""
    closed = threading.Event()
    try:
        descriptor = sys.stdin.fileno()
    except (AttributeError, ValueError, OSError):
        # No stdin at all: only a broken stdout ends the stream.
        return closed
    watcher = threading.Thread(target=watch_stdin, args=(descriptor, closed), name="stdin-eof")
    watcher.daemon = True
    watcher.start()
    return closed


def parse_after(value):
    """Return --after as an int >= 0, or raise ValueError naming the value."""
    try:
        after = int(value)
    except (TypeError, ValueError):
        raise ValueError("--after must be a seq (an integer >= 0), got {!r}".format(value))
    if after < 0:
        raise ValueError("--after must be a seq (an integer >= 0), got {!r}".format(value))
    return after


def serve_is_running(layout):
    """Return True when serve.pid names a live process whose command line contains `serve`."""
    try:
        with open(layout.serve_pid_file, "r") as handle:
            pid = int(handle.read().strip())
    except (IOError, OSError, ValueError):
        return False
    return runs_with_argument(pid, SERVE_ARGUMENT)


def ensure_serve(layout):
    """Start `serve --detach yes` when none runs; failures are logged to stderr, and stream goes on."""
    if serve_is_running(layout):
        return
    # Imported here: commands imports this module.
    from device_shim.commands import COMMANDS

    command = COMMANDS.get("serve")
    if command is None:
        LOG.warning("serve is not running in %s and this shim has no serve command; no new samples will come", layout.home)
        return
    LOG.info("serve is not running in %s; starting it", layout.home)
    try:
        reply, status = command["handler"]({"home": layout.home, "detach": "yes"})
    except Exception:  # noqa: BLE001 - the stream still replays what the spool holds
        LOG.exception("starting serve in %s failed", layout.home)
        return
    if status != 0 or not reply.get("ok"):
        LOG.warning("starting serve in %s failed: %s", layout.home, reply.get("error") or reply)


def configure_logging():
    """Send the shim's warnings to stderr, unless something configured the device_shim logger already.

    Only warnings: over SSH, stderr shares the channel's flow-control window
    with stdout, so a console that does not read stderr would stall the
    stream once enough log text piled up. Configuring the device_shim logger
    here also keeps serve's INFO logging off stream's stderr when stream
    starts serve.
    """
    logger = logging.getLogger("device_shim")
    if logger.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s stream[%(process)d] %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)


def hello_line(status):
    return {
        "type": "hello",
        "stream": status["stream"],
        "next_seq": status["next_seq"],
        "oldest_seq": status["oldest_seq"],
        "dropped_total": status["dropped_total"],
        "device_ts": time.time(),
        "shim": __version__,
    }


def follow(reader, output, closed):
    """Print the reader's lines until stdin closes; heartbeat after HEARTBEAT_AFTER_S without a line."""
    while not closed.is_set():
        lines = reader.read_available()
        for line in lines:
            output.write_line(line)
        if lines:
            continue
        if time.monotonic() - output.last_write >= HEARTBEAT_AFTER_S:
            output.write_object({"type": "heartbeat", "device_ts": time.time()})
        closed.wait(POLL_S)


def silence_stdout():
    """Point the stdout descriptor at /dev/null, so the interpreter's final flush finds no broken pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def run_stream(options):
    """Run the `stream` command; return (None, 0) after the lines, or an error reply before any line."""
    configure_logging()
    try:
        after = parse_after(options["after"]) if "after" in options else None
    except ValueError as exc:
        return {"ok": False, "code": "invalid_request", "error": str(exc)}, EXIT_USAGE
    requested_stream = options.get("stream")
    if requested_stream is not None and not STREAM_ID_PATTERN.match(requested_stream):
        # Another format can never be this device's stream: replay everything, as for another id.
        LOG.warning("--stream %r is not a stream id (16 lowercase hex digits); replaying all samples", requested_stream)

    layout = Layout(options.get("home"))
    paths = TelemetryPaths(layout)
    ensure_serve(layout)

    try:
        status = spool_status(paths)
    except (IOError, OSError, SpoolLockTimeout) as exc:
        LOG.error("reading the spool state in %s failed: %s", paths.root, exc)
        return {"ok": False, "code": "spool_unavailable", "error": "reading {} failed: {}".format(paths.root, exc)}, 1
    # A console that has samples of another stream (the device's state was
    # reset) gets every sample of this one.
    if after is None or (requested_stream is not None and requested_stream != status["stream"]):
        after = 0
    output = LineOutput(sys.stdout.buffer)
    closed = start_stdin_watcher()
    reader = SpoolReader(paths, status["stream"], after)
    LOG.info("stream %s started in %s after seq %d", status["stream"], layout.home, after)
    try:
        output.write_object(hello_line(status))
        follow(reader, output, closed)
        LOG.info("stream %s ended: stdin closed", status["stream"])
    except OutputClosed:
        LOG.info("stream %s ended: stdout closed", status["stream"])
        silence_stdout()
    except KeyboardInterrupt:
        LOG.info("stream %s interrupted", status["stream"])
    finally:
        reader.close()
    return None, 0
