"""ArtifactStore: files kept under their sha256, written atomically.

Layout under the root folder:

- ``blobs/sha256/<hex>``: the bytes of each artifact, read-only once written.
- ``named/<hex>/<file name>``: a hard link (or a copy where links fail) to a
  blob under a file name, for tools that need an extension: onnxruntime loads
  the ORT format only from a path ending in ``.ort``.
- ``tmp/<pid>-<random>/``: work folders of running processes. A blob becomes
  visible only by a rename from here, so a crash leaves files in ``tmp/`` only,
  and `clean_temp` removes the folders whose process is gone.
"""

import hashlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from edgetui.errors import InputError
from edgetui.settings import data_dir

log = logging.getLogger("edgetui.artifacts")

_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
# A file name under named/: one path component, no hidden or relative names.
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,199}")
_CHUNK_BYTES = 1024 * 1024
# Prefix of blobs being written; the writer's process id follows it.
_INCOMING = ".incoming-"


def default_artifact_root() -> Path:
    """Return the default store folder: the data folder's ``artifacts``."""
    return data_dir() / "artifacts"


def sha256_of_file(path: Path) -> str:
    """Hash a file in chunks and return the hex sha256."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


class ArtifactStore:
    """Content-addressed files under ``root``; see the module docstring for the layout."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_artifact_root()

    @property
    def blob_dir(self) -> Path:
        """Folder of the blobs."""
        return self.root / "blobs" / "sha256"

    @property
    def temp_root(self) -> Path:
        """Folder of the work folders; ignored by every lookup."""
        return self.root / "tmp"

    def path_for(self, sha256: str) -> Path:
        """Return the blob path of ``sha256``, whether or not the blob exists."""
        return self.blob_dir / _checked_hex(sha256)

    def has(self, sha256: str) -> bool:
        """Tell whether the blob of ``sha256`` is in the store."""
        return self.path_for(sha256).is_file()

    def add_file(self, path: Path) -> str:
        """Copy a file into the store and return its sha256.

        The copy goes to a temporary file in the blob folder, is hashed while
        written, flushed to disk, then renamed to its hex name, so a reader never
        sees a partial blob. Adding the same bytes again changes nothing.
        """
        source = Path(path)
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(prefix=f"{_INCOMING}{os.getpid()}-", dir=self.blob_dir)
        temp_path = Path(temp_name)
        try:
            sha256 = _copy_hashing(source, handle)
            target = self.blob_dir / sha256
            if target.is_file():
                temp_path.unlink()
                return sha256
            temp_path.chmod(0o444)
            os.replace(temp_path, target)
        except BaseException:
            temp_path.unlink(missing_ok=True)
            raise
        log.info("stored %s as blob %s", source, sha256)
        return sha256

    def named_path(self, sha256: str, file_name: str) -> Path:
        """Return a path named ``file_name`` with the blob's bytes, creating it when missing."""
        if not _FILE_NAME.fullmatch(file_name):
            raise ValueError(f"invalid artifact file name {file_name!r}: use one plain file name")
        blob = self.path_for(sha256)
        if not blob.is_file():
            raise InputError(
                f"Artifact {sha256} is not in the store {self.root}. Run the command that "
                "creates it again (for a model variant: edgetui optimize MODEL)."
            )
        target = self.root / "named" / sha256 / file_name
        if target.is_file():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{file_name}.{os.getpid()}.tmp")
        staging.unlink(missing_ok=True)
        try:
            os.link(blob, staging)
        except OSError:
            # Hard links fail across file systems and on some network shares.
            shutil.copyfile(blob, staging)
        os.replace(staging, target)
        return target

    def blobs(self) -> list[str]:
        """Return the sha256 of every blob, sorted."""
        if not self.blob_dir.is_dir():
            return []
        return sorted(entry.name for entry in self.blob_dir.iterdir() if _HEX_SHA256.fullmatch(entry.name))

    @contextmanager
    def temp_dir(self) -> Iterator[Path]:
        """Give the block a fresh work folder under ``tmp/``, removed when the block ends."""
        self.temp_root.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=self.temp_root))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def clean_temp(self) -> list[Path]:
        """Remove work folders left by processes that no longer run; return them."""
        removed = []
        temp_entries = sorted(self.temp_root.iterdir()) if self.temp_root.is_dir() else []
        for entry in temp_entries:
            if _owner_running(entry.name):
                continue
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
        incoming = self.blob_dir.glob(_INCOMING + "*") if self.blob_dir.is_dir() else []
        for entry in incoming:
            if not _owner_running(entry.name[len(_INCOMING):]):
                entry.unlink(missing_ok=True)
                removed.append(entry)
        if removed:
            log.info("removed %d leftover temporary files from %s", len(removed), self.root)
        return removed


def _checked_hex(sha256: str) -> str:
    """Return ``sha256`` when it is 64 lower-case hex digits, else raise ValueError."""
    if not isinstance(sha256, str) or not _HEX_SHA256.fullmatch(sha256):
        raise ValueError(f"invalid sha256 {sha256!r}: expected 64 lower-case hex digits")
    return sha256


def _copy_hashing(source: Path, handle: int) -> str:
    """Copy ``source`` into the open descriptor ``handle``, fsync and close it; return the sha256."""
    digest = hashlib.sha256()
    with open(source, "rb") as reader, os.fdopen(handle, "wb") as writer:
        for chunk in iter(lambda: reader.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
            writer.write(chunk)
        writer.flush()
        os.fsync(writer.fileno())
    return digest.hexdigest()


def _owner_running(name: str) -> bool:
    """Tell whether the process whose id starts ``name`` (``<pid>-...``) still runs."""
    owner = name.split("-", 1)[0]
    return owner.isdigit() and _process_running(int(owner))


def _process_running(pid: int) -> bool:
    """Tell whether a process with this id exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
