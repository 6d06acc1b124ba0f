"""The `inventory` command: hardware and software facts as one JSON object."""

import os

from device_shim import __version__
from device_shim.facts import accelerators, board, containers, cpu, disk, memory, os_release
from device_shim.facts import python_env, system, thermal
from device_shim.facts.context import Context

ROOT_ENV = "EDGETUI_SHIM_ROOT"

# The reply's keys in the order of edgetui.domain.HardwareFacts, each with the
# value it has when the device does not expose the fact.
FACT_DEFAULTS = (
    ("arch", None),
    ("kernel", None),
    ("os_id", None),
    ("os_version", None),
    ("os_name", None),
    ("board", None),
    ("cpu_model", None),
    ("cpu_cores", None),
    ("cpu_clusters", []),
    ("cpu_flags", []),
    ("mem_total_mb", None),
    ("mem_available_mb", None),
    ("disk_free_mb", None),
    ("temperatures", []),
    ("python", None),
    ("onnxruntime", None),
    ("accelerators", []),
    ("container_runtime", None),
)

# Each collector returns a dict of some of the facts above.
COLLECTORS = (
    system.collect_arch,
    system.collect_kernel,
    os_release.collect_os,
    board.collect_board,
    cpu.collect_cpu_model,
    cpu.collect_cpu_cores,
    cpu.collect_cpu_clusters,
    cpu.collect_cpu_flags,
    memory.collect_memory,
    disk.collect_disk,
    thermal.collect_temperatures,
    python_env.collect_python,
    python_env.collect_onnxruntime,
    accelerators.collect_accelerators,
    containers.collect_container_runtime,
)


def collect_inventory(ctx):
    """Run every collector against ctx and return the reply dict.

    A collector that raises leaves its facts at their defaults and adds a
    warning, so one unreadable file does not fail the whole inventory.
    """
    facts = dict((key, list(value) if isinstance(value, list) else value) for key, value in FACT_DEFAULTS)
    for collect in COLLECTORS:
        try:
            values = collect(ctx)
        except Exception as exc:  # noqa: BLE001 - the reply must always be produced
            ctx.warn("{} failed: {}: {}".format(collect.__name__, type(exc).__name__, exc))
            continue
        for key, value in values.items():
            if key in facts:
                facts[key] = value

    try:
        containers.fill_from_docker_info(ctx, facts)
    except Exception as exc:  # noqa: BLE001 - the reply must always be produced
        ctx.warn("fill_from_docker_info failed: {}: {}".format(type(exc).__name__, exc))

    reply = dict((key, facts[key]) for key, _ in FACT_DEFAULTS)
    reply["limited"] = False
    reply["warnings"] = list(ctx.warnings)
    reply["shim_version"] = __version__
    return reply


def resolve_root(option_value):
    """Return the root prefix: --root, else $EDGETUI_SHIM_ROOT, else `/`."""
    return option_value or os.environ.get(ROOT_ENV) or "/"


def run_inventory(options):
    """Run the `inventory` command for parsed options; return (reply, exit status)."""
    ctx = Context(root=resolve_root(options.get("root")))
    return collect_inventory(ctx), 0
