"""The CLI finds this computer's time zone without Qt, as the system states it."""

from __future__ import annotations

import os
from pathlib import Path

from app.services.time_zone import local_time_zone


def test_the_zone_from_tz_then_localtime_then_etc_timezone(tmp_path: Path):
    etc = tmp_path / "etc"
    etc.mkdir()
    assert local_time_zone({}, etc) == ""  # nothing says: the server counts in UTC
    (etc / "timezone").write_text("Europe/Berlin\n")
    assert local_time_zone({}, etc) == "Europe/Berlin"
    os.symlink("/usr/share/zoneinfo/Asia/Taipei", etc / "localtime")
    assert local_time_zone({}, etc) == "Asia/Taipei"
    assert local_time_zone({"TZ": "America/Sao_Paulo"}, etc) == "America/Sao_Paulo"
    assert local_time_zone({"TZ": ":/usr/share/zoneinfo/Asia/Tokyo"}, etc) == "Asia/Tokyo"
    # A POSIX rule is not a zone name: the system's own answer is used instead.
    assert local_time_zone({"TZ": "CST-8"}, etc) == "Asia/Taipei"
