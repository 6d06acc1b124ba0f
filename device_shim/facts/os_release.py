"""Operating system identity from os-release, OpenWrt's openwrt_release or lsb-release."""

import re
import shlex

from device_shim.facts.tools import hostnamectl_pairs

ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


def parse_shell_assignments(text):
    """Parse os-release style `KEY=value` lines, with shell quoting and escapes.

    Comments, blank lines and lines that are not a valid assignment (unbalanced
    quotes, no `=`) are skipped, so one bad line does not hide the others.
    """
    values = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = ASSIGNMENT.match(line)
        if not match:
            continue
        try:
            words = shlex.split(match.group(2))
        except ValueError:
            continue
        values[match.group(1)] = " ".join(words)
    return values


def _first_version(*texts):
    for text in texts:
        match = re.search(r"\d+(\.\d+)+", text or "")
        if match:
            return match.group(0)
    return None


def from_os_release(values):
    """Return the os facts of parsed os-release values, or None when it has none."""
    facts = {
        "os_id": values.get("ID") or None,
        "os_version": values.get("VERSION_ID") or None,
        "os_name": values.get("PRETTY_NAME") or values.get("NAME") or None,
    }
    return facts if any(facts.values()) else None


def from_distrib(values):
    """Return the os facts of OpenWrt's openwrt_release or lsb-release (`DISTRIB_*`) values.

    OpenWrt 14.07 sets DISTRIB_RELEASE to a code name (`Barrier Breaker`), so
    the version number is taken from DISTRIB_DESCRIPTION when needed.
    """
    distrib_id = values.get("DISTRIB_ID")
    description = values.get("DISTRIB_DESCRIPTION")
    release = values.get("DISTRIB_RELEASE")
    facts = {
        "os_id": distrib_id.lower() if distrib_id else None,
        "os_version": _first_version(release, description) or release or None,
        "os_name": description or None,
    }
    return facts if any(facts.values()) else None


def collect_os(ctx):
    """Return os_id, os_version and os_name from the first release file that has them."""
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        facts = from_os_release(parse_shell_assignments(ctx.read_text(path)))
        if facts:
            return facts

    for path in ("/etc/openwrt_release", "/etc/lsb-release"):
        facts = from_distrib(parse_shell_assignments(ctx.read_text(path)))
        if facts:
            return facts

    name = hostnamectl_pairs(ctx).get("operating system")
    return {"os_id": None, "os_version": None, "os_name": name or None}
