"""The local artifact store: model files and their variants, addressed by sha256.

Later steps sign and deploy artifacts from here. The store therefore has no
notion of models: it keeps bytes under their sha256 and returns paths.
"""

from edgetui.artifacts.records import ModelRecord, VariantRecord
from edgetui.artifacts.store import ArtifactStore, default_artifact_root, sha256_of_file

__all__ = [
    "ArtifactStore",
    "ModelRecord",
    "VariantRecord",
    "default_artifact_root",
    "sha256_of_file",
]
