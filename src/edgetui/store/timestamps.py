"""Conversion of timestamps to and from the ISO 8601 text stored in SQLite."""

from datetime import UTC, datetime


def utc_now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def to_iso(value: datetime) -> str:
    """Format a datetime as ISO 8601 in UTC with microseconds.

    A naive datetime is taken to be UTC already. The fixed width keeps the text
    in time order, so SQL can sort and compare the column as text.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def from_iso(text: str | None) -> datetime | None:
    """Parse text written by `to_iso`; None stays None."""
    if text is None:
        return None
    return datetime.fromisoformat(text)
