"""Is this machine running on battery? psutil knows on every OS we ship for."""

from __future__ import annotations

from collections.abc import Callable

import psutil

# Returns True on battery, False on mains power, None when the machine has no battery.
BatteryProbe = Callable[[], bool | None]


def on_battery() -> bool | None:
    """True while unplugged; None for a desktop (no battery) or when the OS will not say.
    Cheap (a sysfs read on Linux), but still called off the loop with the idle query."""
    try:
        battery = psutil.sensors_battery()
    except (OSError, RuntimeError, NotImplementedError):
        return None
    if battery is None or battery.power_plugged is None:
        return None
    return not battery.power_plugged
