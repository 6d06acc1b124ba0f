"""Thermal zone temperatures in degrees Celsius."""

import re

# Readings outside this range are errors or absent sensors, e.g. Jetson Orin
# reports -256 C for a zone without a sensor.
MIN_CELSIUS = -100.0
MAX_CELSIUS = 250.0


def to_celsius(value):
    """Convert a sysfs `temp` value to degrees Celsius, or return None when invalid.

    The kernel ABI is millidegrees; a few vendor drivers report degrees, so
    values of at most 1000 in magnitude are taken as degrees.
    """
    try:
        number = float(value.strip())
    except (ValueError, AttributeError):
        return None
    celsius = number / 1000.0 if abs(number) > 1000 else number
    if not MIN_CELSIUS <= celsius <= MAX_CELSIUS:
        return None
    return round(celsius, 1)


def _zone_number(name):
    match = re.search(r"(\d+)$", name)
    return int(match.group(1)) if match else -1


def collect_temperatures(ctx):
    """Return [{zone, celsius}] for each thermal zone with a valid reading, ordered by zone number."""
    zones = [name for name in ctx.list_dir("/sys/class/thermal") if name.startswith("thermal_zone")]
    readings = []
    for zone in sorted(zones, key=_zone_number):
        directory = "/sys/class/thermal/" + zone
        celsius = to_celsius(ctx.read_value(directory + "/temp"))
        if celsius is None:
            continue
        readings.append({"zone": ctx.read_value(directory + "/type") or zone, "celsius": celsius})
    return {"temperatures": readings}
