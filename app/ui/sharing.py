"""Sharing inside the desktop app: starts and stops the worker agent as the user flips
"Share resources", and turns what the agent says into a `SharingState` for the tray and the
overview. No Qt: it runs on the app's asyncio loop and reports through two callbacks, which
the bridge re-emits as Qt signals.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import grpc

from app.services.client.credentials import CredentialStore
from app.services.client.session import ClientError, ClientSession
from app.services.executors.base import Executor
from app.services.settings import ClientSettings, SettingsStore
from app.services.torrent.fetch import open_torrents
from app.services.worker import events as ev
from app.services.worker.agent import WorkerAgent
from app.services.worker.compare import is_comparison
from app.services.worker.options import WorkerOptions
from app.ui import models

log = logging.getLogger(__name__)

# How long running tasks may finish when the app quits (stopping sharing stops them at once).
QUIT_DRAIN_S = 5.0
MANUAL_PAUSE = "manual pause"  # the policy's reason for "Pause for 1 hour"
_OFFLINE_CODES = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
}


@dataclass(frozen=True)
class PolicyDecision:
    allowed: bool
    reason: str = ""


class ManualPauseOnly:
    """The null policy, for when the contributor's policy service cannot be loaded: only
    "Pause for 1 hour" (the same interface as PolicyEngine's manual pause)."""

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

    def decision(self) -> PolicyDecision:
        if self.paused_until is not None:
            return PolicyDecision(False, MANUAL_PAUSE)
        return PolicyDecision(True)


def default_policy(store: SettingsStore) -> Any:
    """The contributor's policy (manual pause, idle, battery, schedule), or the null policy
    with only the manual pause when that service cannot be loaded."""
    try:
        from app.services.policy import PolicyEngine

        return PolicyEngine(store)
    except Exception as exc:  # a broken idle backend must not keep sharing from working
        log.warning("resource policy unavailable (%s); only manual pause works", exc)
        return ManualPauseOnly()


async def make_executor(settings: ClientSettings, home_key: str) -> Executor:
    """The executor the contributor chose; RuntimeError with a one-line reason if unusable."""
    if settings.contributor.executor == "process":
        from app.services.executors.process.executor import ProcessExecutor

        return ProcessExecutor()
    try:
        from app.services.executors.docker.executor import DockerExecutor
    except ImportError as exc:
        raise RuntimeError(f"the Docker sandbox is not installed ({exc})") from None
    executor = DockerExecutor(instance=home_key)
    availability = await executor.available()
    if not availability:
        raise RuntimeError(availability.reason)
    return executor


class SharingController:
    """Owns the worker agent of the app. `on_state(SharingState)` and
    `on_activity(ActivityEvent)` are called on the loop."""

    def __init__(
        self,
        session: ClientSession,
        store: SettingsStore,
        credentials: CredentialStore,
        on_state: Callable[[models.SharingState], None],
        on_activity: Callable[[models.ActivityEvent], None],
        *,
        policy: Any = None,
        options: WorkerOptions | None = None,
    ) -> None:
        self.session = session
        self.store = store
        self.credentials = credentials
        self.policy = policy if policy is not None else ManualPauseOnly()
        self.options = options or WorkerOptions()
        self._on_state = on_state
        self._on_activity = on_activity
        self.agent: WorkerAgent | None = None
        self._run_task: asyncio.Task[None] | None = None
        self._started_at: dict[str, float] = {}
        self._executor_name = ""
        self.state = models.SharingState()
        self.signed_in = False
        self._sync_lock: asyncio.Lock | None = None
        self._home_key = hashlib.sha256(str(store.home.resolve()).encode()).hexdigest()[:12]

    @property
    def running(self) -> bool:
        return self._run_task is not None and not self._run_task.done()

    # -- lifecycle ---------------------------------------------------------------------------

    async def sync(self) -> None:
        """Makes the worker match the settings and the sign-in: started when sharing is on
        and someone is signed in, stopped otherwise, restarted when the executor changed."""
        if self._sync_lock is None:
            self._sync_lock = asyncio.Lock()
        # Settings change in bursts (a slider, then sharing on): one change at a time, or two
        # overlapping starts would make two agents.
        async with self._sync_lock:
            await self._sync()

    async def _sync(self) -> None:
        wanted = self.store.settings.contributor.sharing
        if not wanted:
            await self.stop(drain_s=0)
            self._set_state(models.OFF)
            return
        if not self.signed_in:
            await self.stop(drain_s=0)
            self._set_state(models.OFFLINE, "not signed in")
            return
        if self.running and self._executor_name != self.store.settings.contributor.executor:
            await self.stop(drain_s=0)
        if not self.running:
            await self._start()

    async def _start(self) -> None:
        self._set_state(models.OFFLINE, "starting")
        try:
            executor = await make_executor(self.store.settings, self._home_key)
        except RuntimeError as exc:
            log.warning("sharing cannot start: %s", exc)
            self._set_state(models.ERROR, str(exc))
            return
        self._executor_name = executor.name
        # Issue 4: files by BitTorrent when the settings allow it (None: gRPC only).
        torrents = await open_torrents(self.store, self.session.server)
        agent = WorkerAgent(
            self.session,
            self.store,
            executor,
            self.credentials,
            policy=self.policy,
            options=self.options,
            torrents=torrents,
        )
        agent.events.subscribe(self._on_worker_event)
        self.agent = agent
        self._run_task = asyncio.ensure_future(self._run(agent))

    async def _run(self, agent: WorkerAgent) -> None:
        try:
            await agent.run()
        except ClientError as exc:
            log.warning("worker stopped: %s", exc.message)
            if exc.code == grpc.StatusCode.UNAUTHENTICATED:
                self._set_state(models.OFFLINE, "not signed in")
            else:
                self._set_state(models.ERROR, exc.message)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the app must stay up; the user sees the error
            log.exception("worker crashed")
            self._set_state(models.ERROR, str(exc) or type(exc).__name__)
            return
        finally:
            if self.agent is agent:
                self.agent = None
            self._started_at.clear()
            if agent.deps.torrents is not None:
                with contextlib.suppress(Exception):
                    await agent.deps.torrents.close()
        if self.store.settings.contributor.sharing and self.signed_in:
            self._set_state(models.ERROR, "the worker stopped")
        else:
            self._set_state(models.OFF)

    async def stop(self, drain_s: float = 0) -> None:
        agent, task = self.agent, self._run_task
        if agent is None or task is None:
            return
        agent.request_stop(drain_timeout_s=drain_s)
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        self._run_task = None

    def close(self) -> None:
        close = getattr(self.policy, "close", None)
        if close is not None:
            close()

    def pause_for(self, seconds: float) -> None:
        # The agent sees the decision at its next lease round (about a second) and reports it.
        self.policy.pause(seconds)

    def resume_now(self) -> None:
        self.policy.resume()

    @property
    def manually_paused(self) -> bool:
        return self.policy.decision().reason == MANUAL_PAUSE

    def _reason(self, reason: str) -> str:
        """The policy's reason, with the end of a manual pause when there is one."""
        until = getattr(self.policy, "paused_until", None)
        if reason == MANUAL_PAUSE and until is not None:
            return f"manual pause until {until:%H:%M}"
        return reason

    # -- state ---------------------------------------------------------------------------------

    def running_tasks(self) -> list[models.RunningTask]:
        agent = self.agent
        if agent is None:
            return []
        tasks = []
        for attempt_id, held in list(agent.held.items()):
            lease = held.lease
            started = self._started_at.get(attempt_id)
            timeout = lease.resources.timeout_s
            tasks.append(
                models.RunningTask(
                    attempt_id=attempt_id,
                    job_id=lease.job_id,
                    task_index=lease.task_index,
                    started_at=started or time.time(),
                    deadline=(started + timeout) if started and timeout else 0.0,
                    cores=held.cores,
                    memory_mb=held.memory_mb,
                    paused=held.paused,
                    comparison=is_comparison(lease),
                )
            )
        return tasks

    def _set_state(self, state: str, reason: str = "") -> None:
        running = len(self.agent.held) if self.agent is not None else 0
        new = models.SharingState(state, reason, running)
        if new != self.state:
            self.state = new
            self._on_state(new)

    def server_reachable(self, reachable: bool) -> None:
        """Any RPC of the app tells us whether the server answers."""
        state = self.state
        if not reachable:
            starting = state.state == models.OFFLINE and state.reason == "starting"
            if state.state in (models.SHARING, models.PAUSED) or starting:
                self._set_state(models.OFFLINE, "server unreachable")
        elif state.state == models.OFFLINE and state.reason == "server unreachable":
            self._refresh_from_agent()

    def _refresh_from_agent(self) -> None:
        agent = self.agent
        if agent is None:
            return
        if not agent.node_id:
            # Not registered yet (the server was away at start): not sharing yet either.
            self._set_state(models.OFFLINE, "starting")
        elif agent.paused_reason:
            self._set_state(models.PAUSED, self._reason(agent.paused_reason))
        else:
            self._set_state(models.SHARING)

    def _on_worker_event(self, event: ev.WorkerEvent) -> None:
        kind = event.kind
        if kind == ev.TASK_LOG:
            return
        if kind == ev.TASK_STARTED:
            self._started_at[event.attempt_id] = event.at
        elif kind in (ev.TASK_FINISHED, ev.TASK_FAILED):
            self._started_at.pop(event.attempt_id, None)
        if kind == ev.PAUSED:
            self._set_state(models.PAUSED, self._reason(event.message))
        elif kind == ev.ERROR and _looks_offline(event.message):
            self._set_state(models.OFFLINE, "server unreachable")
        elif kind in (
            ev.REGISTERED,
            ev.RESUMED,
            ev.IDLE,
            ev.TASK_STARTED,
            ev.TASK_FINISHED,
            ev.TASK_FAILED,
            ev.PAYOUT,
        ):
            self._refresh_from_agent()
        activity = _activity_for(event)
        if activity is not None:
            self._on_activity(activity)


def _looks_offline(message: str) -> bool:
    text = message.lower()
    return any(
        marker in text
        for marker in ("unavailable", "cannot reach", "connection", "deadline", "failed to connect")
    )


def _activity_for(event: ev.WorkerEvent) -> models.ActivityEvent | None:
    names = {
        ev.TASK_STARTED: "task_started",
        ev.TASK_FINISHED: "task_finished",
        ev.TASK_FAILED: "task_failed",
        ev.PAYOUT: "payout",
        ev.PAUSED: "paused",
        ev.RESUMED: "resumed",
        ev.ERROR: "error",
        ev.REGISTERED: "registered",
    }
    kind = names.get(event.kind)
    if kind is None:
        return None
    return models.ActivityEvent(
        kind,
        at=event.at,
        amount_ucpt=event.payout_ucpt,
        job_id=event.job_id,
        task_index=event.task_index,
        detail=event.message,
        comparison=event.comparison,
    )


def is_offline_error(exc: ClientError) -> bool:
    return exc.code in _OFFLINE_CODES
