"""Hardware discovery: run the shim's `inventory` on many devices and store the facts."""

from edgetui.discovery.run import discover_devices

__all__ = ["discover_devices"]
