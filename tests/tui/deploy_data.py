"""Data for the deploy tests of the TUI: the shared release fixtures and fixed records for snapshots."""

from edgetui.artifacts.artifact import Artifact
from release_fixtures import (  # noqa: F401 - re-exported for the TUI tests
    DEVICE_NAMES,
    FAST,
    GOOD_V1,
    GOOD_V2,
    PROFILE,
    SLOW,
    build_artifacts,
    set_fault,
)


def fixed_artifact(name: str, version: str, size_bytes: int, created: str) -> Artifact:
    """Return an artifact record with fixed fields for snapshots; it has no blobs, so it cannot be deployed."""
    return Artifact(
        id=f"{name}{version}".encode().hex().ljust(64, "0")[:64], name=name, version=version, created=created,
        files=[], size_bytes=size_bytes, entrypoint="model.onnx", target={}, health={}, signature="",
        signer_fingerprint="", signer_key_name="edgetui", signer_public_key="0" * 64,
    )
