"""The transfer step: upload an artifact's files to `.edgetui/artifacts/<sha256>`, resuming after a cut link."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from edgetui.deploy.context import DeployContext, Progress
from edgetui.deploy.records import Deployment, UpdateState
from edgetui.domain import Device
from edgetui.ssh import ConnectionLost, ConnectTimeout, Unreachable

ARTIFACT_DIR = ".edgetui/artifacts"
# Failures after which another attempt can succeed: the link, not the data.
RETRYABLE = (ConnectionLost, ConnectTimeout, Unreachable)


class TransferFailed(Exception):
    """Every attempt to upload a file failed on the link; ``cause`` is the last error."""

    def __init__(self, attempts: int, cause: Exception) -> None:
        super().__init__(f"the transfer failed {attempts} times; last error: {cause}")
        self.cause = cause


def remote_artifact_path(sha256: str) -> str:
    """Return where the shim expects a verified file, relative to the login folder."""
    return f"{ARTIFACT_DIR}/{sha256}"


def unique_files(files: list[tuple[str, Path, str, int]]) -> list[tuple[Path, str, int]]:
    """Return (blob path, sha256, size) once per distinct sha256, in manifest order."""
    seen: dict[str, tuple[Path, str, int]] = {}
    for _path, blob, sha256, size in files:
        seen.setdefault(sha256, (blob, sha256, size))
    return list(seen.values())


async def transfer_files(
    ctx: DeployContext, device: Device, deployment: Deployment, files: list[tuple[Path, str, int]], log: logging.Logger
) -> None:
    """Upload every file the device lacks; record bytes sent per attempt in the deployment.

    Raises TransferFailed when one file still fails after ctx.transfer_attempts attempts.
    """
    deployment.bytes_total = sum(size for _blob, _sha256, size in files)
    done_before = 0
    for blob, sha256, size in files:
        await _upload_with_retries(ctx, device, deployment, blob, sha256, done_before, log)
        done_before += size


async def _upload_with_retries(
    ctx: DeployContext, device: Device, deployment: Deployment, blob: Path, sha256: str, done_before: int,
    log: logging.Logger,
) -> None:
    """Upload one file, retrying a cut link with exponential backoff; each retry resumes the part file."""
    transfers = deployment.detail.setdefault("transfers", [])
    for attempt in range(1, ctx.transfer_attempts + 1):
        attempt_record = {"sha256": sha256, "attempt": attempt, "resumed_from": None, "bytes_sent": 0, "ok": False}
        transfers.append(attempt_record)
        progress = _ProgressRecorder(ctx, device, deployment, attempt_record, done_before)
        try:
            # The shim's stage recomputes every file's sha256 before it unpacks
            # anything, so hashing on the device here too would read each
            # artifact twice. A corrupt file is refused at stage, and the next
            # upload finds its hash wrong and sends it again.
            result = await ctx.pool.upload_resumable(
                device, blob, remote_artifact_path(sha256), progress, verify=False
            )
        except RETRYABLE as exc:
            progress.close()
            if attempt >= ctx.transfer_attempts:
                log.warning("Transfer of %s failed after %d attempts: %s", sha256[:12], attempt, exc)
                raise TransferFailed(attempt, exc) from exc
            delay = ctx.retry_delay_s * 2 ** (attempt - 1)
            log.warning("Transfer of %s cut (%s); retry %d of %d in %.1f s, resuming",
                        sha256[:12], exc.reason or exc, attempt, ctx.transfer_attempts - 1, delay)
            await asyncio.sleep(delay)
            continue
        attempt_record.update(resumed_from=result.resumed_from, bytes_sent=result.bytes_sent,
                              bytes_total=result.bytes_total, skipped=result.skipped, ok=True)
        deployment.bytes_sent += result.bytes_sent - progress.counted
        ctx.store.save_deployment(deployment)
        log.info("File %s on device: %d bytes sent, resumed from byte %d%s", sha256[:12], result.bytes_sent,
                 result.resumed_from, " (already there)" if result.skipped else "")
        return


class _ProgressRecorder:
    """Counts the bytes an attempt sent, reports progress and records bytes_sent as chunks finish."""

    def __init__(self, ctx: DeployContext, device: Device, deployment: Deployment, record: dict, done_before: int):
        self._ctx = ctx
        self._device = device
        self._deployment = deployment
        self._record = record
        self._done_before = done_before
        self.counted = 0

    def __call__(self, position: int, total: int) -> None:
        if self._record["resumed_from"] is None:
            # The first report comes before any byte is sent, at the resume offset.
            self._record["resumed_from"] = position
        sent = position - self._record["resumed_from"]
        self._deployment.bytes_sent += sent - self.counted
        self.counted = sent
        self._record["bytes_sent"] = sent
        self._ctx.store.save_deployment(self._deployment)
        self._ctx.report(Progress(self._device.name, str(UpdateState.TRANSFERRING),
                                  self._done_before + position, self._deployment.bytes_total))

    def close(self) -> None:
        """Keep the bytes counted so far; the failed attempt's last chunk may be partly on the device."""
        self._ctx.store.save_deployment(self._deployment)

