"""Install the demo release on a simulated device through the real device shim, and start its server.

Each shim command runs as a subprocess the way an SSH session of the device
runs it: `/bin/sh -c <the console's launch line>` with the device's session
environment and its home folder as the working directory. The shim is placed
at the content-addressed path the console uploads it to, and the release's
files where the console's transfer step puts them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shlex
import shutil
import signal
from asyncio.subprocess import PIPE
from dataclasses import dataclass
from pathlib import Path

from edgetui.shim_bundle import ShimBundle
from edgetui.shim_client import SENTINEL_PREFIX, launch_line, shim_path
from sample_fleet.demo_release import DemoRelease
from sample_fleet.device import SimulatedDevice

logger = logging.getLogger("sample_fleet")

ARTIFACT_DIR = Path(".edgetui") / "artifacts"
# The console's default watchdog and health timeout (edgetui deploy), in seconds.
WATCHDOG_S = 120
HEALTH_TIMEOUT_S = 120
# Bound of one shim command; activate runs the health check within HEALTH_TIMEOUT_S.
COMMAND_TIMEOUT_S = HEALTH_TIMEOUT_S + 60
# The shim's exit status for an unknown command or option.
USAGE_STATUS = 2


class ShimCommandError(RuntimeError):
    """A shim command failed on a simulated device; the message names the device and the command."""

    def __init__(self, device: str, command: str, message: str, reply: dict | None = None) -> None:
        super().__init__(f"{device}: shim {command} failed: {message}")
        self.reply = reply or {}


class ServeUnavailable(ShimCommandError):
    """The shim has no `serve` command, so no model server can start."""


@dataclass(frozen=True)
class ServeInfo:
    """The model server of one device, as `serve --detach yes` replied."""

    pid: int
    port: int
    started: bool


async def install_demo_release(device: SimulatedDevice, release: DemoRelease, bundle: ShimBundle) -> str:
    """Install and commit the demo release unless the device already runs a release; return what happened.

    A device whose current release is the committed demo release is left
    alone, and so is a device that runs another release, which someone
    deployed on purpose. Raises ShimCommandError when a command fails.
    """
    place_shim(device, bundle)
    status = await run_shim(device, bundle, "status")
    current = status.get("current")
    armed = (status.get("watchdog") or {}).get("armed", False)
    if current == release.release_id and status.get("known_good") == release.release_id and not armed:
        logger.info("%s: already on the demo release %s", device.name, release.release_id)
        return "unchanged"
    if current not in (None, release.release_id):
        logger.info("%s: runs release %s, so the demo release is not installed", device.name, current)
        return "other_release"

    logger.info("%s: installing the demo release %s", device.name, release.release_id)
    await run_shim(device, bundle, "trust", release.trust_request())
    place_artifacts(device, release)
    await run_shim(device, bundle, "stage", release.stage_request())
    activate = {"release": release.release_id, "watchdog_s": WATCHDOG_S, "health_timeout_s": HEALTH_TIMEOUT_S}
    reply = await run_shim(device, bundle, "activate", activate)
    health = reply.get("health") or {}
    await run_shim(device, bundle, "commit", {"release": release.release_id})
    logger.info("%s: demo release %s committed (health check p95 %s ms)",
                device.name, release.release_id, (health.get("measured") or {}).get("p95_ms"))
    return "installed"


async def start_serve(device: SimulatedDevice, bundle: ShimBundle) -> ServeInfo:
    """Start the device's model server with `serve --detach yes`, or find the one already running.

    Raises ServeUnavailable when the shim has no serve command, and
    ShimCommandError when the server does not start.
    """
    place_shim(device, bundle)
    arguments = ["--home", str(device.home), "--detach", "yes"]
    reply = await run_shim(device, bundle, "serve", arguments=arguments)
    info = ServeInfo(pid=int(reply["pid"]), port=int(reply["port"]), started=not reply.get("already_running"))
    verb = "started" if info.started else "already running"
    logger.info("%s: model server %s: pid %d, port %d", device.name, verb, info.pid, info.port)
    return info


def place_shim(device: SimulatedDevice, bundle: ShimBundle) -> None:
    """Write the shim zipapp to its content-addressed path under the home folder, unless it is there."""
    target = device.home / shim_path(bundle.sha256)
    if target.is_file():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.write_bytes(bundle.data)
    temporary.chmod(0o644)
    os.replace(temporary, target)
    logger.info("%s: placed shim %s", device.name, bundle.sha256[:12])


def place_artifacts(device: SimulatedDevice, release: DemoRelease) -> None:
    """Put the release's files where the console's transfer step uploads them: .edgetui/artifacts/<sha256>.

    A hard link to the fleet's blob saves the copy; stage hashes every file
    again before it unpacks, as it does after an upload.
    """
    folder = device.home / ARTIFACT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for sha256, blob in release.files:
        target = folder / sha256
        if target.is_file():
            continue
        temporary = folder / f".{sha256}.{os.getpid()}.part"
        temporary.unlink(missing_ok=True)
        try:
            os.link(blob, temporary)
        except OSError:
            shutil.copyfile(blob, temporary)
        os.replace(temporary, target)


async def run_shim(
    device: SimulatedDevice,
    bundle: ShimBundle,
    command: str,
    request: dict | None = None,
    arguments: list[str] | None = None,
) -> dict:
    """Run one shim command in a session of the device and return its reply.

    Raises ShimCommandError for a failed command or an invalid reply, and
    ServeUnavailable when the shim does not know the command `serve`. On
    cancellation or timeout the command's process group is killed.
    """
    line = launch_line(bundle.sha256, command)
    if arguments:
        line += " " + shlex.join(arguments)
    data = json.dumps(request).encode() if request is not None else b""
    child = await asyncio.create_subprocess_exec(
        "/bin/sh", "-c", line,
        stdin=PIPE, stdout=PIPE, stderr=PIPE,
        env=device.session_environment() | device.faults.current().environment(),
        cwd=device.home,
        start_new_session=True,
    )
    try:
        stdout, stderr = await asyncio.wait_for(child.communicate(data), COMMAND_TIMEOUT_S)
    except BaseException:
        # Timeout or cancellation (the fleet stops): end the command with everything it started in its session.
        _kill_group(child.pid)
        await child.wait()
        raise
    return _parse_reply(device, command, child.returncode, stdout, stderr)


def _parse_reply(device: SimulatedDevice, command: str, status: int, stdout: bytes, stderr: bytes) -> dict:
    text = stdout.decode("utf-8", "replace").strip()
    if text.startswith(SENTINEL_PREFIX):
        missing = text[len(SENTINEL_PREFIX):]
        raise ShimCommandError(device.name, command, f"{missing} is missing on the device")
    try:
        reply = json.loads(text.splitlines()[-1]) if text else None
    except ValueError:
        reply = None
    if not isinstance(reply, dict):
        excerpt = stderr.decode("utf-8", "replace").strip()[-300:]
        raise ShimCommandError(device.name, command, f"exit status {status}, no JSON reply; stderr: {excerpt!r}")
    if status == USAGE_STATUS and "unknown command" in str(reply.get("error")):
        raise ServeUnavailable(
            device.name, command,
            f"this device shim has no `{command}` command ({reply.get('error')}); "
            "the model server cannot start until device_shim provides it",
            reply,
        )
    if status != 0 or reply.get("ok") is False:
        code = reply.get("code", "error")
        raise ShimCommandError(device.name, command, f"{code}: {reply.get('error')}", reply)
    return reply


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
