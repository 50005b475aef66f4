"""The policy engine for real (real SettingsStore on disk, real asyncio waits). Only the idle
time and the battery are fakes: this test machine has no desktop user and no battery."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

import pytest

from app.services.policy import (
    REASON_IDLE_UNAVAILABLE,
    REASON_MANUAL_PAUSE,
    REASON_ON_BATTERY,
    REASON_OUTSIDE_SCHEDULE,
    REASON_USER_ACTIVE,
    IdleBackend,
    NullIdleBackend,
    PolicyEngine,
    on_battery,
)
from app.services.settings import ScheduleWindow, SettingsStore

WEDNESDAY_NOON = datetime(2024, 5, 15, 12, 0).astimezone()


class FakeIdleBackend(IdleBackend):
    """FAKE: stands in for a desktop session's idle time (no user sits at this machine)."""

    name = "fake"

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds

    def idle_seconds(self) -> float | None:
        return self.seconds


class FakeBattery:
    """FAKE: stands in for psutil's battery sensor (this machine has no battery)."""

    def __init__(self, unplugged: bool | None) -> None:
        self.unplugged = unplugged

    def __call__(self) -> bool | None:
        return self.unplugged


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def store(tmp_path) -> SettingsStore:
    return SettingsStore(tmp_path / "home")


@pytest.fixture
def clock() -> Clock:
    return Clock(WEDNESDAY_NOON)


@pytest.fixture
def idle() -> FakeIdleBackend:
    return FakeIdleBackend(0.0)


@pytest.fixture
def battery() -> FakeBattery:
    return FakeBattery(None)


@pytest.fixture
def engine(store, idle, battery, clock) -> PolicyEngine:
    engine = PolicyEngine(
        store, idle_backend=idle, battery=battery, clock=clock, poll_interval_s=0.05
    )
    yield engine
    engine.close()


async def test_default_settings_allow_sharing(engine):
    decision = await engine.refresh()
    assert decision.allowed and decision.reason == ""
    assert engine.decision().allowed


async def test_pause_for_one_hour_then_sharing_comes_back(engine, clock):
    engine.pause(3600)
    decision = engine.decision()
    assert not decision.allowed
    assert decision.reason == REASON_MANUAL_PAUSE
    until = WEDNESDAY_NOON + timedelta(hours=1)
    assert decision.detail == f"paused until {until:%H:%M}"
    assert decision.retry_at == until
    clock.now += timedelta(minutes=59)
    assert engine.decision().reason == REASON_MANUAL_PAUSE
    clock.now += timedelta(minutes=2)
    assert engine.decision().allowed
    assert engine.paused_until is None


async def test_resume_wakes_a_waiting_worker_at_once(store, idle, battery, clock):
    # A long poll interval: only the resume itself can wake the waiter in time.
    engine = PolicyEngine(
        store, idle_backend=idle, battery=battery, clock=clock, poll_interval_s=60
    )
    engine.pause()
    waiting = asyncio.create_task(engine.wait_allowed())
    await asyncio.sleep(0.2)
    assert not waiting.done()
    assert engine.decision().detail == "paused until you resume sharing"
    resumed_at = time.monotonic()
    engine.resume()
    decision = await asyncio.wait_for(waiting, timeout=2)
    assert decision.allowed
    assert time.monotonic() - resumed_at < 1.0
    engine.close()


async def test_user_active_until_idle_long_enough(engine, store, idle):
    store.update_contributor(idle_minutes=10)
    idle.seconds = 125
    decision = await engine.refresh()
    assert not decision.allowed
    assert decision.reason == REASON_USER_ACTIVE
    assert decision.detail == "waiting for 10 idle minutes (idle for 2 min)"

    waiting = asyncio.create_task(engine.wait_allowed())
    await asyncio.sleep(0.2)
    assert not waiting.done()
    idle.seconds = 601  # the user walked away ten minutes ago
    assert (await asyncio.wait_for(waiting, timeout=2)).allowed


async def test_polling_decision_alone_sees_the_user_come_back(engine, store, idle):
    store.update_contributor(idle_minutes=10)
    idle.seconds = 900
    assert (await engine.refresh()).allowed
    idle.seconds = 3  # the user is back; nobody calls refresh(), the worker only polls
    await asyncio.sleep(0.1)  # longer than the poll interval: the facts are stale now
    engine.decision()  # starts measuring again in the background
    await asyncio.sleep(0.2)
    assert engine.decision().reason == REASON_USER_ACTIVE


async def test_unknown_idle_time_blocks_until_the_rule_is_turned_off(store, battery, clock):
    engine = PolicyEngine(
        store, idle_backend=NullIdleBackend(), battery=battery, clock=clock, poll_interval_s=60
    )
    store.update_contributor(idle_minutes=5)
    decision = await engine.refresh()
    assert decision.reason == REASON_IDLE_UNAVAILABLE == "idle detection unavailable"
    waiting = asyncio.create_task(engine.wait_allowed())
    await asyncio.sleep(0.2)
    assert not waiting.done()
    store.update_contributor(idle_minutes=0)  # live: no restart, and it wakes the waiter
    assert (await asyncio.wait_for(waiting, timeout=2)).allowed
    engine.close()


async def test_battery_pauses_only_when_asked_to(engine, store, battery):
    battery.unplugged = True
    decision = await engine.refresh()
    assert decision.reason == REASON_ON_BATTERY
    store.update_contributor(pause_on_battery=False)
    assert (await engine.refresh()).allowed
    store.update_contributor(pause_on_battery=True)
    battery.unplugged = False
    assert (await engine.refresh()).allowed
    battery.unplugged = None  # a desktop: no battery at all
    assert (await engine.refresh()).allowed


def test_real_battery_probe_answers_here():
    # This machine is a server: psutil finds no battery (None), or says plugged / unplugged.
    assert on_battery() in (None, True, False)


async def test_weekly_schedule_with_an_overnight_window(engine, store, clock):
    weekday_evenings = ScheduleWindow(days=[0, 1, 2, 3, 4], start="18:00", end="08:00")
    store.update_contributor(schedule_enabled=True, schedule=[weekday_evenings])
    decision = engine.decision()
    assert decision.reason == REASON_OUTSIDE_SCHEDULE
    assert decision.detail == "the next sharing window opens Wed 18:00"
    assert decision.retry_at == WEDNESDAY_NOON.replace(hour=18)

    clock.now = WEDNESDAY_NOON.replace(hour=23)
    assert engine.decision().allowed
    clock.now = WEDNESDAY_NOON + timedelta(hours=19, minutes=59)  # Thursday 07:59
    assert engine.decision().allowed
    clock.now = WEDNESDAY_NOON + timedelta(days=3, hours=-5)  # Saturday 07:00, Friday's night
    assert engine.decision().allowed
    clock.now = WEDNESDAY_NOON + timedelta(days=3)  # Saturday noon
    decision = engine.decision()
    assert decision.reason == REASON_OUTSIDE_SCHEDULE
    assert decision.detail == "the next sharing window opens Mon 18:00"

    store.update_contributor(schedule_enabled=False)
    assert engine.decision().allowed


async def test_a_broken_schedule_window_says_what_is_wrong(engine, store):
    store.update_contributor(
        schedule_enabled=True, schedule=[ScheduleWindow(days=[2], start="25:00", end="26:00")]
    )
    decision = engine.decision()
    assert not decision.allowed
    assert decision.reason == REASON_OUTSIDE_SCHEDULE
    assert decision.detail == (
        "schedule window 1: '25:00' is not a time of day (use 00:00 to 23:59)"
    )


async def test_manual_pause_comes_first_and_listeners_hear_each_change(
    engine, store, battery, idle
):
    heard = []
    engine.subscribe(heard.append)
    battery.unplugged = True
    store.update_contributor(idle_minutes=1)
    await engine.refresh()
    engine.pause(600)
    assert engine.decision().reason == REASON_MANUAL_PAUSE
    engine.resume()
    await engine.refresh()
    await engine.refresh()  # no change: nobody is told twice
    battery.unplugged = False
    idle.seconds = 3600
    await engine.refresh()
    assert [d.reason for d in heard] == [
        REASON_USER_ACTIVE,  # settings changed before the first measurement
        REASON_ON_BATTERY,
        REASON_MANUAL_PAUSE,
        REASON_ON_BATTERY,
        "",
    ]
    assert heard[-1].allowed


async def test_wait_change_returns_the_next_different_decision(engine, battery):
    first = await engine.refresh()
    changing = asyncio.create_task(engine.wait_change(first))
    await asyncio.sleep(0.2)
    assert not changing.done()
    battery.unplugged = True
    changed = await asyncio.wait_for(changing, timeout=2)
    assert changed.reason == REASON_ON_BATTERY


def test_a_pause_must_be_positive(engine):
    with pytest.raises(ValueError, match="positive number of seconds"):
        engine.pause(0)
    assert engine.decision().allowed
