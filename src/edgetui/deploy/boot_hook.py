"""The device's @reboot crontab line that runs the shim's `watchdog-check` after a reboot.

Activation arms a watchdog process that rolls back an uncommitted release at
its deadline. A reboot kills that process, and the overdue check in every
later shim command runs only when the console contacts the device again. The
shim's `boot-hook` command returns a crontab line that runs `watchdog-check`
at boot. This module installs that line in the SSH user's crontab, once per
device and shim version.
"""

from __future__ import annotations

import logging
import shlex
from typing import TYPE_CHECKING

from edgetui.errors import DeviceError

if TYPE_CHECKING:
    from edgetui.deploy.context import DeployContext
    from edgetui.domain import Device

log = logging.getLogger("edgetui.deploy")

INSTALLED = "installed"
UNCHANGED = "unchanged"
UNAVAILABLE = "unavailable"
FAILED = "failed"

# Appended to the line as a sh comment, so the next install finds the line
# even when the shim's path in it has changed.
MARKER = "# edgetui-watchdog"
# Also matched, so a line that lost its marker (edited by hand) is replaced too.
SHIM_COMMAND = "watchdog-check"
EVENT_ACTION = "deploy-boot-hook"
COMMAND_TIMEOUT_S = 30.0
# Messages of `crontab -l` for a user without a table. cronie and Debian's cron
# print "no crontab for USER". BusyBox crontab (miscutils/crontab.c) lists the
# table with its built-in cat, whose open error ends in the strerror text.
NO_TABLE_MESSAGES = ("no crontab for", "No such file or directory")


async def ensure_boot_hook(ctx: DeployContext, device: Device) -> str:
    """Install the shim's @reboot line in the device's crontab and return installed, unchanged, unavailable or failed.

    A device the store records with this shim's line is not contacted. Device,
    SSH and shim errors are logged and recorded as events instead of raised,
    so the deploy goes on.
    """
    shim_sha256 = ctx.shim.bundle.sha256
    if ctx.store.boot_hook_shim(device.name) == shim_sha256:
        # NOTE: a line removed on the device after the install comes back only with the next shim version.
        return UNCHANGED
    try:
        reply = await ctx.release_shim.call(device, "boot-hook")
        line = crontab_line(reply.get("crontab"))
        result = await ctx.pool.run(device, install_command(line), timeout=COMMAND_TIMEOUT_S)
    except (DeviceError, ValueError) as exc:
        _record_failure(ctx, device, f"the boot hook could not be installed: {exc}")
        return FAILED

    outcome = result.stdout.decode(errors="replace").strip().rsplit("\n", 1)[-1]
    if result.exit_status != 0 or outcome not in (INSTALLED, UNCHANGED, UNAVAILABLE):
        stderr = result.stderr.decode(errors="replace").strip()
        _record_failure(ctx, device, f"installing the boot hook failed with exit status {result.exit_status}: {stderr}")
        return FAILED
    if outcome == UNAVAILABLE:
        _record_unavailable(ctx, device)
        return UNAVAILABLE

    ctx.store.record_boot_hook(device.name, shim_sha256, line)
    if outcome == INSTALLED:
        log.info("Device %s: installed the @reboot watchdog-check line in the crontab", device.name)
        ctx.store.record_event(EVENT_ACTION, device.name, ok=True, message="installed the @reboot watchdog-check "
                               "line in the crontab", detail={"result": INSTALLED, "crontab": line})
    return outcome


def crontab_line(shim_line: object) -> str:
    """Return the shim's crontab line with the marker, and with `%` escaped because cron turns it into a newline.

    Raises ValueError when the shim's reply has no single @reboot line.
    """
    if not isinstance(shim_line, str) or not shim_line.startswith("@reboot ") or "\n" in shim_line:
        raise ValueError(f"the shim returned an invalid boot hook line: {shim_line!r}")
    return shim_line.replace("%", "\\%") + " " + MARKER


def install_command(line: str) -> str:
    """Build the sh command that puts `line` in the user's crontab in place of earlier edgetui lines.

    It prints `unavailable` without crontab on PATH, `unchanged` when the
    table already contains exactly this edgetui line, else `installed`. It
    exits 3 without writing when `crontab -l` fails for another reason than
    a missing table, so a table it could not read is never replaced.
    """
    quoted_line = shlex.quote(line)
    patterns = f"-e {shlex.quote(MARKER)} -e {shlex.quote(SHIM_COMMAND)}"
    no_table = " ".join(f"-e {shlex.quote(message)}" for message in NO_TABLE_MESSAGES)
    return "\n".join([
        f"if ! command -v crontab >/dev/null 2>&1; then echo {UNAVAILABLE}; exit 0; fi",
        "if table=$(crontab -l 2>/dev/null); then :",
        f"elif crontab -l 2>&1 | grep -q -F {no_table}; then table=",
        "else echo 'crontab -l failed, so the table was left unchanged' >&2; exit 3; fi",
        f'old=$(printf "%s\\n" "$table" | grep -F {patterns})',
        f'if [ "$old" = {quoted_line} ]; then echo {UNCHANGED}; exit 0; fi',
        f'{{ if [ -n "$table" ]; then printf "%s\\n" "$table" | grep -v -F {patterns}; fi; '
        f"printf '%s\\n' {quoted_line}; }} | crontab - || exit 3",
        f"echo {INSTALLED}",
    ])


def _record_unavailable(ctx: DeployContext, device: Device) -> None:
    message = ("crontab is not available on the device, so no @reboot line runs the watchdog check; after a reboot, "
               "an uncommitted release is rolled back only when the console contacts the device again")
    log.warning("Device %s: %s", device.name, message)
    ctx.store.record_event(EVENT_ACTION, device.name, ok=False, message=message, detail={"result": UNAVAILABLE})


def _record_failure(ctx: DeployContext, device: Device, message: str) -> None:
    log.warning("Device %s: %s; the deploy goes on", device.name, message)
    ctx.store.record_event(EVENT_ACTION, device.name, ok=False, message=message, detail={"result": FAILED})
