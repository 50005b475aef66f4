"""Weekly schedule windows: reading them, and whether a moment falls inside."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.services.policy.schedule import (
    ScheduleError,
    next_window_start,
    parse_clock,
    validate_schedule,
    within_schedule,
)
from app.services.settings import ScheduleWindow

SUNDAY_2330 = datetime(2024, 5, 19, 23, 30)
MONDAY_0300 = datetime(2024, 5, 20, 3, 0)


def test_clock_times():
    assert parse_clock("00:00") == 0
    assert parse_clock("18:30") == 18 * 60 + 30
    assert parse_clock("24:00", allow_24=True) == 24 * 60
    for bad in ("24:00", "7pm", "12:5", "-1:00", "12:60", ""):
        with pytest.raises(ScheduleError):
            parse_clock(bad)


def test_validation_names_the_window_and_the_value():
    validate_schedule([ScheduleWindow(), ScheduleWindow(days=[5, 6], start="09:00", end="17:00")])
    with pytest.raises(ScheduleError, match=r"schedule window 2: day 7 is not 0 \(Monday\)"):
        validate_schedule([ScheduleWindow(), ScheduleWindow(days=[7])])
    with pytest.raises(ScheduleError, match="schedule window 1: 'noon' is not a time of day"):
        validate_schedule([ScheduleWindow(start="noon")])


def test_the_default_window_is_always_open():
    assert within_schedule([ScheduleWindow()], SUNDAY_2330)
    assert within_schedule([ScheduleWindow()], MONDAY_0300)


def test_sunday_night_window_runs_into_monday_morning():
    sunday_night = [ScheduleWindow(days=[6], start="22:00", end="06:00")]
    assert within_schedule(sunday_night, SUNDAY_2330)
    assert within_schedule(sunday_night, MONDAY_0300)
    assert not within_schedule(sunday_night, MONDAY_0300.replace(hour=6))
    assert not within_schedule(sunday_night, SUNDAY_2330.replace(hour=21))


def test_start_equal_to_end_is_the_whole_day_and_end_is_exclusive():
    saturday = [ScheduleWindow(days=[5], start="08:00", end="08:00")]
    assert within_schedule(saturday, datetime(2024, 5, 18, 8, 0))
    assert within_schedule(saturday, datetime(2024, 5, 19, 7, 59))
    assert not within_schedule(saturday, datetime(2024, 5, 19, 8, 0))
    office = [ScheduleWindow(days=[0], start="09:00", end="17:00")]
    assert not within_schedule(office, datetime(2024, 5, 20, 17, 0))


def test_next_window_start():
    office = [ScheduleWindow(days=[0, 2], start="09:00", end="17:00")]
    assert next_window_start(office, MONDAY_0300) == datetime(2024, 5, 20, 9, 0)
    assert next_window_start(office, datetime(2024, 5, 20, 12, 0)) == datetime(2024, 5, 22, 9)
    assert next_window_start(office, SUNDAY_2330) == datetime(2024, 5, 20, 9, 0)
    assert next_window_start([], SUNDAY_2330) is None
