"""Release commands of the device shim, with their `"ok": false` replies turned into errors.

ShimClient.call treats any exit status but 0 as a broken shim. The release
commands exit 1 with a JSON reply that names the refusal (bad_signature,
insufficient_disk ...), so this module reads those replies. It also
distinguishes a refusal from a shim that was killed before it replied.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

from edgetui.domain import Device
from edgetui.errors import DeviceError
from edgetui.shim_client import (
    MISSING_PYTHON,
    MISSING_SHIM,
    PythonMissing,
    ShimClient,
    ShimError,
    excerpt,
    launch_line,
    missing_part,
    parse_reply,
)
from edgetui.ssh import CommandResult, SSHPool

logger = logging.getLogger("edgetui.deploy")

DEFAULT_TIMEOUT_S = 120.0


class ShimRefused(DeviceError):
    """A release command replied `"ok": false`; ``code`` is the shim's machine-readable reason."""

    title = "Device refused the release command"

    def __init__(self, device: str, command: str, reply: dict[str, Any]) -> None:
        self.code = str(reply.get("code") or "unknown")
        self.reply = reply
        message = f"Device {device} refused {command}: {reply.get('error') or 'no reason given'} ({self.code})."
        super().__init__(device, message)


class ShimInterrupted(ShimError):
    """The shim process ended without a reply, for example killed by a signal during activate."""

    title = "Device shim interrupted"


class ReleaseShim:
    """Runs the shim's release commands (trust, stage, activate, commit, rollback, status) on devices."""

    def __init__(self, shim: ShimClient, pool: SSHPool) -> None:
        self._shim = shim
        self._pool = pool

    async def call(
        self, device: Device, command: str, request: dict[str, Any] | None = None, *, timeout: float = DEFAULT_TIMEOUT_S
    ) -> dict[str, Any]:
        """Run one release command and return its `"ok": true` reply.

        Raises ShimRefused for `"ok": false`, ShimInterrupted when the shim
        died before replying, and the SSH layer's errors when the link fails.
        """
        result = await self._launch(device, command, request, timeout)
        if missing_part(result) == MISSING_SHIM:
            # ShimClient uploads the shim when it is missing; status is harmless to run.
            await self._shim.call(device, "status")
            result = await self._launch(device, command, request, timeout)
        missing = missing_part(result)
        if missing == MISSING_PYTHON:
            raise PythonMissing(device.name, f"Device {device.name} has no python3, so it cannot run {command}.")
        if missing is not None:
            raise ShimError(device.name, f"The shim on device {device.name} is missing after the upload.")
        reply = self._parse(device, command, result)
        if reply.get("ok") is not True:
            raise ShimRefused(device.name, command, reply)
        return reply

    async def _launch(self, device: Device, command: str, request: dict[str, Any] | None, timeout: float) -> CommandResult:
        data = json.dumps(request).encode() if request is not None else b""
        line = launch_line(self._shim.bundle.sha256, command)
        return await self._pool.run(device, line, input=data, timeout=timeout)

    def _parse(self, device: Device, command: str, result: CommandResult) -> dict[str, Any]:
        """Parse a reply of exit status 0 or 1; anything else means the shim did not finish."""
        if result.exit_signal is not None or result.exit_status not in (0, 1):
            how = f"signal {result.exit_signal}" if result.exit_signal else f"exit status {result.exit_status}"
            message = (
                f"The shim's {command} on device {device.name} ended by {how} without a reply; "
                f"stderr {excerpt(result.stderr)}."
            )
            raise ShimInterrupted(device.name, message)
        # Exit status 1 carries a valid `"ok": false` reply, so parse it as a success.
        return parse_reply(device, f"command {command}", dataclasses.replace(result, exit_status=0))
