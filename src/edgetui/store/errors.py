"""Errors of the fleet store. Each names the database file and what to do next."""

from pathlib import Path

from edgetui.errors import InputError, StoreError

# Both --db and EDGETUI_DB choose the database file; messages name both.
_CHOOSE_OTHER_FILE = "point --db or EDGETUI_DB at another file"


class StoreCorruptError(StoreError):
    """The database file is not SQLite, or SQLite reports it damaged."""

    title = "Fleet database damaged"

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        super().__init__(
            f"The fleet database {path} cannot be read: {problem}. "
            "The file was left untouched. Restore it from a backup, "
            f"or {_CHOOSE_OTHER_FILE}."
        )


class StoreTooNewError(StoreError):
    """The database has a schema version that this edgetui does not know."""

    title = "Fleet database too new"

    def __init__(self, path: Path, file_version: int, newest_known: int) -> None:
        self.path = path
        self.file_version = file_version
        self.newest_known = newest_known
        super().__init__(
            f"The fleet database {path} has schema version {file_version}, "
            f"but this edgetui knows versions up to {newest_known}. "
            "The file was left untouched. Upgrade edgetui to open it, "
            f"or {_CHOOSE_OTHER_FILE}."
        )


class StoreForeignError(StoreError):
    """The file is a SQLite database that another program created."""

    title = "Not a fleet database"

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        super().__init__(
            f"The file {path} is a SQLite database but not an edgetui fleet "
            f"database: {problem}. The file was left untouched. "
            f"Choose a new file name, or {_CHOOSE_OTHER_FILE}."
        )


class StoreMigrationError(StoreError):
    """A schema migration failed and was rolled back."""

    title = "Fleet database upgrade failed"

    def __init__(self, path: Path, version: int, description: str, cause: Exception) -> None:
        self.path = path
        self.version = version
        super().__init__(
            f"Upgrading the fleet database {path} to schema version {version} "
            f"({description}) failed: {cause}. The upgrade was rolled back and "
            "the file keeps its previous version. Report this error with the "
            f"message above, or {_CHOOSE_OTHER_FILE}."
        )


class DeviceNotFound(InputError):
    """No device of the fleet has the requested name."""

    title = "Device not found"

    def __init__(self, name: str, suggestions: list[str]) -> None:
        self.name = name
        self.suggestions = suggestions
        if suggestions:
            hint = "Did you mean " + " or ".join(repr(s) for s in suggestions) + "?"
        else:
            hint = "List the devices with `edgetui fleet list`, or import an inventory that has it."
        super().__init__(f"The fleet has no device named {name!r}. {hint}")


class InvalidHostKey(InputError):
    """A host key is not an OpenSSH public key line."""

    title = "Invalid host key"

    def __init__(self, host: str, port: int, key: str, problem: str) -> None:
        shown = key if len(key) <= 60 else key[:57] + "..."
        super().__init__(
            f"Invalid host key for {host}:{port}: {problem} (value {shown!r}). "
            "Expected an OpenSSH public key line such as 'ssh-ed25519 AAAAC3Nz...', "
            "for example a line of `ssh-keyscan` output without the host name."
        )
