"""Pack device_shim/ into one reproducible zipapp, named by its sha256.

The same sources give the same bytes on every machine: entries are sorted,
stored without compression (deflate output depends on the zlib version),
dated 1980-01-01 and given mode 0644, and line endings are normalised to LF.
"""

import functools
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import device_shim

# Zip timestamps cannot be earlier than 1980-01-01.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--
SHEBANG = b"#!/usr/bin/env python3\n"

# The zipapp's entry point: Python puts the archive on sys.path, so the
# package imports as `device_shim` from inside it.
# The zipapp's entry point. Python cannot cache bytecode for modules imported
# from a zip, so every run would compile the whole shim again (about 40 ms on a
# laptop, several times that on a small board). On first run the entry point
# unpacks the package beside shim.pyz, into a folder named after the same
# sha256, and imports from there so __pycache__ works. When unpacking fails
# (a read-only or full disk), it imports from the zip as before.
# It must stay valid Python 3.6.
ROOT_MAIN = b"""\
import os
import sys


def _unpacked(archive):
    target = os.path.join(os.path.dirname(archive), "src")
    if os.path.isdir(os.path.join(target, "device_shim")):
        return target
    import zipfile  # only the first run needs it, and it costs milliseconds

    temporary = "%s.%d.tmp" % (target, os.getpid())
    try:
        with zipfile.ZipFile(archive) as bundle:
            names = [name for name in bundle.namelist() if name.startswith("device_shim/")]
            bundle.extractall(temporary, names)
        os.rename(temporary, target)
    except OSError:
        import shutil

        shutil.rmtree(temporary, ignore_errors=True)
        # Another run may have unpacked it first; otherwise import from the zip.
        if not os.path.isdir(os.path.join(target, "device_shim")):
            return None
    return target


_archive = os.path.dirname(os.path.abspath(__file__))
if os.path.isfile(_archive):
    _source = _unpacked(_archive)
    if _source is not None:
        sys.path.insert(0, _source)

from device_shim.__main__ import main  # noqa: E402

sys.exit(main())
"""


@dataclass(frozen=True)
class ShimBundle:
    """The device shim as uploaded to devices.

    data: the zipapp run as `python3 shim.pyz COMMAND`.
    sha256: hex digest of data, which names the shim's folder on the device.
    inventory_sh: the POSIX sh fallback for devices without python3, run through `sh -s`.
    """

    data: bytes
    sha256: str
    inventory_sh: bytes


def shim_source_dir() -> Path:
    """Return the folder of the installed device_shim package."""
    return Path(device_shim.__file__).resolve().parent


def _normalise(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n")


def _zip_entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
    info.compress_type = zipfile.ZIP_STORED
    info.create_system = 3  # Unix, so external_attr contains a Unix mode
    info.external_attr = FILE_MODE << 16
    return info


def shim_entries(source: Path) -> list[tuple[str, bytes]]:
    """Return (archive name, content) for the zipapp, sorted by name: every .py file plus the root __main__.py."""
    entries = [("__main__.py", ROOT_MAIN)]
    for path in source.rglob("*.py"):
        relative = path.relative_to(source.parent)
        if "__pycache__" in relative.parts:
            continue
        entries.append((relative.as_posix(), _normalise(path.read_bytes())))
    return sorted(entries)


def pack_zipapp(entries: list[tuple[str, bytes]]) -> bytes:
    """Return the zipapp bytes: a shebang line followed by a zip of entries."""
    buffer = io.BytesIO()
    buffer.write(SHEBANG)
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries:
            archive.writestr(_zip_entry(name), content)
    return buffer.getvalue()


@functools.cache
def build_shim_bundle() -> ShimBundle:
    """Build the shim bundle from the installed device_shim package, once per process."""
    source = shim_source_dir()
    data = pack_zipapp(shim_entries(source))
    inventory_sh = _normalise((source / "inventory.sh").read_bytes())
    return ShimBundle(data=data, sha256=hashlib.sha256(data).hexdigest(), inventory_sh=inventory_sh)
