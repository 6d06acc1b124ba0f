"""The container runtime (docker, then podman) and whether its daemon responds."""

import re


def server_version_from_info(text):
    """Return the `Server Version:` of `docker info` or `podman info`, or None.

    Docker before 17.x prints a flat list and later versions indent it under
    `Server:`; the line reads the same in both.
    """
    match = re.search(r"^\s*Server Version:\s*(\S+)", text or "", re.MULTILINE)
    return match.group(1) if match else None


def client_version(text):
    """Return the version of `docker --version` (`Docker version 24.0.7, build afdd53b`) or podman's."""
    match = re.search(r"version\s+v?([0-9][\w.+~-]*?)(,|\s|$)", text or "", re.IGNORECASE)
    return match.group(1) if match else None


def probe_runtime(ctx, name):
    """Return {name, version, daemon_running} for docker or podman, or None when it is missing."""
    version = (ctx.output([name, "version", "--format", "{{.Server.Version}}"]) or "").strip()
    if version and " " not in version:
        return {"name": name, "version": version, "daemon_running": True}

    version = server_version_from_info(ctx.output([name, "info"]))
    if version:
        return {"name": name, "version": version, "daemon_running": True}

    # Only the client responded. The runtime is installed, but the daemon is
    # stopped or this user may not use its socket.
    version = client_version(ctx.output([name, "--version"]))
    if version:
        return {"name": name, "version": version, "daemon_running": False}
    return None


def collect_container_runtime(ctx):
    """Return the first container runtime found (docker, then podman), or None."""
    for name in ("docker", "podman"):
        runtime = probe_runtime(ctx, name)
        if runtime:
            return {"container_runtime": runtime}
    return {"container_runtime": None}
