"""The error raised for an inventory file that cannot be imported."""

from pathlib import Path

from edgetui.errors import InputError


class InventoryError(InputError):
    """An inventory file is missing, unreadable or invalid; the message names file and line."""

    title = "Invalid inventory"

    def __init__(self, path: Path, problem: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        where = f"{path}, line {line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")
