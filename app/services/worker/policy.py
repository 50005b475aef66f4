"""The worker's side of the contributor's resource policy (idle, battery, schedule, manual
pause): ask it before leasing; while it says no, suspend the running tasks (their leases are
still renewed by heartbeats), hold prepared ones, wait, then resume them all.

The policy object needs `decision()` (returning something with `allowed` and `reason`, or a
bool; may be async) and may offer `async wait_allowed()` and `async refresh()` (PolicyEngine
in app/services/policy has all three). `contributor_policy` gives the worker that engine, or
`ManualPauseOnly` when it cannot be loaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from app.services.executors.base import Executor
from app.services.settings import SettingsStore
from app.services.worker import events as ev
from app.services.worker.held import HeldAttempt

if TYPE_CHECKING:
    from app.services.policy import PolicyEngine

log = logging.getLogger("app.services.worker.agent")

REFRESH_EVERY_S = 5.0  # how often the policy re-measures its facts (idle time, battery)
RECHECK_S = 1.0  # while paused, the answer is checked at least this often
MANUAL_PAUSE = "manual pause"  # the reason of "Pause for 1 hour", as PolicyEngine gives it


@dataclass(frozen=True)
class PauseDecision:
    allowed: bool
    reason: str = ""


class ManualPauseOnly:
    """The null policy, for when the contributor's policy cannot be loaded: only "Pause for
    1 hour" (the same interface as PolicyEngine's manual pause)."""

    def __init__(self) -> None:
        self._until: datetime | None = None

    def pause(self, seconds: float | None = None) -> None:
        self._until = datetime.now().astimezone() + timedelta(seconds=seconds or 10**9)

    def resume(self) -> None:
        self._until = None

    @property
    def paused_until(self) -> datetime | None:
        if self._until is not None and self._until <= datetime.now().astimezone():
            self._until = None
        return self._until

    def decision(self) -> PauseDecision:
        if self.paused_until is not None:
            return PauseDecision(False, MANUAL_PAUSE)
        return PauseDecision(True)


def contributor_policy(store: SettingsStore) -> PolicyEngine | ManualPauseOnly:
    """The contributor's policy (manual pause, idle, battery, schedule), or the null policy
    with only the manual pause when that service cannot be loaded: a broken idle backend
    must not keep the machine from sharing."""
    try:
        from app.services.policy import PolicyEngine

        return PolicyEngine(store)
    except Exception as exc:
        log.warning("resource policy unavailable (%s); only a manual pause applies", exc)
        return ManualPauseOnly()


class PolicyGate:
    def __init__(
        self,
        policy: Any,
        *,
        held: dict[str, HeldAttempt],
        executor: Executor,
        events: ev.WorkerEvents,
        stopping: asyncio.Event,
        allowed: asyncio.Event,
        changed: Callable[[], None] = lambda: None,
    ) -> None:
        self.policy = policy
        self.held = held  # the agent's live dict of attempts
        self.executor = executor
        self.events = events
        self.stopping = stopping
        self.allowed = allowed  # cleared while paused: prepared tasks wait for it
        self.changed = changed  # tells the agent to send a heartbeat now
        self.paused_reason = ""
        self._refreshed_at = 0.0

    async def decision(self) -> tuple[bool, str]:
        """(allowed, reason). A policy with `refresh()` measures its facts off the loop;
        that is done every few seconds, the cheap `decision()` in between."""
        refresh = getattr(self.policy, "refresh", None)
        if refresh is not None and time.monotonic() - self._refreshed_at >= REFRESH_EVERY_S:
            self._refreshed_at = time.monotonic()
            answer = refresh()
        else:
            answer = self.policy.decision()
        if inspect.isawaitable(answer):
            answer = await answer
        if isinstance(answer, bool):
            return answer, "" if answer else "paused"
        allowed = bool(answer.allowed)
        return allowed, "" if allowed else str(getattr(answer, "reason", "") or "paused")

    def watch_pause(self) -> tuple[asyncio.Event, Callable[[], None]]:
        """An event set as soon as the policy stops allowing work (a manual pause, the
        schedule, the user back at the machine), and the function that stops watching. For a
        policy that cannot tell (no `subscribe`), an event that is never set."""
        paused = asyncio.Event()
        subscribe = getattr(self.policy, "subscribe", None)
        if subscribe is None:
            return paused, lambda: None
        loop = asyncio.get_running_loop()

        def heard(decision: Any) -> None:
            if not getattr(decision, "allowed", True):
                loop.call_soon_threadsafe(paused.set)

        return paused, subscribe(heard)

    async def allows_work(self) -> bool:
        """True when work may go on. Else pauses everything, waits until the policy allows
        again (or the worker stops), resumes, and returns False so the caller asks again."""
        if self.policy is None:
            return True
        try:
            allowed, reason = await self.decision()
        except Exception:  # a broken policy must not stop the contributor's worker for good
            log.exception("policy failed; carrying on as allowed")
            return True
        if allowed:
            return True
        await self._pause(reason)
        try:
            await self._wait_until_allowed()
        finally:
            await self._resume()
        return False

    async def _wait_until_allowed(self) -> None:
        wait_allowed = getattr(self.policy, "wait_allowed", None)
        while not self.stopping.is_set():
            waiting = wait_allowed() if wait_allowed is not None else self.stopping.wait()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiting, timeout=RECHECK_S)
            allowed, reason = await self.decision()
            if allowed:
                return
            if reason != self.paused_reason:
                self.paused_reason = reason
                self.events.emit(ev.PAUSED, message=reason)
            await self._pause_running()  # tasks that started since

    async def _pause(self, reason: str) -> None:
        self.paused_reason = reason
        self.allowed.clear()
        await self._pause_running()
        log.info("paused reason=%r", reason)
        self.events.emit(ev.PAUSED, message=reason)
        self.changed()

    async def _pause_running(self) -> None:
        for held in list(self.held.values()):
            if held.stage == "running" and not held.paused:
                held.paused = True
                await self._call(self.executor.pause, held)

    async def _resume(self) -> None:
        for held in list(self.held.values()):
            if held.paused:
                held.paused = False
                await self._call(self.executor.resume, held)
        self.paused_reason = ""
        self.allowed.set()
        log.info("resumed")
        self.events.emit(ev.RESUMED)
        self.changed()

    async def _call(self, action: Callable[[str], Any], held: HeldAttempt) -> None:
        try:
            await action(held.lease.attempt_id)
        except Exception as exc:  # the task goes on unpaused rather than the worker failing
            log.warning("%s %s failed: %s", held.tag, action.__name__, exc)
            self.events.emit(ev.ERROR, message=f"{action.__name__} failed: {exc}")
