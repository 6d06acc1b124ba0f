"""The release manifest (format 1): building it, its canonical bytes, its id, and name checks.

The device shim checks the same shape, name patterns and file name rules before
it unpacks a release, so edgetui rejects here what a device would reject later:

    {"format": 1, "name": "orientation", "version": "1.2.0", "created": "...Z",
     "files": [{"path": "model.onnx", "sha256": "<hex>", "size": 123}],
     "entrypoint": "model.onnx",
     "target": {"arch": [...] or null, "execution_provider": ... or null, "min_memory_mb": ... or null},
     "health": {"max_p95_ms": ... or null, "max_error_rate": 0.0, "warmup": 3, "runs": 10,
                "samples": "samples.npz" or null},
     "reference": {...}}
"""

import hashlib
import json
import posixpath
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from edgetui.artifacts.errors import ArtifactInputError

FORMAT = 1
# The same patterns as the device shim's manifest check: a name has no "+",
# because the shim uses it in file names next to the version.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
VERSION_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
# Names the device keeps for itself inside every release folder.
RESERVED_NAMES = ("manifest.json", "manifest.sig")
MAX_PATH_CHARS = 1024
MAX_COMPONENT_CHARS = 255
MAX_WARMUP = 1000
MAX_RUNS = 10000
SAMPLES_NAME = "samples.npz"


@dataclass(frozen=True)
class ReleaseFile:
    """One file of a release: its path inside the release, sha256 and size in bytes."""

    path: str
    sha256: str
    size: int

    def as_json(self) -> dict[str, Any]:
        """Return the manifest's entry for this file."""
        return {"path": self.path, "sha256": self.sha256, "size": self.size}


@dataclass(frozen=True)
class Target:
    """Hardware a release needs; None means any."""

    arch: list[str] | None = None
    execution_provider: str | None = None
    min_memory_mb: int | None = None

    def as_json(self) -> dict[str, Any]:
        """Return the manifest's ``target`` object."""
        return {
            "arch": list(self.arch) if self.arch else None,
            "execution_provider": self.execution_provider,
            "min_memory_mb": self.min_memory_mb,
        }


@dataclass(frozen=True)
class HealthBudget:
    """The health check a device runs after activation, and the limits it must meet."""

    max_p95_ms: float | None = None
    max_error_rate: float = 0.0
    warmup: int = 3
    runs: int = 10
    samples: str | None = None

    def as_json(self) -> dict[str, Any]:
        """Return the manifest's ``health`` object."""
        return {
            "max_p95_ms": self.max_p95_ms,
            "max_error_rate": self.max_error_rate,
            "warmup": self.warmup,
            "runs": self.runs,
            "samples": self.samples,
        }


@dataclass
class ManifestDraft:
    """Everything a manifest contains, before it is serialized."""

    name: str
    version: str
    files: list[ReleaseFile]
    entrypoint: str
    target: Target = field(default_factory=Target)
    health: HealthBudget = field(default_factory=HealthBudget)
    reference: dict[str, Any] = field(default_factory=dict)
    created: str = ""

    def as_json(self) -> dict[str, Any]:
        """Return the manifest object; ``created`` defaults to the current UTC second."""
        return {
            "format": FORMAT,
            "name": self.name,
            "version": self.version,
            "created": self.created or utc_timestamp(),
            "files": [entry.as_json() for entry in self.files],
            "entrypoint": self.entrypoint,
            "target": self.target.as_json(),
            "health": self.health.as_json(),
            "reference": self.reference,
        }


def utc_timestamp(moment: datetime | None = None) -> str:
    """Format a time as the manifest's ``created``: UTC, whole seconds, ending in Z."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical_bytes(manifest: dict[str, Any]) -> bytes:
    """Return the signed bytes: JSON with sorted keys, no spaces, ASCII only.

    Raises ValueError for NaN or infinity, which JSON cannot carry and a device
    would parse differently.
    """
    text = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return text.encode("ascii")


def manifest_id(manifest: dict[str, Any]) -> str:
    """Return the artifact id: the hex sha256 of the canonical manifest."""
    return hashlib.sha256(canonical_bytes(manifest)).hexdigest()


def same_content(first: dict[str, Any], second: dict[str, Any]) -> bool:
    """Tell whether two manifests differ at most in ``created`` and ``reference``.

    The reference statistics come from floating-point runs, so they may differ
    in the last digits between onnxruntime versions for the same files.
    """
    ignored = ("created", "reference")
    return {k: v for k, v in first.items() if k not in ignored} == {
        k: v for k, v in second.items() if k not in ignored
    }


def check_name(name: str) -> str:
    """Return ``name`` when it is a valid artifact name, else raise ArtifactInputError."""
    if not NAME_PATTERN.fullmatch(name or ""):
        raise ArtifactInputError(
            f"Invalid artifact name {name!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )
    return name


def check_version(version: str) -> str:
    """Return ``version`` when it is a valid artifact version, else raise ArtifactInputError."""
    if not VERSION_PATTERN.fullmatch(version or ""):
        raise ArtifactInputError(
            f"Invalid artifact version {version!r}: use 1-64 letters, digits, '.', '_', '+' or '-', "
            "starting with a letter or digit, such as 1.2.0."
        )
    return version


def check_release_path(path: str) -> str:
    """Return ``path`` when it is a safe file name inside a release, else raise ArtifactInputError.

    A safe name is a relative POSIX path that stays inside the release folder:
    not absolute, no `..`, `.` or empty component, no backslash, NUL or control
    character, and none of the names the device reserves.
    """
    problem = _release_path_problem(path)
    if problem:
        raise ArtifactInputError(f"Unsafe file name {path!r} in the artifact: it {problem}. Rename the file.")
    return path


def _release_path_problem(path: str) -> str | None:
    """Return why ``path`` is not a safe release file name, or None."""
    if not path:
        return "is empty"
    if "\\" in path:
        return "contains a backslash"
    if any(ord(char) < 32 or ord(char) == 127 for char in path):
        return "contains a NUL or control character"
    if any(0xDC80 <= ord(char) <= 0xDCFF for char in path):
        # os.fsdecode maps bytes that are not UTF-8 to these surrogates.
        return "is not valid UTF-8"
    if path.startswith("/"):
        return "is absolute"
    components = path.split("/")
    if ".." in components:
        return "contains a '..' component"
    if any(component in ("", ".") for component in components):
        return "has an empty or '.' component"
    if len(path) > MAX_PATH_CHARS or any(len(component) > MAX_COMPONENT_CHARS for component in components):
        return f"is longer than {MAX_PATH_CHARS} characters or has a component longer than {MAX_COMPONENT_CHARS}"
    if posixpath.normpath(path) in RESERVED_NAMES:
        return "is reserved for the release's own manifest"
    return None
