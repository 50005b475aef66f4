"""This computer's IANA time zone name ("Asia/Taipei"), for what the server counts by day
(earnings "today"). The app asks Qt; the CLI, which has no Qt, reads what the system says:
$TZ when it names a zone, else /etc/localtime's link into the zoneinfo database (Linux,
macOS), else /etc/timezone (Debian). "" when none names one: the server then counts in UTC
and says so."""

from __future__ import annotations

import os
from pathlib import Path

ZONEINFO = "zoneinfo/"


def _plausible(name: str) -> bool:
    return name == "UTC" or ("/" in name and " " not in name and not name.startswith("/"))


def local_time_zone(environ: dict[str, str] | None = None, etc: Path = Path("/etc")) -> str:
    env = os.environ if environ is None else environ
    name = env.get("TZ", "").lstrip(":")
    if ZONEINFO in name:  # TZ=:/usr/share/zoneinfo/Asia/Taipei
        name = name.split(ZONEINFO, 1)[1]
    if _plausible(name):
        return name
    try:
        target = os.readlink(etc / "localtime")
    except OSError:
        target = ""
    if ZONEINFO in target:
        name = target.split(ZONEINFO, 1)[1]
        if _plausible(name):
            return name
    try:
        name = (etc / "timezone").read_text(encoding="utf-8").strip()
    except OSError:
        return ""
    return name if _plausible(name) else ""
