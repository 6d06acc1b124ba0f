"""Collect the files of a new artifact from a model file or a folder, rejecting unsafe names."""

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from edgetui.artifacts.errors import ArtifactInputError
from edgetui.artifacts.manifest import check_release_path

log = logging.getLogger("edgetui.artifacts")

MODEL_SUFFIXES = (".onnx", ".ort")


@dataclass(frozen=True)
class SourceFile:
    """A file to package: its path inside the release and the file it is read from."""

    release_path: str
    source: Path


@dataclass(frozen=True)
class SourceSet:
    """The files of a new artifact and the path of its model inside the release."""

    files: list[SourceFile]
    entrypoint: str

    @property
    def entrypoint_source(self) -> Path:
        """The model file on disk."""
        return next(entry.source for entry in self.files if entry.release_path == self.entrypoint)


def collect_sources(path: Path, entrypoint: str | None = None) -> SourceSet:
    """Return the files of a model file or folder, or raise ArtifactInputError naming the problem."""
    path = Path(path)
    if not path.exists():
        raise ArtifactInputError(f"Model path not found: {path}. Give a .onnx or .ort file, or a folder.")
    if path.is_dir():
        return _collect_folder(path, entrypoint)
    if not path.is_file():
        raise ArtifactInputError(f"Model path {path} is not a regular file or a folder.")
    _check_model_suffix(path)
    name = path.name
    if entrypoint is not None and entrypoint != name:
        raise ArtifactInputError(
            f"--entrypoint {entrypoint!r} does not match the model file {name!r}; "
            "--entrypoint applies to folders only."
        )
    check_release_path(name)
    return SourceSet(files=[SourceFile(name, path)], entrypoint=name)


def _check_model_suffix(path: Path) -> None:
    if path.suffix.lower() not in MODEL_SUFFIXES:
        raise ArtifactInputError(
            f"{path} is not a model file: expected a name ending in .onnx or .ort. "
            "Give the model file, or a folder that contains it."
        )


def _collect_folder(folder: Path, entrypoint: str | None) -> SourceSet:
    """Walk ``folder`` without following links and choose the entrypoint."""
    root = folder.resolve()
    files = []
    for directory, subdirectories, names in os.walk(folder, followlinks=False):
        subdirectories.sort()
        for subdirectory in subdirectories:
            if (Path(directory) / subdirectory).is_symlink():
                raise ArtifactInputError(
                    f"{Path(directory) / subdirectory} is a symbolic link to a folder, which artifacts "
                    "do not support. Copy the folder in instead."
                )
        for name in sorted(names):
            files.append(_folder_entry(root, folder, Path(directory) / name))
    if not files:
        raise ArtifactInputError(f"The folder {folder} is empty. Give a folder that contains the model file.")
    return SourceSet(files=files, entrypoint=_choose_entrypoint(folder, files, entrypoint))


def _folder_entry(root: Path, folder: Path, file_path: Path) -> SourceFile:
    """Check one file of the folder: a safe name, and a link that stays inside the folder."""
    release_path = file_path.relative_to(folder).as_posix()
    check_release_path(release_path)
    if file_path.is_symlink():
        target = file_path.resolve()
        if not target.is_relative_to(root):
            raise ArtifactInputError(
                f"{file_path} is a symbolic link to {target}, outside the folder {folder}. "
                "Copy the file into the folder instead."
            )
    if not file_path.is_file():
        raise ArtifactInputError(f"{file_path} is not a regular file (a broken link, socket or device).")
    return SourceFile(release_path, file_path)


def _choose_entrypoint(folder: Path, files: list[SourceFile], entrypoint: str | None) -> str:
    """Return --entrypoint when it is a model file of the folder, else the folder's only model file."""
    names = [entry.release_path for entry in files]
    if entrypoint is not None:
        if entrypoint not in names:
            raise ArtifactInputError(
                f"--entrypoint {entrypoint!r} is not a file of {folder}. Give its path relative to the folder."
            )
        _check_model_suffix(Path(entrypoint))
        return entrypoint
    models = [name for name in names if Path(name).suffix.lower() in MODEL_SUFFIXES]
    if len(models) == 1:
        return models[0]
    if not models:
        raise ArtifactInputError(f"The folder {folder} contains no .onnx or .ort file. Add the model file.")
    raise ArtifactInputError(
        f"The folder {folder} contains {len(models)} model files ({', '.join(models)}). "
        "Choose one with --entrypoint."
    )
