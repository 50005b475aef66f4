"""Job change notifications inside one server process, and the WatchJob stream.

Domain code calls `JobEvents.notify(job_id, message)` after its transaction committed.
`notify` may be called from the event loop or from any thread (the database thread):
off-loop calls hop onto the loop with `call_soon_threadsafe`. A watcher also re-reads the
job every second, so a change made by another process (an admin CLI, a second replica)
is seen too, only later.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from server.context import ServerContext
from server.jobs.access import Caller
from server.jobs.models import JobView, TaskView
from server.jobs.queries import job_for, job_tasks

POLL_INTERVAL_S = 1.0
COALESCE_S = 0.2  # many changes in a burst become one event
MAX_PENDING_MESSAGES = 100
# Tasks updated this long before the last look are looked at again: a transaction that
# began before the look may commit after it with an older timestamp.
CLOCK_OVERLAP_S = 5.0


class _Subscription:
    def __init__(self) -> None:
        self.changed = asyncio.Event()
        self.messages: list[str] = []
        self.dropped = 0

    def push(self, message: str) -> None:
        if message:
            if len(self.messages) < MAX_PENDING_MESSAGES:
                self.messages.append(message)
            else:
                self.dropped += 1
        self.changed.set()

    def take_messages(self) -> list[str]:
        messages, self.messages = self.messages, []
        if self.dropped:
            messages.append(f"… and {self.dropped} more changes")
            self.dropped = 0
        return messages


class JobEvents:
    """In-process publish/subscribe keyed by job id."""

    def __init__(self) -> None:
        self._subscriptions: dict[str, set[_Subscription]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def subscribe(self, job_id: str) -> Iterator[_Subscription]:
        """On the event loop: a subscription to one job's changes for the `with` block."""
        self._loop = asyncio.get_running_loop()
        subscription = _Subscription()
        with self._lock:
            self._subscriptions.setdefault(job_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            with self._lock:
                subscribers = self._subscriptions.get(job_id)
                if subscribers is not None:
                    subscribers.discard(subscription)
                    if not subscribers:
                        del self._subscriptions[job_id]

    def notify(self, job_id: str, message: str = "") -> None:
        """Tells the job's watchers it changed. Any thread; returns at once."""
        with self._lock:
            subscribers = list(self._subscriptions.get(job_id, ()))
        if not subscribers or self._loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            for subscription in subscribers:
                subscription.push(message)
        elif not self._loop.is_closed():
            for subscription in subscribers:
                self._loop.call_soon_threadsafe(subscription.push, message)

    def watcher_count(self, job_id: str) -> int:
        with self._lock:
            return len(self._subscriptions.get(job_id, ()))


@dataclass(frozen=True)
class JobUpdate:
    job: JobView
    changed_tasks: list[TaskView]
    message: str


def _fingerprint(task: TaskView) -> tuple:
    return (task.state, task.attempts, task.result_digest, task.error)


async def watch_job(ctx: ServerContext, caller: Caller, job_id: str) -> AsyncIterator[JobUpdate]:
    """The job's state now, then after every change, until the job has ended."""
    with ctx.events.subscribe(job_id) as subscription:
        looked_at = time.time()
        job = await ctx.db.run(job_for, caller, job_id)
        seen: dict[str, tuple] = {}
        yield JobUpdate(job, [], f"job {job.state}")
        while not job.ended:
            notified = False
            # Not asyncio.wait_for: on 3.11 it can drop a cancellation (CPython gh-86296).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL_INTERVAL_S):
                    notified = await subscription.changed.wait()
            if notified:
                await asyncio.sleep(COALESCE_S)
            subscription.changed.clear()
            messages = subscription.take_messages()
            new_job = await ctx.db.run(job_for, caller, job_id)
            recent: list[TaskView] = []
            # Scanning a big job's tasks costs; do it only when something happened.
            if notified or new_job != job:
                look_from, looked_at = looked_at - CLOCK_OVERLAP_S, time.time()
                recent = await ctx.db.run(job_tasks, job_id, False, look_from)
            changed = [task for task in recent if seen.get(task.task_id) != _fingerprint(task)]
            if notified or new_job != job:
                # Only the tasks of this look can show up again in the next one (its window
                # overlaps this one's): what is remembered stays that small, whatever the job.
                seen = {task.task_id: _fingerprint(task) for task in recent}
            if changed or messages or new_job != job:
                job = new_job
                yield JobUpdate(job, changed, "\n".join(messages) or f"job {job.state}")
