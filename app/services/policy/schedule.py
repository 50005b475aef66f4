"""The weekly time window: on which days, between which hours, sharing is allowed.

A window is a `ScheduleWindow` from the settings (days 0 = Monday .. 6 = Sunday, "HH:MM"
local times). A window whose end is before its start runs past midnight into the next day
(22:00-06:00 on Friday covers Friday night and Saturday morning); start == end is the whole
day; "24:00" is accepted as an end.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta
from typing import Any

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MINUTES_PER_DAY = 24 * 60


class ScheduleError(ValueError):
    """A window that cannot be read; the message names the window and the bad value."""


def parse_clock(text: str, *, allow_24: bool = False) -> int:
    """Minutes after midnight for "HH:MM"; ScheduleError for anything else."""
    try:
        hours_text, minutes_text = text.split(":")
        if len(minutes_text) != 2 or not hours_text.isdigit() or not minutes_text.isdigit():
            raise ValueError
        hours, minutes = int(hours_text), int(minutes_text)
    except (ValueError, AttributeError):
        raise ScheduleError(f"{text!r} is not a time of day (use HH:MM, like 18:30)") from None
    if allow_24 and (hours, minutes) == (24, 0):
        return MINUTES_PER_DAY
    if not (0 <= hours <= 23 and 0 <= minutes <= 59):
        raise ScheduleError(f"{text!r} is not a time of day (use 00:00 to 23:59)")
    return hours * 60 + minutes


def _window_parts(window: Any, number: int) -> tuple[list[int], int, int]:
    try:
        start = parse_clock(window.start)
        end = parse_clock(window.end, allow_24=True)
    except ScheduleError as exc:
        raise ScheduleError(f"schedule window {number}: {exc}") from None
    days = list(window.days)
    for day in days:
        if not isinstance(day, int) or not 0 <= day <= 6:
            raise ScheduleError(
                f"schedule window {number}: day {day!r} is not 0 (Monday) to 6 (Sunday)"
            )
    if end == start:
        end = start + MINUTES_PER_DAY
    elif end < start:
        end += MINUTES_PER_DAY  # past midnight, into the next day
    return days, start, end


def validate_schedule(windows: Iterable[Any]) -> None:
    """Raises ScheduleError (one line) for the first window that cannot be read."""
    for number, window in enumerate(windows, start=1):
        _window_parts(window, number)


def _spans(windows: Iterable[Any]) -> list[tuple[int, int]]:
    """Every window as [start, end) minutes from Monday 00:00 of a week (may reach into the
    next week: the caller also checks one week back)."""
    spans = []
    for number, window in enumerate(windows, start=1):
        days, start, end = _window_parts(window, number)
        for day in days:
            spans.append((day * MINUTES_PER_DAY + start, day * MINUTES_PER_DAY + end))
    return spans


def _minute_of_week(when: datetime) -> float:
    return when.weekday() * MINUTES_PER_DAY + when.hour * 60 + when.minute + when.second / 60


def within_schedule(windows: Iterable[Any], when: datetime) -> bool:
    """Whether `when` (local time) falls in any window."""
    now = _minute_of_week(when)
    week = 7 * MINUTES_PER_DAY
    return any(
        start <= minute < end for start, end in _spans(windows) for minute in (now, now + week)
    )


def next_window_start(windows: Iterable[Any], when: datetime) -> datetime | None:
    """When the next window opens after `when`, or None when there is no window at all."""
    spans = _spans(windows)
    if not spans:
        return None
    monday = datetime.combine(
        when.date() - timedelta(days=when.weekday()), time(), tzinfo=when.tzinfo
    )
    candidates = []
    for start, _ in spans:
        opens = monday + timedelta(minutes=start)
        if opens <= when:
            opens += timedelta(days=7)
        candidates.append(opens)
    return min(candidates)


def describe_time(when: datetime) -> str:
    return f"{DAY_NAMES[when.weekday()]} {when:%H:%M}"
