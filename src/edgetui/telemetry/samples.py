"""The typed JSON lines of the device's `stream` command, parsed and checked.

Each line is one JSON object with a "type": "sample" (one per sampler interval),
or the stream notices "hello", "dropped" and "heartbeat". `parse_line` accepts
exactly these and raises GarbageLine for anything else, so the collector can
count and skip a bad line instead of storing it.
"""

import json
import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

EXCERPT_CHARS = 120

# Real devices make stream ids of 16 lowercase hex digits. The pattern accepts
# any short id that is safe to print and to pass back as `stream --stream ID`.
STREAM_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"

# SQLite stores integers in 8 bytes; a larger count or seq would fail the insert.
MAX_INTEGER = 2**63 - 1

# Lowest temperature in degrees Celsius that is physically possible.
ABSOLUTE_ZERO_C = -273.15


class GarbageLine(ValueError):
    """A stream line that is not one of the typed JSON lines of the contract."""

    def __init__(self, reason: str, line: str) -> None:
        self.reason = reason
        self.excerpt = excerpt(line)
        super().__init__(f"invalid stream line: {reason} (line: {self.excerpt!r})")


def excerpt(line: str) -> str:
    """Return the start of ``line``, cut to EXCERPT_CHARS characters, for messages and logs."""
    line = line.strip()
    if len(line) <= EXCERPT_CHARS:
        return line
    return line[:EXCERPT_CHARS - 3] + "..."


Count = Annotated[int, Field(ge=0, le=MAX_INTEGER)]
SequenceNumber = Annotated[int, Field(ge=1, le=MAX_INTEGER)]


class _StrictLine(BaseModel):
    """Strict types: an int field rejects 1.0 and true, a float field rejects NaN and infinity.

    Unknown fields are ignored, so a newer shim may add fields without breaking older consoles.
    """

    model_config = ConfigDict(strict=True, allow_inf_nan=False, extra="ignore", frozen=True)


class Sample(_StrictLine):
    """One sampler interval of a device's server and system. ``ts`` is the device's clock."""

    type: Literal["sample"] = "sample"
    stream: str = Field(pattern=STREAM_ID_PATTERN)
    seq: SequenceNumber
    ts: float = Field(gt=0)
    interval_s: float = Field(gt=0)
    requests: Count
    errors: Count
    latency_ms_p50: float | None = Field(default=None, ge=0)
    latency_ms_p95: float | None = Field(default=None, ge=0)
    latency_ms_p99: float | None = Field(default=None, ge=0)
    # CPU percent may exceed 100 on a multi-core device, so only the lower bound is checked.
    cpu_percent: float | None = Field(default=None, ge=0)
    mem_used_mb: float | None = Field(default=None, ge=0)
    mem_total_mb: float | None = Field(default=None, ge=0)
    temp_c: float | None = Field(default=None, ge=ABSOLUTE_ZERO_C)
    disk_free_mb: float | None = Field(default=None, ge=0)
    disk_used_percent: float | None = Field(default=None, ge=0, le=100)
    release: str | None = None
    serving: bool
    drift_psi: float | None = Field(default=None, ge=0)
    drift_input_psi: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _check_errors(self) -> "Sample":
        if self.errors > self.requests:
            raise ValueError(f"errors ({self.errors}) exceeds requests ({self.requests})")
        return self

    @property
    def error_rate(self) -> float:
        """Return errors / requests, or 0 when the interval had no requests."""
        return error_rate(self.requests, self.errors)

    @property
    def throughput_rps(self) -> float:
        """Return requests per second over the interval."""
        return self.requests / self.interval_s


# Fields each notice type requires; the others stay None.
_NOTICE_FIELDS = {
    "hello": ("stream", "next_seq", "dropped_total", "device_ts", "shim"),
    "dropped": ("stream", "first_seq", "last_seq", "count"),
    "heartbeat": ("device_ts",),
}


class StreamNotice(_StrictLine):
    """A "hello", "dropped" or "heartbeat" line of the stream, with the fields of its type."""

    type: Literal["hello", "dropped", "heartbeat"]
    stream: str | None = Field(default=None, pattern=STREAM_ID_PATTERN)
    device_ts: float | None = Field(default=None, gt=0)
    # hello
    next_seq: SequenceNumber | None = None
    oldest_seq: SequenceNumber | None = None
    dropped_total: Count | None = None
    shim: str | None = None
    # dropped
    first_seq: SequenceNumber | None = None
    last_seq: SequenceNumber | None = None
    count: SequenceNumber | None = None

    @model_validator(mode="after")
    def _check_fields_of_type(self) -> "StreamNotice":
        missing = [name for name in _NOTICE_FIELDS[self.type] if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.type} line needs the field(s) {', '.join(missing)}")
        if self.type == "dropped" and self.last_seq < self.first_seq:
            raise ValueError(f"last_seq ({self.last_seq}) is below first_seq ({self.first_seq})")
        return self


def error_rate(requests: int | None, errors: int | None) -> float:
    """Return errors / requests, or 0 when there were no requests."""
    if not requests:
        return 0.0
    return (errors or 0) / requests


def parse_line(text: str | bytes) -> Sample | StreamNotice:
    """Parse one line of the stream. Raise GarbageLine naming what is wrong and showing an excerpt."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise GarbageLine(f"not UTF-8 text ({error.reason})", text.decode("utf-8", "replace")) from None

    data = _load_json_object(text)
    kind = data.get("type")
    if kind is None:
        raise GarbageLine('missing field "type"', text)
    try:
        if kind == "sample":
            return Sample.model_validate(data)
        if kind in _NOTICE_FIELDS:
            return StreamNotice.model_validate(data)
    except ValidationError as error:
        raise GarbageLine(_describe(error), text) from None
    raise GarbageLine(f'unknown type {kind!r}; expected "sample", "hello", "dropped" or "heartbeat"', text)


def _load_json_object(text: str) -> dict[str, Any]:
    """Decode a JSON object. NaN and Infinity decode to floats here, and the models reject them per field."""
    if not text.strip():
        raise GarbageLine("empty line", text)

    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise GarbageLine(f"not JSON ({error.msg} at column {error.colno})", text) from None
    if not isinstance(data, dict):
        raise GarbageLine(f"a JSON {type(data).__name__} instead of an object", text)
    return data


def _describe(error: ValidationError) -> str:
    """Name the first invalid field, its value and the rule it breaks."""
    problem = error.errors()[0]
    location = ".".join(str(part) for part in problem["loc"])
    message = problem["msg"].removeprefix("Value error, ")
    if not location:
        return message
    if problem["type"] == "missing":
        return f"missing field {location!r}"
    value = problem.get("input")
    if isinstance(value, float) and not math.isfinite(value):
        value = str(value)
    return f"field {location!r} is {json.dumps(value)[:40]}: {message}"
