"""The `stage` command: verify a release and unpack it into releases/<id>.

Request: {"manifest": {...}, "signature": "<base64>", "key": "<trusted key name>"}.
Every check runs before anything changes, in this order: manifest shape, file
names, signature, architecture, memory, artifacts, disk space.
"""

import glob
import os
import shutil

from device_shim.release import checks, journal
from device_shim.release import manifest as manifests
from device_shim.release.errors import ReleaseError
from device_shim.release.files import ensure_dir, fsync_dir, link_or_copy, write_atomic
from device_shim.release.lock import StateLock
from device_shim.release.trust import check_signature


def run_stage(layout, request):
    """Verify and unpack the requested release; journal the result, including a rejection."""
    try:
        return stage(layout, request)
    except ReleaseError as exc:
        manifest = request.get("manifest") if isinstance(request, dict) else None
        name = manifest.get("name") if isinstance(manifest, dict) else None
        journal.append(layout, "stage", None, "rejected", {"code": exc.code, "error": exc.message, "name": name})
        raise


def stage(layout, request):
    """Run the checks, then unpack under the lock; return the reply fields."""
    manifest = request.get("manifest")
    manifests.check_shape(manifest)
    manifests.check_file_names(manifest)
    canonical = manifests.canonical_bytes(manifest)
    check_signature(layout, request.get("key"), canonical, request.get("signature"))
    checks.check_arch(manifest)
    checks.check_memory(manifest)

    release_id = manifests.release_id(manifest, canonical)
    size = manifests.total_size(manifest)
    reply = {"release": release_id, "bytes": size, "files": len(manifest["files"])}
    with StateLock(layout):
        if layout.is_staged(release_id):
            reply["already_staged"] = True
            return reply
        checks.check_artifacts(layout, manifest)
        checks.check_disk(layout, size)
        methods = unpack(layout, release_id, manifest, canonical, request["signature"])
    reply["already_staged"] = False
    reply["copied"] = methods.count("copy")
    reply["linked"] = methods.count("link")
    journal.append(layout, "stage", release_id, "staged", {"bytes": size, "files": len(manifest["files"])})
    return reply


def unpack(layout, release_id, manifest, canonical, signature_text):
    """Build releases/<id>.tmp.<pid>, fsync it, and rename it to releases/<id>; return link/copy per file.

    The caller holds the lock, so any other releases/*.tmp.* folder was left
    by a killed stage and is removed first.
    """
    ensure_dir(layout.releases)
    for stale in glob.glob(os.path.join(layout.releases, "*.tmp.*")):
        shutil.rmtree(stale, ignore_errors=True)

    final = layout.release_dir(release_id)
    temporary = "{}.tmp.{}".format(final, os.getpid())
    methods = []
    try:
        os.mkdir(temporary)
        folders = set([temporary])
        for entry in manifest["files"]:
            destination = os.path.join(temporary, *entry["path"].split("/"))
            folder = os.path.dirname(destination)
            ensure_dir(folder)
            folders.add(folder)
            methods.append(link_or_copy(layout.artifact(entry["sha256"]), destination))
        write_atomic(os.path.join(temporary, "manifest.json"), canonical)
        write_atomic(os.path.join(temporary, "manifest.sig"), (signature_text + "\n").encode("ascii"))
        for folder in sorted(folders, key=len, reverse=True):
            fsync_dir(folder)
        os.rename(temporary, final)
        fsync_dir(layout.releases)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return methods
