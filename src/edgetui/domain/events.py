"""The event log: every action edgetui took, with its result."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class Event(BaseModel):
    """One action on one device (or on the fleet when ``device`` is None)."""

    id: int | None = None
    ts: datetime
    action: str
    device: str | None = None
    ok: bool
    message: str = ""
    detail: dict[str, Any] = Field(default_factory=dict)
