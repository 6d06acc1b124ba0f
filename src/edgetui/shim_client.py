"""Install the device shim on demand and run its commands over SSH.

One round trip runs a short sh line that checks for python3 and for the shim
(``.edgetui/shim/<sha256>/shim.pyz`` under the login folder) and then executes
the shim with the JSON request on stdin. When something is missing, the line
prints a sentinel instead. A missing shim is uploaded and the command runs once
more. A missing python3 makes ``inventory`` fall back to the POSIX sh script.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import shlex
from collections.abc import Sequence
from typing import Any, Protocol

import asyncssh
from pydantic import ValidationError

from edgetui.domain import Device, HardwareFacts
from edgetui.errors import DeviceError
from edgetui.ssh import CommandResult, CommandTimeout, SSHPool

logger = logging.getLogger("edgetui.shim")

SHIM_ROOT = ".edgetui/shim"
SENTINEL_PREFIX = "edgetui-shim-missing:"
MISSING_PYTHON = "python3"
MISSING_SHIM = "shim"
EXCERPT_CHARS = 200
# Shim commands are fixed words such as "inventory"; anything else is a caller bug.
COMMAND_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,63}")


class ShimBundleLike(Protocol):
    """The shim as edgetui.shim_bundle builds it: zipapp bytes, their sha256, and the sh fallback."""

    data: bytes
    sha256: str
    inventory_sh: bytes


class ShimError(DeviceError):
    """The device shim could not run, or its reply was not one valid JSON object."""

    title = "Device shim error"


class PythonMissing(ShimError):
    """The device has no python3 on the login shell's PATH, so the shim cannot run."""

    title = "python3 missing on device"


def shim_path(sha256: str) -> str:
    """Return the shim's path on the device, relative to the login folder."""
    return f"{SHIM_ROOT}/{sha256}/shim.pyz"


def launch_line(sha256: str, command: str, args: Sequence[str] = ()) -> str:
    """Build the sh line that runs the shim, or prints which of python3 and the shim is missing.

    ``args`` follow the command on the shim's command line, each quoted for sh.
    """
    path = shlex.quote(shim_path(sha256))
    words = " ".join(shlex.quote(word) for word in (command, *args))
    return (
        f"if ! command -v python3 >/dev/null 2>&1; then echo {SENTINEL_PREFIX}{MISSING_PYTHON}; exit 0; fi; "
        f"if [ ! -f {path} ]; then echo {SENTINEL_PREFIX}{MISSING_SHIM}; exit 0; fi; "
        f"exec python3 {path} {words}"
    )


def missing_in_line(line: bytes) -> str | None:
    """Return what the launch line reported missing when ``line`` is its sentinel, else None."""
    text = line.strip()
    prefix = SENTINEL_PREFIX.encode()
    if not text.startswith(prefix):
        return None
    return text[len(prefix) :].decode(errors="replace")


def missing_part(result: CommandResult) -> str | None:
    """Return what the launch line reported missing, or None when the shim ran."""
    if result.exit_status != 0:
        return None
    text = result.stdout.strip()
    prefix = SENTINEL_PREFIX.encode()
    if not text.startswith(prefix) or b"\n" in text:
        return None
    return text[len(prefix) :].decode()


def excerpt(data: bytes) -> str:
    """Return the first characters of command output for an error message."""
    text = data.decode("utf-8", errors="replace").strip()
    if len(text) > EXCERPT_CHARS:
        return repr(text[:EXCERPT_CHARS]) + "..."
    return repr(text)


def parse_reply(device: Device, what: str, result: CommandResult) -> dict[str, Any]:
    """Parse the shim's reply: exit status 0 and exactly one JSON object on stdout, else ShimError."""
    problem = None
    reply: Any = None
    if result.exit_status != 0:
        problem = f"exited with status {result.exit_status}"
    elif not result.stdout.strip():
        problem = "printed nothing"
    else:
        try:
            reply = json.loads(result.stdout)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            problem = f"printed invalid JSON ({exc})"
        else:
            if not isinstance(reply, dict):
                problem = f"printed a JSON {type(reply).__name__} instead of an object"
    if problem is None:
        return reply
    message = (
        f"The device shim's {what} on device {device.name} ({device.address}) {problem}; "
        f"exit status {result.exit_status}, stdout {excerpt(result.stdout)}, stderr {excerpt(result.stderr)}. "
        "Run the same command on the device to see the full output, and check its python3 (3.6 or later) "
        "and free disk space."
    )
    raise ShimError(device.name, message)


def facts_from_reply(device: Device, what: str, reply: dict[str, Any]) -> HardwareFacts:
    """Validate an inventory reply as HardwareFacts; unknown keys are ignored, wrong types raise ShimError."""
    try:
        return HardwareFacts.model_validate(reply)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, item['loc']))}: {item['msg']}" for item in exc.errors()[:5])
        message = (
            f"The device shim's {what} reply from device {device.name} ({device.address}) has invalid facts: "
            f"{problems}. Update edgetui and the shim to the same version, then discover again."
        )
        raise ShimError(device.name, message) from exc


def _check_command(command: str) -> None:
    """Raise ValueError for a shim command that is not a plain lower-case word."""
    if not COMMAND_PATTERN.fullmatch(command):
        raise ValueError(f"Invalid shim command {command!r}: expected a lower-case word such as 'inventory'")


class ShimStream:
    """A long-lived shim command's process, with the first line of its output already read.

    Read lines with readline(), which returns the first line once and then the
    process's next lines, and b"" at the end of output. Closing stdin (write_eof)
    makes the shim's stream command stop, and close() ends the channel.
    """

    def __init__(self, process: asyncssh.SSHClientProcess, first_line: bytes | None) -> None:
        self.process = process
        self.first_line = first_line
        self._first_pending = first_line is not None

    async def readline(self) -> bytes:
        """Return the next line of output, with its newline, or b"" when the output has ended."""
        if self._first_pending:
            self._first_pending = False
            assert self.first_line is not None
            return self.first_line
        return await self.process.stdout.readline()

    def write_eof(self) -> None:
        """Close the command's stdin; the shim's stream command stops at EOF."""
        try:
            self.process.stdin.write_eof()
        except (asyncssh.Error, OSError, BrokenPipeError):
            # The channel is already closing; close() finishes it.
            pass

    def close(self) -> None:
        """Close the channel without waiting."""
        self.process.close()

    async def wait_closed(self) -> None:
        """Wait until the channel has closed."""
        await self.process.wait_closed()


class ShimClient:
    """Runs device shim commands through an SSHPool, uploading the shim when a device lacks it."""

    def __init__(self, pool: SSHPool, bundle: ShimBundleLike | None = None, *, timeout: float = 120.0) -> None:
        self._pool = pool
        self._bundle = bundle
        self._timeout = timeout

    @property
    def bundle(self) -> ShimBundleLike:
        """Return the shim bundle, building it from the installed device_shim on first use."""
        if self._bundle is None:
            from edgetui.shim_bundle import build_shim_bundle

            self._bundle = build_shim_bundle()
        return self._bundle

    async def call(
        self, device: Device, command: str, request: dict | None = None, *, args: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Run one shim command with ``request`` as JSON on stdin and return its reply object.

        ``args`` are command-line options of the command, such as ``["--detach", "yes"]``.
        """
        _check_command(command)
        result = await self._launch(device, command, request, args)
        missing = missing_part(result)
        if missing == MISSING_SHIM:
            await self._install(device)
            result = await self._launch(device, command, request, args)
            missing = missing_part(result)
        self._raise_if_missing(device, command, missing)
        return parse_reply(device, f"command {command}", result)

    async def open_stream(
        self, device: Device, command: str = "stream", args: Sequence[str] = (), *, first_line_timeout: float = 90.0
    ) -> ShimStream:
        """Start a long-lived shim command that prints JSON lines, uploading the shim when missing.

        Waits for the first line, because only that line distinguishes a running
        shim from the launch line's sentinel. ``first_line_timeout`` bounds that wait: `stream`
        may first start `serve`, which takes up to 60 s. Raises CommandTimeout
        when no line arrives in time, and ShimError or PythonMissing like call().
        """
        _check_command(command)
        stream = await self._open_stream_once(device, command, args, first_line_timeout)
        missing = missing_in_line(stream.first_line) if stream.first_line is not None else None
        if missing == MISSING_SHIM:
            stream.close()
            await self._install(device)
            stream = await self._open_stream_once(device, command, args, first_line_timeout)
            missing = missing_in_line(stream.first_line) if stream.first_line is not None else None
        if missing is not None:
            stream.close()
        self._raise_if_missing(device, command, missing)
        return stream

    async def _open_stream_once(
        self, device: Device, command: str, args: Sequence[str], first_line_timeout: float
    ) -> ShimStream:
        """Start the launch line as a long-lived process and read its first line."""
        process = await self._pool.start_process(device, launch_line(self.bundle.sha256, command, args))
        try:
            first = await asyncio.wait_for(process.stdout.readline(), first_line_timeout)
        except TimeoutError as exc:
            process.close()
            message = (
                f"The shim command {command} on device {device.name} ({device.address}) printed nothing within "
                f"{first_line_timeout} s. Check the device's load and the shim's logs under .edgetui/telemetry."
            )
            raise CommandTimeout(device.name, message, reason="no first line") from exc
        except (asyncssh.Error, OSError):
            process.close()
            raise
        # An empty read means the process ended before printing anything.
        return ShimStream(process, first if first else None)

    def _raise_if_missing(self, device: Device, command: str, missing: str | None) -> None:
        """Raise PythonMissing or ShimError when the launch line still reports something missing."""
        if missing == MISSING_PYTHON:
            message = (
                f"Device {device.name} ({device.address}) has no python3 on the login shell's PATH, so the "
                f"shim command {command} cannot run. Install python3 (3.6 or later) on the device."
            )
            raise PythonMissing(device.name, message)
        if missing is not None:
            message = (
                f"The shim at {shim_path(self.bundle.sha256)} on device {device.name} ({device.address}) "
                f"is still missing after the upload ({missing}). Check the free space and permissions of "
                "the login folder on the device."
            )
            raise ShimError(device.name, message)

    async def inventory(self, device: Device) -> HardwareFacts:
        """Return the device's hardware facts; without python3, the sh fallback's limited facts."""
        try:
            reply = await self.call(device, "inventory")
        except PythonMissing:
            logger.getChild(device.name).info("No python3 on the device; running the sh inventory fallback")
            return await self._inventory_fallback(device)
        return facts_from_reply(device, "inventory", reply)

    async def _inventory_fallback(self, device: Device) -> HardwareFacts:
        """Run the POSIX sh inventory script through `sh -s` and mark its facts limited."""
        result = await self._pool.run(device, "sh -s", input=self.bundle.inventory_sh, timeout=self._timeout)
        reply = parse_reply(device, "sh inventory fallback", result)
        facts = facts_from_reply(device, "sh inventory fallback", reply)
        return facts.model_copy(update={"limited": True})

    async def _launch(self, device: Device, command: str, request: dict | None, args: Sequence[str] = ()) -> CommandResult:
        """Run the launch line once, with the request as JSON on stdin."""
        data = json.dumps(request).encode() if request is not None else b""
        line = launch_line(self.bundle.sha256, command, args)
        return await self._pool.run(device, line, input=data, timeout=self._timeout)

    async def _install(self, device: Device) -> None:
        """Upload the shim to its content-addressed path; readers never see a partial file."""
        bundle = self.bundle
        logger.getChild(device.name).info("Uploading shim %s (%d bytes)", bundle.sha256[:12], len(bundle.data))
        await self._pool.write_file(device, shim_path(bundle.sha256), bundle.data, mode=0o644)
