"""Read-only checks of an existing database file, made before anything writes to it."""

import logging
import sqlite3
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from edgetui.errors import StoreError
from edgetui.store.errors import StoreCorruptError, StoreForeignError

log = logging.getLogger("edgetui.store")

# The first 100 bytes of every SQLite file: https://www.sqlite.org/fileformat.html
SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER_SIZE = 100

# PRAGMA application_id of edgetui fleet databases: "EDGT" in ASCII. It lets the
# check tell an edgetui file from another program's SQLite file.
APPLICATION_ID = 0x45444754


@dataclass(frozen=True)
class FileState:
    """Result of the read-only check of a database file."""

    exists: bool
    user_version: int = 0


def inspect_database_file(path: Path) -> FileState:
    """Check that ``path`` is a healthy edgetui database or absent, without writing to it.

    Raises StoreCorruptError for a file that is not SQLite or is damaged, and
    StoreForeignError for another program's SQLite database. An empty file counts
    as absent because SQLite treats it as a new database.
    """
    if not path.exists():
        return FileState(exists=False)
    if not path.is_file():
        raise StoreError(f"The fleet database path {path} exists but is not a file. "
                         "Point --db or EDGETUI_DB at a file.")
    size = path.stat().st_size
    if size == 0:
        return FileState(exists=False)

    _check_header(path, size)
    return _check_contents(path)


def _check_header(path: Path, size: int) -> None:
    """Compare the file header with the SQLite format and the file size."""
    with path.open("rb") as file:
        header = file.read(HEADER_SIZE)
    if len(header) < HEADER_SIZE or not header.startswith(SQLITE_MAGIC):
        raise StoreCorruptError(path, "it is not a SQLite database (the file header is wrong)")

    page_size = int.from_bytes(header[16:18], "big")
    if page_size == 1:
        page_size = 65536  # The format stores 65536 as 1 because it needs 17 bits.
    page_count = int.from_bytes(header[28:32], "big")
    change_counter = header[24:28]
    valid_for = header[92:96]
    # The page count in the header is valid only when these two counters match.
    # Older SQLite versions left it stale, and then only the file size counts.
    if change_counter == valid_for and page_count * page_size > size:
        raise StoreCorruptError(
            path,
            f"the file is truncated ({size} bytes, but its header records "
            f"{page_count} pages of {page_size} bytes)",
        )


def _check_contents(path: Path) -> FileState:
    """Run PRAGMA quick_check and read the schema version on a read-only connection."""
    uri = "file:" + urllib.parse.quote(str(path.resolve())) + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as error:
        raise StoreCorruptError(path, f"SQLite cannot open it ({error})") from error
    try:
        # NOTE: quick_check reads every page, so the time to open grows with the
        # file. Large telemetry tables may need a cheaper check later.
        problems = [row[0] for row in conn.execute("PRAGMA quick_check(5)")]
        if problems != ["ok"]:
            raise StoreCorruptError(path, "PRAGMA quick_check reports: " + "; ".join(problems))
        user_version = conn.execute("PRAGMA user_version").fetchone()[0]
        application_id = conn.execute("PRAGMA application_id").fetchone()[0]
        table_count = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
        ).fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise StoreCorruptError(path, f"SQLite reports {error}") from error
    finally:
        conn.close()

    _check_owner(path, application_id, user_version, table_count)
    log.debug("checked %s: schema version %d", path, user_version)
    return FileState(exists=True, user_version=user_version)


def _check_owner(path: Path, application_id: int, user_version: int, table_count: int) -> None:
    """Reject a SQLite file that another program created, so it is never migrated."""
    if application_id not in (0, APPLICATION_ID):
        raise StoreForeignError(path, f"its application_id is {application_id:#010x}")
    if user_version == 0 and table_count > 0:
        raise StoreForeignError(
            path, f"it has {table_count} tables but no edgetui schema version"
        )
