"""Errors of artifact packaging, lookup and verification."""

from edgetui.errors import EdgetuiError, InputError


class ArtifactInputError(InputError):
    """A model file, folder, option or reference given for an artifact is invalid."""

    title = "Invalid artifact"


class ArtifactConflictError(InputError):
    """NAME:VERSION is already recorded with other content."""

    title = "Artifact version already exists"

    def __init__(self, name: str, version: str, existing_id: str, new_id: str) -> None:
        self.existing_id = existing_id
        self.new_id = new_id
        super().__init__(
            f"{name}:{version} already exists as artifact {existing_id}, and the files or options "
            f"given now make a different artifact {new_id}. Give a new --version, or add the "
            "same files and options again."
        )


class ArtifactTamperedError(EdgetuiError):
    """A stored artifact no longer matches its manifest or its signature."""

    title = "Artifact damaged"

    def __init__(self, artifact_id: str, problem: str, path: str | None = None) -> None:
        self.artifact_id = artifact_id
        self.problem = problem
        self.path = path
        super().__init__(
            f"Artifact {artifact_id} failed verification: {problem}. Do not deploy it: "
            "add the model again under a new version."
        )
