"""Sharing inside the desktop app: starts and stops the worker agent as the user flips
"Share resources", and turns what the agent says into a `SharingState` for the tray and the
overview. No Qt: it runs on the app's asyncio loop and reports through two callbacks, which
the bridge re-emits as Qt signals.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import grpc

from app.services.client.credentials import CredentialStore
from app.services.client.session import ClientError, ClientSession
from app.services.executors.base import OutsideUsage
from app.services.executors.choice import ExecutorUnavailable
from app.services.settings import SettingsStore
from app.services.worker import events as ev
from app.services.worker.agent import WorkerAgent
from app.services.worker.assembly import OpenedWorker, open_worker
from app.services.worker.compare import is_comparison
from app.services.worker.options import WorkerOptions
from app.services.worker.policy import MANUAL_PAUSE, ManualPauseOnly
from app.ui import models

log = logging.getLogger(__name__)

OUTSIDE_SCHEDULE = "outside schedule"  # the policy's reason (app/services/policy/engine.py)

# "Finish the running tasks first": the drain waits this long at most (each task also ends
# at its own time limit, which is much sooner in practice).
FINISH_TASKS_S = 24 * 3600.0
_OFFLINE_CODES = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
}


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
        # How the next stop treats running tasks: 0 hands them back at once, more lets them
        # finish (the user chose "finish them first").
        self.drain_on_stop_s = 0.0

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
            drain_s, self.drain_on_stop_s = self.drain_on_stop_s, 0.0
            await self.stop(drain_s=drain_s)
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
            worker = await open_worker(
                self.session,
                self.store,
                self.credentials,
                executor=self.store.settings.contributor.executor,
                policy=self.policy,
                options=self.options,
            )
        except (ExecutorUnavailable, ValueError) as exc:
            log.warning("sharing cannot start: %s", exc)
            reason = "DOCKER_UNAVAILABLE" if "Docker" in str(exc) else ""
            self._set_state(models.ERROR, str(exc), models.Problem(str(exc), reason))
            return
        if worker.notice:
            log.warning("%s", worker.notice)
        agent = worker.agent
        self._executor_name = agent.executor.name
        agent.events.subscribe(self._on_worker_event)
        self.agent = agent
        self._run_task = asyncio.ensure_future(self._run(worker))

    async def _run(self, worker: OpenedWorker) -> None:
        agent = worker.agent
        try:
            await agent.run()
        except ClientError as exc:
            log.warning("worker stopped: %s", exc.message)
            if exc.code == grpc.StatusCode.UNAUTHENTICATED:
                self._set_state(models.OFFLINE, "not signed in")
            else:
                self._set_state(models.ERROR, exc.message, models.problem_from(exc))
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the app must stay up; the user sees the error
            log.exception("worker crashed")
            self._set_state(models.ERROR, str(exc) or type(exc).__name__, models.problem_from(exc))
            return
        finally:
            if self.agent is agent:
                self.agent = None
            self._started_at.clear()
            await worker.close()
        if self.store.settings.contributor.sharing and self.signed_in:
            self._set_state(models.ERROR, "the worker stopped")
        else:
            self._set_state(models.OFF)

    async def stop(self, drain_s: float = 0) -> None:
        """Stops the worker: running tasks get `drain_s` to finish (the state says STOPPING
        meanwhile), then the rest are handed back to the server."""
        agent, task = self.agent, self._run_task
        if agent is None or task is None:
            return
        agent.request_stop(drain_timeout_s=drain_s)
        if drain_s > 0 and agent.held:
            self._set_state(models.STOPPING)
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        self._run_task = None

    def stop_now(self) -> None:
        """While finishing before a stop: hand the running tasks back now instead."""
        agent = self.agent
        if agent is not None and agent.stopping:
            agent.request_stop(drain_timeout_s=0)

    def running_count(self) -> int:
        """Tasks this computer works on now (comparisons included)."""
        return len(self.agent.held) if self.agent is not None else 0

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
        """The policy's reason, with the end of a manual pause, or when the schedule's next
        window opens, when there is one (app/ui/texts.py words them)."""
        until = getattr(self.policy, "paused_until", None)
        if reason == MANUAL_PAUSE and until is not None:
            return f"manual pause until {until:%H:%M}"
        if reason == OUTSIDE_SCHEDULE:
            opens = getattr(self.policy.decision(), "retry_at", None)
            if opens is not None:
                return f"outside schedule until {opens.isoformat()}"
        return reason

    # -- state ---------------------------------------------------------------------------------

    def outside_usage(self) -> OutsideUsage:
        """What the worker's tasks use outside the app's process tree (Docker containers).
        Called from the usage sampling thread."""
        agent = self.agent
        return agent.executor.outside_usage() if agent is not None else OutsideUsage()

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

    def _set_state(
        self, state: str, reason: str = "", problem: models.Problem | None = None
    ) -> None:
        running = len(self.agent.held) if self.agent is not None else 0
        new = models.SharingState(state, reason, running, problem)
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
        if agent.stopping:
            if self.state.state == models.STOPPING:
                self._set_state(models.STOPPING)  # fewer tasks left
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
        elif kind in (ev.TASK_FINISHED, ev.TASK_FAILED, ev.TASK_RETURNED):
            self._started_at.pop(event.attempt_id, None)
        if kind == ev.PAUSED:
            self._set_state(models.PAUSED, self._reason(event.message))
        elif kind == ev.ERROR and (
            event.status in models.UNREACHABLE_STATUSES or _looks_offline(event.message)
        ):
            self._set_state(models.OFFLINE, "server unreachable")
        elif kind in (
            ev.REGISTERED,
            ev.RECOVERED,
            ev.RESUMED,
            ev.IDLE,
            ev.TASK_STARTED,
            ev.TASK_FINISHED,
            ev.TASK_FAILED,
            ev.TASK_RETURNED,
            ev.PAYOUT,
        ):
            self._refresh_from_agent()
        activity = _activity_for(event, self.session.server)
        if activity is not None:
            self._on_activity(activity)


def _looks_offline(message: str) -> bool:
    text = message.lower()
    return any(
        marker in text
        for marker in ("unavailable", "cannot reach", "connection", "deadline", "failed to connect")
    )


def _activity_for(event: ev.WorkerEvent, server: str) -> models.ActivityEvent | None:
    names = {
        ev.TASK_STARTED: "task_started",
        ev.TASK_FINISHED: "task_finished",
        ev.TASK_FAILED: "task_failed",
        ev.TASK_RETURNED: "task_returned",
        ev.PAYOUT: "payout",
        ev.PAUSED: "paused",
        ev.RESUMED: "resumed",
        ev.ERROR: "error",
        ev.REGISTERED: "registered",
        ev.RECOVERED: "recovered",
    }
    kind = names.get(event.kind)
    if kind is None:
        return None
    if event.kind == ev.REGISTERED and not event.new_node:
        return None  # the same node as before: nothing joined
    problem = None
    if event.kind == ev.ERROR:
        reason = event.reason
        if not reason and event.status in models.UNREACHABLE_STATUSES:
            reason = "UNREACHABLE"
        problem = models.Problem(event.message, reason, event.status, server)
    return models.ActivityEvent(
        kind,
        at=event.at,
        amount_ucpt=event.payout_ucpt,
        job_id=event.job_id,
        task_index=event.task_index,
        detail=event.message,
        comparison=event.comparison,
        problem=problem,
    )


def is_offline_error(exc: ClientError) -> bool:
    return exc.code in _OFFLINE_CODES
