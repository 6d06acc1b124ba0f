"""SSH sessions of a simulated device: each one is a real /bin/sh subprocess.

Three copy tasks of our own join the channel and the subprocess. asyncssh's
`process.redirect(...)` dropped sessions under concurrent load (13 of 20 in a
test on the development machine). The tasks are also the one place that
propagates EOF, forwards signals and kills the command on an early close.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from asyncio.subprocess import PIPE, Process

import asyncssh

from sample_fleet.device import SimulatedDevice
from sample_fleet.faults import ActivationKiller, TokenBucket, is_activation
from sample_fleet.recorded import RecordedStreams, stream_arguments

logger = logging.getLogger("sample_fleet")

_CHUNK_SIZE = 64 * 1024
_CHANNEL_ERRORS = (BrokenPipeError, ConnectionError, asyncssh.Error)


class SessionTracker:
    """The session subprocesses that are running, so that a stop can kill them."""

    def __init__(self) -> None:
        self._running: dict[Process, asyncio.Task | None] = {}

    def add(self, child: Process) -> None:
        """Record a started subprocess and the task that waits for it."""
        self._running[child] = asyncio.current_task()

    def discard(self, child: Process) -> None:
        """Forget a subprocess that has exited."""
        self._running.pop(child, None)

    def kill_all(self) -> None:
        """Kill the process group of every running session subprocess."""
        for child in list(self._running):
            kill_process_group(child)

    async def wait_idle(self, timeout: float) -> None:
        """Wait until the session tasks have reaped their killed subprocesses."""
        tasks = [task for task in self._running.values() if task is not None and not task.done()]
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)


def kill_process_group(child: Process) -> None:
    """Send SIGKILL to the process group that `child` leads.

    Each session subprocess starts its own session (setsid), so its group contains
    the commands it started too, and nothing outside it.
    """
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


async def run_session(
    device: SimulatedDevice,
    tracker: SessionTracker,
    process: asyncssh.SSHServerProcess,
    recorded: RecordedStreams | None = None,
) -> None:
    """Run the session's command (or an interactive shell) and send its exit status.

    With `recorded`, a command that runs the shim's `stream` is answered in
    this process from the recording, and no subprocess starts.
    """
    command = process.command
    if recorded is not None and stream_arguments(command) is not None:
        await recorded.serve_session(device, process, stream_arguments(command))
        return
    argv = ["/bin/sh", "-c", command] if command is not None else ["/bin/sh", "-i"]
    label = repr(command) if command is not None else "interactive shell"
    logger.info("%s: session start: %s", device.name, label)
    faults = device.faults.current()
    killer = None
    if faults.kill_on_activate and is_activation(command):
        killer = ActivationKiller(device.faults, faults, device.home)

    try:
        child = await asyncio.create_subprocess_exec(
            *argv,
            stdin=PIPE,
            stdout=PIPE,
            stderr=PIPE,
            env=device.session_environment() | faults.environment(),
            cwd=device.home,
            start_new_session=True,
        )
    except OSError as exc:
        logger.error("%s: failed to start /bin/sh: %s", device.name, exc)
        _send_exit(process, 127, None, f"sample_fleet: failed to start /bin/sh: {exc}\n")
        return

    tracker.add(child)
    killer_task = None
    if killer is not None:
        killer_task = asyncio.create_task(killer.run(lambda: kill_process_group(child)))
    try:
        returncode = await _relay(process, child, device.faults.uplink)
    finally:
        if killer_task is not None:
            killer_task.cancel()
        tracker.discard(child)

    if returncode < 0:
        signal_name = signal.Signals(-returncode).name.removeprefix("SIG")
        logger.info("%s: session exit: killed by SIG%s", device.name, signal_name)
        _send_exit(process, None, signal_name, None)
    else:
        logger.info("%s: session exit: status %d", device.name, returncode)
        _send_exit(process, returncode, None, None)


async def _relay(process: asyncssh.SSHServerProcess, child: Process, uplink: TokenBucket) -> int:
    """Copy data both ways until the subprocess and its output pipes are done."""
    stdin_task = asyncio.create_task(_copy_stdin(process, child, uplink))
    outputs = asyncio.gather(
        _copy_output(child.stdout, process.stdout),
        _copy_output(child.stderr, process.stderr),
    )
    closed = asyncio.create_task(process.wait_closed())
    exited = asyncio.create_task(child.wait())

    try:
        await asyncio.wait({exited, closed}, return_when=asyncio.FIRST_COMPLETED)
        if not exited.done():
            # The client closed the channel before the command finished.
            kill_process_group(child)
        returncode = await exited

        # A background command may still hold stdout open, as with sshd; an
        # early close of the channel ends it too.
        await asyncio.wait({outputs, closed}, return_when=asyncio.FIRST_COMPLETED)
        if not outputs.done():
            kill_process_group(child)
        await outputs
        return returncode
    finally:
        for task in (stdin_task, closed, exited):
            task.cancel()
        outputs.cancel()


async def _copy_stdin(process: asyncssh.SSHServerProcess, child: Process, uplink: TokenBucket) -> None:
    """Copy the channel's input to the subprocess at the uplink's rate, then close its stdin (EOF)."""
    assert child.stdin is not None
    while True:
        try:
            data = await process.stdin.read(_CHUNK_SIZE)
        except asyncssh.SignalReceived as exc:
            _forward_signal(child, exc.signal)
            continue
        except (asyncssh.BreakReceived, asyncssh.TerminalSizeChanged):
            continue
        except _CHANNEL_ERRORS:
            break
        if not data:
            break
        await uplink.consume(len(data))
        try:
            child.stdin.write(data)
            await child.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            # The command exited or closed its stdin, so the rest of the input has no reader.
            return
    child.stdin.close()


async def _copy_output(reader: asyncio.StreamReader | None, writer: asyncssh.SSHWriter) -> None:
    """Copy one output pipe of the subprocess to the channel until the pipe's EOF."""
    assert reader is not None
    channel_open = True
    while True:
        data = await reader.read(_CHUNK_SIZE)
        if not data:
            return
        if not channel_open:
            # Keep reading so that the command does not block on a full pipe before the kill ends it.
            continue
        try:
            writer.write(data)
            await writer.drain()
        except _CHANNEL_ERRORS:
            channel_open = False


def _forward_signal(child: Process, name: str) -> None:
    signum = getattr(signal, "SIG" + name, None)
    if not isinstance(signum, signal.Signals):
        return
    try:
        os.killpg(child.pid, signum)
    except ProcessLookupError:
        pass


def _send_exit(process: asyncssh.SSHServerProcess, status: int | None, signal_name: str | None, message: str | None) -> None:
    if process.is_closing():
        return
    try:
        if message:
            process.stderr.write(message.encode())
        if signal_name is not None:
            process.exit_with_signal(signal_name)
        else:
            process.exit(status if status is not None else 1)
    except _CHANNEL_ERRORS:
        # The client disconnected after the check, so no channel is left for the status.
        pass
