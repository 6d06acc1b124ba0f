"""Targets of `edgetui optimize`: the laptop, a sample fleet profile, or a fleet device.

Every target carries HardwareFacts as the device shim reports them:

- ``laptop``: the shim's inventory run in this process against ``/``.
- a profile (a profile folder, or the name of a bundled sample fleet profile):
  the same inventory collectors run in this process with the profile's
  ``root/`` as root. Their PATH is the one a simulated device gets, with stubs
  that replay the profile's ``commands/``. Profiles capture no Python or onnxruntime,
  so those facts are unknown, and an NVIDIA GPU is taken to mean that
  onnxruntime there has the CUDA and TensorRT providers (JetPack's builds do).
- a device of the fleet database: its latest discovered facts; a device never
  discovered gets its facts from the shim when it is benchmarked.

`benchmark_on_devices` times variants on device targets through the shim's
`benchmark` command, with the device's own onnxruntime.
"""

import asyncio
import logging
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from edgetui.artifacts.records import DeviceLatency
from edgetui.domain import Device, HardwareFacts
from edgetui.errors import EdgetuiError, InputError

log = logging.getLogger("edgetui.optimize")

LAPTOP = "laptop"
# Folder of uploaded benchmark files, relative to the device user's home.
BENCH_DIR = ".edgetui/bench"

# Execution providers that run on a GPU; fp16 variants are meant for these.
GPU_PROVIDERS = (
    "TensorrtExecutionProvider",
    "CUDAExecutionProvider",
    "ROCMExecutionProvider",
    "MIGraphXExecutionProvider",
    "DmlExecutionProvider",
)
# CPU flags of 8-bit integer dot product instructions: VNNI on x86 (AVX-512 or
# AVX), the ARMv8.2 dot product extension (asimddp in /proc/cpuinfo).
INT8_DOT_PRODUCT_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "avx_vnni_int8", "asimddp"})

# Platforms of onnxruntime's ORT format converter (`--target_platform`).
_PLATFORMS = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm",
    "arm64": "arm",
}
# NOTE: an estimate, not a measurement. onnxruntime keeps about twice the file
# in memory (weights plus prepacked copies), and its libraries take some 30 MiB.
MEMORY_OVERHEAD_MB = 32
MEMORY_FACTOR = 2


@dataclass
class Target:
    """A machine that a variant is recommended for, with the facts the choice rests on."""

    name: str
    kind: str
    """laptop, profile or device."""
    facts: HardwareFacts | None
    device: Device | None = None
    caveats: list[str] = field(default_factory=list)
    """Limits of the facts, repeated in every reason written for this target."""
    assumed_providers: list[str] = field(default_factory=list)
    """Execution providers taken from the accelerators when onnxruntime was not read."""

    @property
    def is_laptop(self) -> bool:
        """Tell whether the target is the machine running edgetui."""
        return self.kind == "laptop"

    @property
    def platform(self) -> str | None:
        """Return the ORT format platform (amd64, arm), or None when unknown."""
        arch = (self.facts.arch if self.facts else None) or ""
        if arch.startswith("armv"):
            return "arm"
        return _PLATFORMS.get(arch.lower())

    @property
    def providers(self) -> list[str]:
        """Return the execution providers of the target's onnxruntime, read or assumed."""
        if self.facts is not None and self.facts.onnxruntime is not None:
            return list(self.facts.onnxruntime.providers)
        return list(self.assumed_providers)

    @property
    def gpu_providers(self) -> list[str]:
        """Return the GPU execution providers among ``providers``, best first."""
        available = set(self.providers)
        return [name for name in GPU_PROVIDERS if name in available]

    @property
    def has_int8_dot_product(self) -> bool:
        """Tell whether the CPU flags include VNNI or the ARM dot product extension."""
        flags = {flag.lower() for flag in (self.facts.cpu_flags if self.facts else [])}
        return bool(flags & INT8_DOT_PRODUCT_FLAGS)

    @property
    def memory_mb(self) -> int | None:
        """Return the available memory in MiB, else the total, else None."""
        if self.facts is None:
            return None
        return self.facts.mem_available_mb or self.facts.mem_total_mb

    @property
    def onnxruntime_missing(self) -> bool:
        """Tell whether the device's facts were read and report no onnxruntime for its python3."""
        return self.kind == "device" and self.facts is not None and self.facts.onnxruntime is None

    def memory_needed_mb(self, size_bytes: int) -> int:
        """Estimate the memory in MiB that onnxruntime needs for a model file of ``size_bytes``."""
        return int(MEMORY_FACTOR * size_bytes / (1024 * 1024)) + MEMORY_OVERHEAD_MB

    def fits(self, size_bytes: int) -> bool:
        """Tell whether a model file of ``size_bytes`` fits in memory; unknown memory fits."""
        memory = self.memory_mb
        return memory is None or self.memory_needed_mb(size_bytes) <= memory

    def describe(self) -> str:
        """Return a short description such as ``rpi4-aarch64 (aarch64, 4 cores)``."""
        if self.facts is None:
            return self.name
        parts = [part for part in (self.facts.arch, _cores(self.facts)) if part]
        return f"{self.name} ({', '.join(parts)})" if parts else self.name


def _cores(facts: HardwareFacts) -> str | None:
    if not facts.cpu_cores:
        return None
    return f"{facts.cpu_cores} core" + ("" if facts.cpu_cores == 1 else "s")


def laptop_target() -> Target:
    """Return this machine as a target, with facts from the shim's inventory collectors."""
    from device_shim.facts.context import Context
    from device_shim.inventory import collect_inventory

    log.info("reading this machine's facts with the device shim's inventory")
    facts = HardwareFacts.model_validate(collect_inventory(Context(root="/")))
    return Target(name=LAPTOP, kind="laptop", facts=facts)


def profile_target(folder: Path) -> Target:
    """Return a sample fleet profile as a target; see the module docstring for its facts."""
    from device_shim.facts.context import Context
    from device_shim.inventory import collect_inventory
    from sample_fleet.commands import install_bin_dir
    from sample_fleet.profiles import ProfileError, load_profile

    try:
        profile = load_profile(folder)
    except ProfileError as exc:
        raise InputError(f"--for {folder}: {exc}. Give a profile folder or a bundled profile name.") from exc
    log.info("reading the facts of profile %s", profile.path)
    with tempfile.TemporaryDirectory(prefix="edgetui-profile-") as scratch:
        bin_dir = Path(scratch) / "bin"
        install_bin_dir(bin_dir, profile, sys.executable)
        # A python that does not exist makes the onnxruntime probe report
        # nothing, instead of this machine's onnxruntime.
        context = Context(root=str(profile.root), search_path=str(bin_dir),
                          python_executable=str(Path(scratch) / "no-python"))
        reply = collect_inventory(context)
    reply["python"] = None
    facts = HardwareFacts.model_validate(reply)
    target = Target(name=profile.name, kind="profile", facts=facts)
    target.caveats.append(f"facts of profile {profile.name} are captures; its onnxruntime is unknown")
    if any(item.vendor == "nvidia" and item.kind == "gpu" for item in facts.accelerators):
        target.assumed_providers = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    return target


def device_target(store, name: str) -> Target:
    """Return a fleet device as a target with its latest discovered facts (None before discovery)."""
    device = store.device(name)
    facts = store.latest_facts(name)
    target = Target(name=name, kind="device", facts=facts, device=device)
    if target.onnxruntime_missing:
        _note_missing_runtime(target)
    return target


def resolve_targets(names: list[str], store) -> list[Target]:
    """Turn the values of --for into targets; none gives the laptop.

    Each value is tried as a profile folder, a device of the fleet database, then
    a bundled profile name. An unknown value raises InputError listing the choices.
    """
    if not names:
        return [laptop_target()]
    targets: list[Target] = []
    for name in names:
        target = _resolve_one(name, store)
        if any(known.name == target.name for known in targets):
            raise InputError(f"--for {name} names the target {target.name} twice. Give each target once.")
        targets.append(target)
    return targets


def _resolve_one(name: str, store) -> Target:
    """Resolve one --for value; see resolve_targets."""
    from sample_fleet.profiles import BUNDLED_PROFILES_DIR

    if name == LAPTOP:
        return laptop_target()
    folder = Path(name).expanduser()
    if (folder / "profile.toml").is_file():
        return profile_target(folder)
    if store is not None and name in {device.name for device in store.devices()}:
        return device_target(store, name)
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name) and (BUNDLED_PROFILES_DIR / name / "profile.toml").is_file():
        return profile_target(BUNDLED_PROFILES_DIR / name)
    where = f"the fleet database {store.path}" if store is not None else "the fleet database"
    raise InputError(
        f"--for {name}: no device of that name in {where}, no profile folder at {folder}, "
        "and no bundled profile of that name. Use a device name from `edgetui fleet list`, "
        "a profile name from `edgetui sample-fleet list`, a profile folder, or laptop."
    )


# Benchmarks on devices


@dataclass
class BenchmarkFile:
    """A local model file to time on devices, under the name ``kind``."""

    kind: str
    path: Path
    sha256: str

    @property
    def remote_path(self) -> str:
        """Return the upload path, named by content; .ort and .npz files keep their suffix."""
        suffix = self.path.suffix if self.path.suffix in (".ort", ".npz") else ".onnx"
        return f"{BENCH_DIR}/{self.sha256}{suffix}"


@dataclass
class BenchmarkSettings:
    """Timing settings for device benchmarks, the same values as on the laptop."""

    threads: int = 1
    warmup: int = 3
    runs: int = 20
    repeats: int = 3
    samples: BenchmarkFile | None = None
    """An .npz of evaluation inputs, one array per input name, first axis = samples."""
    connect_timeout: float = 10.0


@dataclass
class DeviceRun:
    """Results of one device: latency per file label, and the errors of files that failed."""

    target: str
    latencies: dict[str, DeviceLatency] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """Tell whether any file could not be timed for a reason other than a missing onnxruntime."""
        return bool(self.errors)


def benchmark_on_devices(
    store, plan: dict[str, list[BenchmarkFile]], targets: list[Target], settings: BenchmarkSettings
) -> dict[str, DeviceRun]:
    """Time the planned files on each device target, devices in parallel; return runs by target name.

    ``plan`` maps a target name to its files. This opens its own event loop, so
    call it from a thread without a running loop (the CLI's main thread, or a
    TUI worker thread).
    """
    devices = [target for target in targets if target.kind == "device" and target.name in plan]
    if not devices:
        return {}
    return asyncio.run(_benchmark_all(store, plan, devices, settings))


async def _benchmark_all(store, plan, devices: list[Target], settings: BenchmarkSettings) -> dict[str, DeviceRun]:
    from edgetui.shim_client import ShimClient
    from edgetui.ssh import SSHPool

    pool = SSHPool(store, accept_new_host_keys=False, connect_timeout=settings.connect_timeout)
    shim = ShimClient(pool)
    try:
        runs = await asyncio.gather(*(_benchmark_device(pool, shim, t, plan[t.name], settings) for t in devices))
    finally:
        await pool.close()
    return {run.target: run for run in runs}


async def _benchmark_device(pool, shim, target: Target, files: list[BenchmarkFile],
                            settings: BenchmarkSettings) -> DeviceRun:
    """Upload the files a device lacks and time each one there; errors end in the run, not raised."""
    run = DeviceRun(target.name)
    device_log = log.getChild(target.name)
    try:
        if target.facts is None:
            device_log.info("device %s: never discovered; reading its facts with the shim", target.name)
            target.facts = await shim.inventory(target.device)
        if target.facts.onnxruntime is None:
            _note_missing_runtime(target)
            return run
        if settings.samples is not None:
            await _upload(pool, target.device, settings.samples)
        for item in files:
            await _upload(pool, target.device, item)
            reply = await shim.call(target.device, "benchmark", _request(target, item, settings))
            if reply.get("ok"):
                run.latencies[item.kind] = _latency_from_reply(reply)
                continue
            if reply.get("reason") == "onnxruntime-missing":
                _note_missing_runtime(target)
                return run
            run.errors.append(f"{item.kind}: {reply.get('error', 'the benchmark failed without a message')}")
            device_log.error("device %s: benchmark of %s failed: %s", target.name, item.kind, reply.get("error"))
    except EdgetuiError as exc:
        device_log.error("device %s: benchmark failed: %s", target.name, exc)
        run.errors.append(str(exc))
    return run


def _note_missing_runtime(target: Target) -> None:
    """Add the caveat of a device without onnxruntime, once."""
    caveat = (
        f"device {target.name} has no onnxruntime for its python3, so nothing was measured there; "
        "these are laptop numbers (install onnxruntime on the device to benchmark there)"
    )
    if caveat not in target.caveats:
        target.caveats.append(caveat)
    log.warning("device %s: onnxruntime missing; recommending from laptop numbers", target.name)


async def _upload(pool, device: Device, item: BenchmarkFile) -> None:
    """Upload a file unless the device already has the same bytes at its content-addressed path."""
    if await pool.file_sha256(device, item.remote_path) == item.sha256:
        return
    await pool.write_file(device, item.remote_path, item.path.read_bytes())


def _request(target: Target, item: BenchmarkFile, settings: BenchmarkSettings) -> dict:
    """Build the shim's benchmark request; threads never exceed the device's cores."""
    cores = target.facts.cpu_cores if target.facts else None
    threads = min(settings.threads, cores) if cores else settings.threads
    providers = ["CPUExecutionProvider"]
    if item.kind == "fp16" and target.gpu_providers:
        providers = [*target.gpu_providers, "CPUExecutionProvider"]
    request = {
        "model": item.remote_path,
        "threads": threads,
        "warmup": settings.warmup,
        "runs": settings.runs,
        "repeats": settings.repeats,
        "providers": providers,
    }
    if settings.samples is not None:
        request["samples"] = settings.samples.remote_path
    return request


def _latency_from_reply(reply: dict) -> DeviceLatency:
    runtime = reply.get("onnxruntime") or {}
    return DeviceLatency(
        p50_ms=reply["p50_ms"],
        p95_ms=reply["p95_ms"],
        threads=reply["threads"],
        runs=reply["runs"],
        onnxruntime=runtime.get("version"),
        providers=runtime.get("providers") or [],
    )
