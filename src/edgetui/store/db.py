"""The connection to the fleet database: opening, pragmas, transactions and locking."""

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from edgetui.errors import StoreError
from edgetui.store import migrations
from edgetui.store.check import inspect_database_file
from edgetui.store.errors import StoreTooNewError

log = logging.getLogger("edgetui.store")


class StoreConnection:
    """One sqlite-utils connection to the fleet database, shared by the table classes.

    Writes go through `transaction()` and reads through `reading()`. Both hold a
    lock, so threads that share this object never interleave their statements.
    """

    def __init__(self, path: Path, *, busy_timeout: float) -> None:
        self.path = path
        self._lock = threading.RLock()
        self.db = _open(path, busy_timeout)

    @contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """Run a block of writes in one transaction; nested blocks become savepoints.

        The outermost block starts with BEGIN IMMEDIATE: it takes the write lock
        at once, so another process's writes make it wait up to the busy
        timeout instead of failing halfway through with "database is locked".
        """
        with self._lock, self._map_errors():
            if self.db.conn.in_transaction:
                with self.db.atomic():
                    yield self.db
                return
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
                self.db.execute("COMMIT")
            except BaseException:
                self.db.rollback()
                raise

    @contextmanager
    def reading(self) -> Iterator[sqlite_utils.Database]:
        """Give the block the database for queries, holding the lock."""
        with self._lock, self._map_errors():
            yield self.db

    def close(self) -> None:
        """Close the connection. Later calls raise sqlite3.ProgrammingError."""
        with self._lock:
            self.db.close()
        log.info("closed fleet database %s", self.path)

    @contextmanager
    def _map_errors(self) -> Iterator[None]:
        """Turn SQLite's runtime failures (locked, disk full, I/O) into StoreError."""
        try:
            yield
        except (sqlite3.IntegrityError, sqlite3.ProgrammingError):
            # These mean a bug in edgetui, not a problem with the file.
            raise
        except sqlite3.DatabaseError as error:
            raise StoreError(
                f"The fleet database {self.path} failed: {error}. "
                "If it is locked, another edgetui process is writing to it: retry. "
                "Otherwise check the disk space and the file's permissions."
            ) from error


def _open(path: Path, busy_timeout: float) -> sqlite_utils.Database:
    """Check the file, open it, set the pragmas and bring the schema up to date."""
    state = inspect_database_file(path)
    newest = migrations.latest_version()
    if state.user_version > newest:
        raise StoreTooNewError(path, state.user_version, newest)

    path.parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None stops the sqlite3 module from opening transactions on
    # its own, so `transaction()` decides where each one starts and ends.
    conn = sqlite3.connect(
        str(path), timeout=busy_timeout, isolation_level=None, check_same_thread=False
    )
    db = sqlite_utils.Database(conn)
    try:
        db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        db.execute("PRAGMA foreign_keys = ON")
        mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            log.warning("fleet database %s: journal mode is %s, not wal", path, mode)
        version = migrations.migrate(db, path)
    except BaseException:
        conn.close()
        raise
    log.info("opened fleet database %s (schema version %d)", path, version)
    return db
