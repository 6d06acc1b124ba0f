"""SFTP file helpers: an upload that readers never see half-written, and a remote sha256."""

from __future__ import annotations

import hashlib
import posixpath
import secrets

import asyncssh

READ_CHUNK = 256 * 1024


async def write_atomically(sftp: asyncssh.SFTPClient, remote_path: str, data: bytes, mode: int) -> None:
    """Write ``data`` to a temporary name in the target's folder, chmod it, then rename it over the target.

    Relative paths are relative to the SFTP server's start folder, the login home.
    """
    folder, name = posixpath.split(remote_path)
    if folder:
        await sftp.makedirs(folder, exist_ok=True)
    # Same folder as the target, so the rename stays on one file system and is atomic.
    temporary = posixpath.join(folder, f".{name}.tmp-{secrets.token_hex(6)}")
    try:
        async with sftp.open(temporary, "wb") as stream:
            await stream.write(data)
        await sftp.chmod(temporary, mode)
        await _rename_over(sftp, temporary, remote_path)
    except BaseException:
        await _remove_quietly(sftp, temporary)
        raise


async def _rename_over(sftp: asyncssh.SFTPClient, source: str, target: str) -> None:
    """Rename with posix-rename@openssh.com, or remove-then-rename on servers without it."""
    try:
        await sftp.posix_rename(source, target)
        return
    except asyncssh.SFTPOpUnsupported:
        pass
    # NOTE: plain SFTP v3 rename fails when the target exists, so the target is
    # removed first. A reader can then briefly find no file at all.
    try:
        await sftp.remove(target)
    except asyncssh.SFTPNoSuchFile:
        pass
    await sftp.rename(source, target)


async def _remove_quietly(sftp: asyncssh.SFTPClient, path: str) -> None:
    """Remove a leftover temporary file; the original error matters more than a failed cleanup."""
    try:
        await sftp.remove(path)
    except (asyncssh.Error, OSError):
        pass


async def sha256_of(sftp: asyncssh.SFTPClient, remote_path: str) -> str | None:
    """Read a remote file and return its hex sha256, or None when it does not exist."""
    digest = hashlib.sha256()
    try:
        async with sftp.open(remote_path, "rb") as stream:
            while chunk := await stream.read(READ_CHUNK):
                digest.update(chunk)
    except asyncssh.SFTPNoSuchFile:
        return None
    return digest.hexdigest()
