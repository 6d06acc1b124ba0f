"""The release manifest: its shape, its file names, its canonical bytes and its release id.

A manifest (format 1) names the release, lists every file with its sha256 and
size, and carries the target hardware and the health budget:

    {"format": 1, "name": "orientation", "version": "1.2.0", "created": "...",
     "files": [{"path": "model.onnx", "sha256": "<hex>", "size": 123}],
     "entrypoint": "model.onnx",
     "target": {"arch": ["aarch64"] or null, "execution_provider": "..." or null,
                "min_memory_mb": 256 or null},
     "health": {"max_p95_ms": 50.0 or null, "max_error_rate": 0.0, "warmup": 3,
                "runs": 10, "samples": "samples.npz" or null} or null,
     "reference": {}}

The signature covers the canonical JSON of that object (canonical_bytes).
"""

import hashlib
import json
import posixpath
import re

from device_shim.release.errors import ReleaseError
from device_shim.release.paths import SHA256_PATTERN

FORMAT = 1
REQUIRED_KEYS = ("format", "name", "version", "created", "files", "entrypoint", "target", "health", "reference")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")
# Names the release folder uses for itself, next to the unpacked files.
RESERVED_NAMES = ("manifest.json", "manifest.sig")
MAX_FILES = 10000
MAX_PATH_CHARS = 1024
MAX_COMPONENT_CHARS = 255
MAX_WARMUP = 1000
MAX_RUNS = 10000


def canonical_bytes(manifest):
    """Return the signed bytes: JSON with sorted keys, no spaces, ASCII only."""
    return json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def release_id(manifest, canonical=None):
    """Return "<name>-<version>-<first 12 hex of the canonical manifest's sha256>"."""
    digest = hashlib.sha256(canonical if canonical is not None else canonical_bytes(manifest)).hexdigest()
    return "{}-{}-{}".format(manifest["name"], manifest["version"], digest[:12])


def total_size(manifest):
    """Return the sum of the sizes of the manifest's files, in bytes."""
    return sum(entry["size"] for entry in manifest["files"])


def invalid(message):
    """Return the ReleaseError for a manifest with the wrong shape."""
    return ReleaseError("invalid_manifest", "invalid manifest: " + message)


def check_shape(manifest):
    """Check the manifest's keys and value types; raise ReleaseError "invalid_manifest"."""
    if not isinstance(manifest, dict):
        raise invalid("the manifest must be a JSON object")
    missing = [key for key in REQUIRED_KEYS if key not in manifest]
    if missing:
        raise invalid("missing keys: {}".format(", ".join(missing)))
    if manifest["format"] != FORMAT or isinstance(manifest["format"], bool):
        raise invalid("format must be {}, not {!r}".format(FORMAT, manifest["format"]))
    if not isinstance(manifest["name"], str) or not NAME_PATTERN.match(manifest["name"]):
        raise invalid("name must be 1-64 letters, digits, '.', '_' or '-', not {!r}".format(manifest["name"]))
    if not isinstance(manifest["version"], str) or not VERSION_PATTERN.match(manifest["version"]):
        raise invalid(
            "version must be 1-64 letters, digits, '.', '_', '+' or '-', not {!r}".format(manifest["version"])
        )
    if not isinstance(manifest["created"], str):
        raise invalid("created must be a timestamp string")
    if not isinstance(manifest["reference"], dict):
        raise invalid("reference must be an object")
    _check_files_shape(manifest["files"])
    _check_target(manifest["target"])
    _check_health(manifest["health"])


def _check_files_shape(files):
    """Check that files is a non-empty list of {path, sha256, size}."""
    if not isinstance(files, list) or not files:
        raise invalid("files must be a non-empty list")
    if len(files) > MAX_FILES:
        raise invalid("files lists {} entries, more than {}".format(len(files), MAX_FILES))
    for index, entry in enumerate(files):
        if not isinstance(entry, dict):
            raise invalid("files[{}] must be an object".format(index))
        if not isinstance(entry.get("path"), str):
            raise invalid("files[{}].path must be a string".format(index))
        sha256 = entry.get("sha256")
        if not isinstance(sha256, str) or not SHA256_PATTERN.match(sha256):
            raise invalid("files[{}].sha256 must be 64 lowercase hex digits".format(index))
        size = entry.get("size")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise invalid("files[{}].size must be a non-negative integer".format(index))


def _check_target(target):
    if not isinstance(target, dict):
        raise invalid("target must be an object")
    arch = target.get("arch")
    if arch is not None and (not isinstance(arch, list) or not all(isinstance(item, str) for item in arch)):
        raise invalid("target.arch must be null or a list of architecture names")
    provider = target.get("execution_provider")
    if provider is not None and not isinstance(provider, str):
        raise invalid("target.execution_provider must be null or a string")
    memory = target.get("min_memory_mb")
    if memory is not None and (isinstance(memory, bool) or not isinstance(memory, (int, float)) or memory < 0):
        raise invalid("target.min_memory_mb must be null or a non-negative number")


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_health(health):
    if health is None:
        return
    if not isinstance(health, dict):
        raise invalid("health must be null or an object")
    budget = health.get("max_p95_ms")
    if budget is not None and (not _is_number(budget) or budget <= 0):
        raise invalid("health.max_p95_ms must be null or a positive number of milliseconds")
    rate = health.get("max_error_rate", 0.0)
    if not _is_number(rate) or not 0 <= rate <= 1:
        raise invalid("health.max_error_rate must be a number from 0 to 1")
    for key, low, high in (("warmup", 0, MAX_WARMUP), ("runs", 1, MAX_RUNS)):
        value = health.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise invalid("health.{} must be an integer from {} to {}".format(key, low, high))
    samples = health.get("samples")
    if samples is not None and not isinstance(samples, str):
        raise invalid("health.samples must be null or the path of a file of the release")


def path_error(code, path, reason):
    """Return the ReleaseError for an unsafe or invalid file name."""
    return ReleaseError(code, "file name {!r} {}".format(path, reason), path=path)


def check_file_name(path):
    """Check one manifest file name; return it normalised. Raise "path_traversal" or "invalid_path".

    Names are relative POSIX paths that stay inside the release folder: no
    absolute path, no `..`, no backslash, NUL or control character, and no
    empty or `.` component.
    """
    if not path:
        raise path_error("invalid_path", path, "is empty")
    if "\x00" in path:
        raise path_error("invalid_path", path, "contains a NUL character")
    if "\\" in path:
        raise path_error("invalid_path", path, "contains a backslash; use '/' between folders")
    if any(ord(char) < 32 or ord(char) == 127 for char in path):
        raise path_error("invalid_path", path, "contains a control character")
    if path.startswith("/"):
        raise path_error("path_traversal", path, "is absolute; names must be relative to the release folder")
    components = path.split("/")
    if ".." in components:
        raise path_error("path_traversal", path, "contains a '..' component")
    normalised = posixpath.normpath(path)
    if normalised.startswith("../") or normalised == ".." or posixpath.isabs(normalised):
        raise path_error("path_traversal", path, "leaves the release folder")
    if any(component in ("", ".") for component in components):
        raise path_error("invalid_path", path, "has an empty or '.' component")
    if len(path) > MAX_PATH_CHARS or any(len(component) > MAX_COMPONENT_CHARS for component in components):
        raise path_error("invalid_path", path, "is too long")
    if normalised in RESERVED_NAMES:
        raise path_error("invalid_path", path, "is reserved for the release's own manifest")
    return normalised


def check_file_names(manifest):
    """Check every file name, duplicates and folder/file clashes, and the entrypoint and samples."""
    seen = set()
    for entry in manifest["files"]:
        name = check_file_name(entry["path"])
        if name in seen:
            raise path_error("invalid_path", entry["path"], "is listed twice")
        seen.add(name)
    # "a" and "a/b" cannot both exist: one would have to be a file and a folder.
    for name in seen:
        parent = posixpath.dirname(name)
        while parent:
            if parent in seen:
                raise path_error("invalid_path", name, "is inside {!r}, which is also listed as a file".format(parent))
            parent = posixpath.dirname(parent)
    if manifest["entrypoint"] not in seen:
        raise invalid("entrypoint {!r} is not one of the listed files".format(manifest["entrypoint"]))
    health = manifest["health"]
    if health is not None and health.get("samples") is not None and health["samples"] not in seen:
        raise invalid("health.samples {!r} is not one of the listed files".format(health["samples"]))


def load_staged(layout, release_id_value):
    """Read and parse releases/<id>/manifest.json; raise ReleaseError "not_staged" when it is missing."""
    if not layout.is_staged(release_id_value):
        raise ReleaseError(
            "not_staged",
            "release {!r} is not staged on this device; run stage first".format(release_id_value),
            release=release_id_value,
        )
    path = "{}/manifest.json".format(layout.release_dir(release_id_value))
    with open(path, "rb") as handle:
        return json.loads(handle.read().decode("ascii"))
