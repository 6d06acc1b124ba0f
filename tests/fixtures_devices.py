"""Build device roots and fake programs from the hardware captures in the shared fixtures.

Each capture is placed where the board has it (`proc_cpuinfo` becomes
`<root>/proc/cpuinfo`), and a command capture becomes a script in a private
bin folder that prints it for the exact argument list and exits 1 otherwise.
PATH then contains only that bin folder and a toolset folder of symlinks to the
few programs the scripts and the sh fallback need, so the machine's own
uname, lsusb, nvidia-smi or docker never run.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

FIXTURES_DIR = Path(os.environ.get("EDGETUI_DEVICE_FIXTURES", "/work/shared/fixtures/devices"))

# Programs the fake scripts and inventory.sh call. nproc, uname, df and the
# like are left out on purpose where they would report this machine.
TOOLSET = ("sh", "cat", "sleep", "awk", "sed", "tr", "head")

# (file name pattern, kind, target). kind "file" puts the capture at target
# under the root; "command" makes `target` print the capture for the listed argument lists;
# "zones" builds thermal zone folders from a `path: type` listing.
PLACEMENTS = (
    (r"proc_cpuinfo", "file", "proc/cpuinfo"),
    (r"^proc_version$", "file", "proc/version"),
    (r"nv_tegra_release", "file", "etc/nv_tegra_release"),
    (r"os-release", "file", "etc/os-release"),
    (r"^openwrt_release$", "file", "etc/openwrt_release"),
    (r"devicetree_model", "file", "proc/device-tree/model"),
    (r"devicetree_compatible", "file", "proc/device-tree/compatible"),
    (r"devicetree_serial-number", "file", "proc/device-tree/serial-number"),
    (r"getty_banner", "file", "etc/issue"),
    (r"libedgetpu_debug|ncapi_log", "file", "var/log/{name}"),
    (r"thermal_zone_types", "zones", None),
    (r"uname_a", "command", ("uname", [["-a"]])),
    (r"lsusb", "command", ("lsusb", [[]])),
    (r"nvidia-smi_L", "command", ("nvidia-smi", [["-L"]])),
    (r"nvidia-smi", "command", ("nvidia-smi", [[]])),
    (r"docker_info", "command", ("docker", [["info"]])),
    # This firmware's free ignored -m, so it prints the same KiB table with or without it.
    (r"free_m\.busybox", "command", ("free", [["-m"], []])),
    (r"free_h", "command", ("free", [["-h"]])),
    (r"^free$", "command", ("free", [[]])),
    (r"df_h", "command", ("df", [["-h"]])),
    (r"lscpu", "command", ("lscpu", [[]])),
    (r"hostnamectl", "command", ("hostnamectl", [[]])),
    (r"tegrastats", "command", ("tegrastats", [[]])),
    (r"dmesg", "command", ("dmesg", [[]])),
    (r"cpufetch", "command", ("cpufetch", [["-v"]])),
)

# Captures of a shell's "command not found" text: the fake prints it and exits
# 127, as Ubuntu's command-not-found handler does, so a detector that ignores
# the exit status would be caught.
NOT_FOUND_TEXT = re.compile(r"command not found|not found, but can be installed")


def all_captures():
    """Return every capture file's path relative to FIXTURES_DIR, sorted."""
    names = []
    for path in sorted(FIXTURES_DIR.rglob("*")):
        if path.is_file() and path.name not in ("SOURCE.md", "INDEX.md"):
            names.append(path.relative_to(FIXTURES_DIR).as_posix())
    return names


def main_unit_captures(folder):
    """Return the captures of a folder's main unit: the files without a `unitX_` prefix."""
    return [name for name in all_captures() if name.startswith(folder + "/") and not re.match(r"unit[A-Z]_", name.split("/")[1])]


def placement(name):
    """Return (kind, target) for a capture file name, or raise KeyError when no rule matches."""
    for pattern, kind, target in PLACEMENTS:
        if re.search(pattern, name):
            return kind, target
    raise KeyError("no placement rule for capture " + name)


@dataclass
class DeviceRoot:
    """A temporary device: the root prefix, the fake programs and the PATH that finds them."""

    root: Path
    bin_dir: Path
    toolset_dir: Path
    commands: dict = field(default_factory=dict)

    @property
    def search_path(self):
        return os.pathsep.join([str(self.bin_dir), str(self.toolset_dir)])

    def env(self, **extra):
        """Return an environment with only this device's PATH, plus extra variables."""
        env = {key: value for key, value in os.environ.items() if key not in ("EDGETUI_SHIM_ROOT",)}
        env["PATH"] = self.search_path
        env.update(extra)
        return env

    def add_file(self, relative, data):
        """Write data (bytes or str) at a device path under the root."""
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data if isinstance(data, bytes) else data.encode())

    def add_command(self, program, args, capture, status=0):
        """Make program print the capture file when called with exactly args."""
        self.commands.setdefault(program, []).append((list(args), Path(capture), status))
        self._write_script(program)

    def add_script(self, program, body):
        """Install a fake program with a custom sh body."""
        script = self.bin_dir / program
        script.write_text("#!/bin/sh\n" + body)
        script.chmod(0o755)

    def _write_script(self, program):
        lines = ["#!/bin/sh", 'case "$*" in']
        for args, capture, status in self.commands[program]:
            lines.append("    {})".format(shlex.quote(" ".join(args))))
            lines.append("        cat {}".format(shlex.quote(str(capture))))
            lines.append("        exit {} ;;".format(status))
        lines += ["esac", "exit 1", ""]
        self.add_script(program, "\n".join(lines[1:]))


def make_device_root(tmp_path):
    """Create an empty device root with its bin and toolset folders under tmp_path."""
    device = DeviceRoot(root=tmp_path / "root", bin_dir=tmp_path / "bin", toolset_dir=tmp_path / "toolset")
    for directory in (device.root, device.bin_dir, device.toolset_dir):
        directory.mkdir(parents=True, exist_ok=True)
    for program in TOOLSET:
        found = shutil.which(program)
        if found:
            (device.toolset_dir / program).symlink_to(found)
    return device


def place_capture(device, name):
    """Place one capture (a path relative to FIXTURES_DIR) in the device."""
    source = FIXTURES_DIR / name
    base = source.name
    kind, target = placement(base)
    if kind == "file":
        device.add_file(target.format(name=base), source.read_bytes())
    elif kind == "zones":
        for line in source.read_text().splitlines():
            match = re.match(r"^/sys/class/thermal/(thermal_zone\d+):\s*(\S+)", line)
            if match:
                device.add_file("sys/class/thermal/{}/type".format(match.group(1)), match.group(2) + "\n")
    else:
        program, arg_lists = target
        status = 127 if NOT_FOUND_TEXT.search(source.read_text(errors="replace")) else 0
        for args in arg_lists:
            device.add_command(program, args, source, status)


def build_device(tmp_path, names):
    """Return a DeviceRoot holding all the given captures."""
    device = make_device_root(tmp_path)
    for name in names:
        place_capture(device, name)
    return device


def run_shim(device, python=sys.executable, shim=None, extra_args=(), env=None, timeout=120):
    """Run `inventory --root` against the device with python; return the CompletedProcess.

    shim is a zipapp path; without it the installed package runs as `-m device_shim`.
    """
    target = [str(shim)] if shim else ["-m", "device_shim"]
    argv = [python] + target + ["inventory", "--root", str(device.root)] + list(extra_args)
    return subprocess.run(
        argv,
        capture_output=True,
        text=True,
        env=env or device.env(),
        cwd=str(device.root.parent),
        timeout=timeout,
    )
