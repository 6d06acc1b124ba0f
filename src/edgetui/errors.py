"""The error base shared by every edgetui service.

Each error carries a one-line ``title`` for notifications and a ``message``
that names the value involved and what to do next. The CLI prints both and
exits non-zero; the TUI shows them in a notification or an error dialog.
"""


class EdgetuiError(Exception):
    """An error the user can act on, with a short title and a full message."""

    title = "edgetui error"

    def __init__(self, message: str, *, title: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if title is not None:
            self.title = title

    def __str__(self) -> str:
        return self.message


class InputError(EdgetuiError):
    """A file, option or value given by the user is invalid."""

    title = "Invalid input"


class StoreError(EdgetuiError):
    """The fleet database cannot be opened, read or written."""

    title = "Fleet database error"


class DeviceError(EdgetuiError):
    """An operation on one device failed; ``device`` names it."""

    title = "Device error"

    def __init__(self, device: str, message: str, *, title: str | None = None) -> None:
        super().__init__(message, title=title)
        self.device = device
