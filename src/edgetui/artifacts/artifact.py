"""Artifact: a packaged, signed release as the fleet database records it. No I/O."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edgetui.artifacts.manifest import ReleaseFile


@dataclass(frozen=True)
class Artifact:
    """One release in the local catalog; its manifest is the blob named by ``id``."""

    id: str
    """Hex sha256 of the canonical manifest."""
    name: str
    version: str
    created: str
    """The manifest's ``created``: UTC, ending in Z."""
    files: list[ReleaseFile]
    size_bytes: int
    """Sum of the files' sizes, without the manifest."""
    entrypoint: str
    target: dict[str, Any]
    health: dict[str, Any]
    signature: str
    """Ed25519 signature of the canonical manifest, base64."""
    signer_fingerprint: str
    signer_key_name: str
    """Name devices trust the signer's public key under."""
    signer_public_key: str
    """Raw Ed25519 public key of the signer, 64 hex digits."""
    added_at: datetime | None = None

    @property
    def ref(self) -> str:
        """NAME:VERSION, the form users type."""
        return f"{self.name}:{self.version}"
