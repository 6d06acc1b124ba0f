"""USB vendor:product ids of attached devices, from `lsusb` or sysfs."""

import re

USB_ID = re.compile(r"\bID\s+([0-9a-fA-F]{4}):([0-9a-fA-F]{4})\b")


def ids_from_lsusb(text):
    """Return the (vendor, product) ids, lower-case hex, of each `lsusb` line.

    util-linux and busybox lsusb both print `Bus 002 Device 003: ID 18d1:9302`;
    names after the id are missing without usb.ids, so only the ids are read.
    """
    ids = []
    for line in (text or "").splitlines():
        match = USB_ID.search(line)
        if match:
            ids.append((match.group(1).lower(), match.group(2).lower()))
    return ids


def ids_from_sysfs(ctx):
    """Return the (vendor, product) ids under <root>/sys/bus/usb/devices."""
    ids = []
    for name in ctx.list_dir("/sys/bus/usb/devices"):
        directory = "/sys/bus/usb/devices/" + name
        vendor = ctx.read_value(directory + "/idVendor")
        product = ctx.read_value(directory + "/idProduct")
        if vendor and product:
            ids.append((vendor.lower(), product.lower()))
    return ids


def usb_ids(ctx):
    """Return the attached USB ids from `lsusb`, or from sysfs when lsusb is missing or fails."""

    def collect():
        ids = ids_from_lsusb(ctx.output(["lsusb"]))
        return ids or ids_from_sysfs(ctx)

    return ctx.memo("usb_ids", collect)
