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


# `docker info` lines that describe the host, and the facts they can supply.
DOCKER_INFO_FACTS = (
    ("Architecture", "arch"),
    ("Kernel Version", "kernel"),
    ("Operating System", "os_name"),
    ("CPUs", "cpu_cores"),
    ("Total Memory", "mem_total_mb"),
)

_MEMORY_UNITS_MIB = {"kib": 1.0 / 1024, "mib": 1.0, "gib": 1024.0, "tib": 1024.0 * 1024}


def facts_from_docker_info(text):
    """Return the host facts that a `docker info` output states, converted to reply types."""
    facts = {}
    for label, key in DOCKER_INFO_FACTS:
        match = re.search(r"^\s*" + re.escape(label) + r":\s*(.+?)\s*$", text or "", re.MULTILINE)
        if not match:
            continue
        value = match.group(1)
        if key == "cpu_cores":
            value = int(value) if value.isdigit() else None
        elif key == "mem_total_mb":
            value = _mebibytes(value)
        if value:
            facts[key] = value
    return facts


def _mebibytes(text):
    """Convert a size such as `927.3MiB` or `7.6GiB` to whole MiB, or None."""
    match = re.match(r"([0-9.]+)\s*([KMGT]iB)$", text, re.IGNORECASE)
    if not match:
        return None
    return int(float(match.group(1)) * _MEMORY_UNITS_MIB[match.group(2).lower()])


def fill_from_docker_info(ctx, facts):
    """Fill facts that every other source left null from `docker info`, with a warning.

    Docker reports the machine its daemon runs on, which is this device unless
    DOCKER_HOST points elsewhere, so it is used only as the last source.
    """
    runtime = facts.get("container_runtime")
    if not runtime or runtime.get("name") != "docker":
        return
    filled = []
    for key, value in facts_from_docker_info(ctx.output(["docker", "info"])).items():
        if facts.get(key) is None:
            facts[key] = value
            filled.append(key)
    if filled:
        ctx.warn("taken from `docker info`: " + ", ".join(filled))
