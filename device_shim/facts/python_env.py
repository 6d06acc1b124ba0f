"""The running Python and the onnxruntime it imports."""

import importlib.util
import json
import os
import platform
import sys

from device_shim.facts.disk import shim_directory

# Run in a child interpreter, so a broken onnxruntime install (a crash in its
# native library, a hang while loading providers) cannot take the shim down.
ONNXRUNTIME_PROBE = (
    "import json, onnxruntime as ort\n"
    "print(json.dumps({'version': str(ort.__version__),"
    " 'providers': [str(p) for p in ort.get_available_providers()]}))\n"
)

# Importing onnxruntime takes a few seconds on a Raspberry Pi Zero class CPU.
ONNXRUNTIME_TIMEOUT = 30.0


def collect_python(ctx):
    """Return the running interpreter's version, e.g. `3.6.9`."""
    return {"python": platform.python_version()}


def collect_onnxruntime(ctx):
    """Return {version, providers} when this interpreter imports onnxruntime, else None.

    Importing onnxruntime costs a few hundred milliseconds of CPU on a laptop and
    seconds on a small board, so the result is cached on the device until the
    installed onnxruntime package changes.
    """
    executable = ctx.python_executable or sys.executable
    if not executable:
        return {"onnxruntime": None}

    fingerprint = None
    if executable == sys.executable:
        # find_spec locates a top-level package without importing it.
        spec = importlib.util.find_spec("onnxruntime")
        if spec is None or not spec.origin:
            return {"onnxruntime": None}
        fingerprint = _package_fingerprint(executable, spec.origin)
        cached = _read_cache(fingerprint)
        if cached is not None:
            return {"onnxruntime": cached}

    info = _probe_onnxruntime(ctx, executable)
    if info is not None and fingerprint is not None:
        _write_cache(ctx, fingerprint, info)
    return {"onnxruntime": info}


def _probe_onnxruntime(ctx, executable):
    """Import onnxruntime in a child interpreter; return {version, providers} or None."""
    timeout = max(ctx.timeout, ONNXRUNTIME_TIMEOUT)
    output = ctx.output([executable, "-c", ONNXRUNTIME_PROBE], timeout=timeout)
    if not output:
        return None
    reply = json.loads(output.strip().splitlines()[-1])
    if not isinstance(reply, dict) or not isinstance(reply.get("version"), str):
        return None
    providers = [name for name in reply.get("providers") or [] if isinstance(name, str)]
    return {"version": reply["version"], "providers": providers}


def _package_fingerprint(executable, origin):
    """Return what identifies an onnxruntime install: interpreter, path and file times."""
    package = os.path.dirname(origin)
    parts = [executable, origin]
    for path in (origin, os.path.join(package, "capi")):
        try:
            info = os.stat(path)
        except OSError:
            continue
        parts.append("%s:%d:%d" % (path, info.st_mtime_ns, info.st_size))
    return "|".join(parts)


def _cache_path():
    """Return the cache file, or None when the shim does not run from its device layout.

    On a device the shim is `.edgetui/shim/<sha256>/shim.pyz`, unpacked beside it
    into `src/`, and the cache sits in `.edgetui/cache/`. Run from anywhere else
    (tests, a checkout), it caches nothing.
    """
    path = shim_directory()
    while True:
        parent = os.path.dirname(path)
        if parent == path:
            return None
        if os.path.basename(parent) == "shim":
            return os.path.join(os.path.dirname(parent), "cache", "onnxruntime.json")
        path = parent


def _read_cache(fingerprint):
    """Return the cached {version, providers} for ``fingerprint``, or None."""
    path = _cache_path()
    if path is None:
        return None
    try:
        with open(path, "r") as handle:
            entry = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("fingerprint") != fingerprint:
        return None
    info = entry.get("onnxruntime")
    return info if isinstance(info, dict) else None


def _write_cache(ctx, fingerprint, info):
    """Store ``info`` for ``fingerprint``; a failure only costs the next run's speed."""
    path = _cache_path()
    if path is None:
        return
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temporary = "%s.%d.tmp" % (path, os.getpid())
        with open(temporary, "w") as handle:
            json.dump({"fingerprint": fingerprint, "onnxruntime": info}, handle)
        os.rename(temporary, path)
    except OSError as exc:
        ctx.warn("cannot cache the onnxruntime probe in %s: %s" % (path, exc))
