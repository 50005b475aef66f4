"""May this machine work for the network right now? The contributor's rules, evaluated.

`PolicyEngine.decision()` answers from the live settings, the clock and the latest facts
(idle time, battery), and never blocks; `await refresh()` measures those facts off the loop.
The worker's hook is `await wait_allowed()` (returns when work may go on) and `decision()`;
the UI subscribes to changes. Rules, first match wins: manual pause, outside the weekly
schedule, on battery, user active (or idle time unknown while the rule needs it).

Runs on the event loop (no Qt); the settings listener may be called from any thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.services.policy.battery import BatteryProbe, on_battery
from app.services.policy.idle import (
    IDLE_UNAVAILABLE,
    IdleBackend,
    NullIdleBackend,
    select_idle_backend,
)
from app.services.policy.schedule import (
    ScheduleError,
    describe_time,
    next_window_start,
    within_schedule,
)
from app.services.settings import ClientSettings, SettingsStore

log = logging.getLogger(__name__)

REASON_MANUAL_PAUSE = "manual pause"
REASON_OUTSIDE_SCHEDULE = "outside schedule"
REASON_ON_BATTERY = "on battery"
REASON_USER_ACTIVE = "user active"
REASON_IDLE_UNAVAILABLE = IDLE_UNAVAILABLE
# A backend that stopped answering (a desktop restarted) is replaced at most this often.
RESELECT_INTERVAL_S = 60.0


@dataclass(frozen=True)
class PolicyDecision:
    """`allowed`, else `reason` (one of the REASON_* strings) and a sentence for the UI."""

    allowed: bool
    reason: str = ""
    detail: str = ""
    retry_at: datetime | None = None  # when the clock alone may change the answer

    def __bool__(self) -> bool:
        return self.allowed

    def same_as(self, other: PolicyDecision | None) -> bool:
        return other is not None and (self.allowed, self.reason) == (other.allowed, other.reason)


@dataclass(frozen=True)
class _Facts:
    sampled: bool = False
    idle_seconds: float | None = None
    on_battery: bool | None = None
    sampled_at: float = 0.0  # time.monotonic()


def _local_now() -> datetime:
    return datetime.now().astimezone()


class PolicyEngine:
    """Evaluates the contributor's rules; see the module doc."""

    def __init__(
        self,
        store: SettingsStore,
        *,
        idle_backend: IdleBackend | None = None,
        battery: BatteryProbe = on_battery,
        clock: Callable[[], datetime] = _local_now,
        poll_interval_s: float = 5.0,
    ) -> None:
        self.store = store
        self.poll_interval_s = poll_interval_s
        self._idle_backend = idle_backend  # None: chosen on the first refresh (blocking)
        self._fixed_backend = idle_backend is not None
        self._battery = battery
        self._clock = clock
        self._facts = _Facts()
        self._sample_lock = threading.Lock()
        self._last_reselect = 0.0
        self._paused_until: datetime | None = None
        self._paused_indefinitely = False
        self._waiters: set[asyncio.Future[None]] = set()
        self._listeners: list[Callable[[PolicyDecision], None]] = []
        self._last: PolicyDecision | None = None
        self._background_refresh: asyncio.Task[PolicyDecision] | None = None
        self._unsubscribe = store.subscribe(self._on_settings)

    # -- manual pause -----------------------------------------------------------------------

    def pause(self, seconds: float | None = None) -> None:
        """Pauses sharing for `seconds` ("pause for 1 hour"), or until `resume()`."""
        if seconds is not None and seconds <= 0:
            raise ValueError("a pause must last a positive number of seconds")
        if seconds is None:
            self._paused_indefinitely, self._paused_until = True, None
        else:
            self._paused_indefinitely = False
            self._paused_until = self._clock() + timedelta(seconds=seconds)
        self._state_changed()

    def resume(self) -> None:
        """Ends a manual pause now."""
        self._paused_indefinitely, self._paused_until = False, None
        self._state_changed()

    @property
    def paused_until(self) -> datetime | None:
        """End of the manual pause (None when not paused, or paused until resumed)."""
        return self._paused_until

    @property
    def idle_backend(self) -> IdleBackend | None:
        return self._idle_backend

    # -- deciding ---------------------------------------------------------------------------

    def decision(self) -> PolicyDecision:
        """The answer now, from the latest facts. Never blocks; when the facts are older than
        the poll interval, called on a running loop, it starts measuring them again in the
        background, so a caller that only polls `decision()` still sees the user come back."""
        contributor = self.store.settings.contributor
        if contributor.idle_minutes > 0 or contributor.pause_on_battery:
            self._refresh_if_stale()
        return self._decide()

    def _decide(self) -> PolicyDecision:
        contributor = self.store.settings.contributor
        now = self._clock()
        if self._paused_indefinitely:
            return PolicyDecision(False, REASON_MANUAL_PAUSE, "paused until you resume sharing")
        if self._paused_until is not None:
            if now < self._paused_until:
                until = f"{self._paused_until:%H:%M}"
                return PolicyDecision(
                    False, REASON_MANUAL_PAUSE, f"paused until {until}", self._paused_until
                )
            self._paused_until = None
        if contributor.schedule_enabled:
            try:
                inside = within_schedule(contributor.schedule, now)
                opens = None if inside else next_window_start(contributor.schedule, now)
            except ScheduleError as exc:
                return PolicyDecision(False, REASON_OUTSIDE_SCHEDULE, str(exc))
            if not inside:
                detail = (
                    f"the next sharing window opens {describe_time(opens)}"
                    if opens
                    else "the schedule has no sharing window"
                )
                return PolicyDecision(False, REASON_OUTSIDE_SCHEDULE, detail, opens)
        facts = self._facts
        if contributor.pause_on_battery and facts.on_battery:
            return PolicyDecision(False, REASON_ON_BATTERY, "paused while running on battery")
        if contributor.idle_minutes > 0:
            wanted = contributor.idle_minutes * 60
            if not facts.sampled:
                return PolicyDecision(False, REASON_USER_ACTIVE, "idle time not measured yet")
            if facts.idle_seconds is None:
                return PolicyDecision(
                    False,
                    REASON_IDLE_UNAVAILABLE,
                    "cannot tell whether you are using this machine; set the idle time to 0 "
                    "to share while you use it",
                )
            if facts.idle_seconds < wanted:
                minutes = int(facts.idle_seconds // 60)
                return PolicyDecision(
                    False,
                    REASON_USER_ACTIVE,
                    f"waiting for {contributor.idle_minutes} idle minutes (idle for {minutes} min)",
                )
        return PolicyDecision(True)

    async def refresh(self) -> PolicyDecision:
        """Measures idle time and battery (in a thread), then decides."""
        contributor = self.store.settings.contributor
        self._facts = await asyncio.to_thread(
            self._sample, contributor.idle_minutes > 0, contributor.pause_on_battery
        )
        return self._publish()

    async def wait_allowed(self) -> PolicyDecision:
        """Returns (the allowing decision) as soon as work may go on."""
        while True:
            decision = await self.refresh()
            if decision.allowed:
                return decision
            await self._sleep(decision)

    async def wait_change(self, previous: PolicyDecision | None) -> PolicyDecision:
        """Returns the first decision that differs from `previous` in allowed or reason."""
        while True:
            decision = await self.refresh()
            if not decision.same_as(previous):
                return decision
            await self._sleep(decision)

    async def watch(self) -> None:
        """Keeps the facts fresh so subscribers hear every change; runs until cancelled."""
        decision = None
        while True:
            decision = await self.wait_change(decision)

    def subscribe(self, listener: Callable[[PolicyDecision], None]) -> Callable[[], None]:
        """`listener(decision)` on every change of allowed/reason; returns the unsubscriber."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def close(self) -> None:
        self._unsubscribe()
        self._wake()
        if self._background_refresh is not None:
            self._background_refresh.cancel()

    # -- internals --------------------------------------------------------------------------

    def _sample(self, need_idle: bool, need_battery: bool) -> _Facts:
        """Blocking: runs in a thread."""
        with self._sample_lock:
            idle = None
            if need_idle:
                backend = self._backend()
                idle = backend.idle_seconds()
                if idle is None and not self._fixed_backend:
                    due = time.monotonic() - self._last_reselect >= RESELECT_INTERVAL_S
                    if due and not isinstance(backend, NullIdleBackend):
                        self._idle_backend = None
                        idle = self._backend().idle_seconds()
            battery = self._battery() if need_battery else None
            return _Facts(True, idle, battery, time.monotonic())

    def _refresh_if_stale(self) -> None:
        if self._facts.sampled and time.monotonic() - self._facts.sampled_at < self.poll_interval_s:
            return
        if self._background_refresh is not None and not self._background_refresh.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on a loop: the caller refreshes when it wants fresh facts
            return
        self._background_refresh = loop.create_task(self.refresh())

    def _backend(self) -> IdleBackend:
        if self._idle_backend is None:
            self._last_reselect = time.monotonic()
            self._idle_backend = select_idle_backend()
            log.info("idle detection backend=%s", self._idle_backend.name)
        return self._idle_backend

    async def _sleep(self, decision: PolicyDecision) -> None:
        """Until a settings or pause change, the next poll, or the decision's retry time."""
        timeout = self.poll_interval_s
        if decision.retry_at is not None:
            until = (decision.retry_at - self._clock()).total_seconds()
            timeout = max(0.0, min(timeout, until))
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(waiter)

    def _on_settings(self, _settings: ClientSettings) -> None:
        self._state_changed()

    def _state_changed(self) -> None:
        self._wake()
        self._publish()

    def _wake(self) -> None:
        for waiter in list(self._waiters):
            try:
                waiter.get_loop().call_soon_threadsafe(_finish, waiter)
            except RuntimeError:  # its loop is closed
                self._waiters.discard(waiter)

    def _publish(self) -> PolicyDecision:
        decision = self._decide()
        if not decision.same_as(self._last):
            self._last = decision
            log.info(
                "sharing policy allowed=%s reason=%r detail=%r",
                decision.allowed,
                decision.reason,
                decision.detail,
            )
            for listener in list(self._listeners):
                try:
                    listener(decision)
                except Exception:  # a listener's bug must not stop the policy
                    log.exception("policy listener failed")
        return decision


def _finish(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
