"""Job change notifications, wake-ups for idle workers, and the WatchJob stream.

Domain code calls `events.notify(job_id, message)` after its transaction committed, and
`events.offer_work(count)` when it made `count` tasks leasable. Both may be called from the
event loop or from any thread (the database thread): off-loop calls hop onto the loop with
`call_soon_threadsafe`. Subscribers (`subscribe(job_id)`, or `subscribe(ANY_JOB)` for every
job) hear of each change (the dashboard's live views need none: they re-read the database
every replica shares); a LeaseTasks call that found nothing may wait (`work_waiter`) until
work is offered, then leases again. Every change and offer (here or, with Redis, on another
replica) also moves `generation` on: a node that found nothing at one generation finds
nothing again until it moves (`idle`, server/scheduling/idle.py), so idle long-polls cost no
database work.

A change may have made a task leasable (a lease lapsed, a replica is needed), so changes also
let ONE idle worker look, however many a burst made (a batch of 64 completions is 64
changes): a look costs a lease transaction, and waking one waiter per change had every idle
node that cannot run the queued work query the database after every batch (on every replica,
with Redis). One is enough to start a chain: a look that leases something notifies in turn
(server/scheduling/scheduler.py), waking the next. The look is this replica's when it has a
waiting worker, else every other replica's (one each). Work offered explicitly
(`offer_work(count)`, a submission) still wakes `count`.

Two implementations of one interface: `JobEvents` within one server process, and
`RedisJobEvents`, which also carries both across replicas over Redis pub/sub: a job watched
on one replica sees progress made on another at once, and a worker long-polling one replica
is woken by a job submitted to another. A watcher also re-reads the job every
`poll_interval_s` (1 s in one process, where a change made by another process, such as an
admin command, is seen only so; 10 s with Redis, as a safety net, and 1 s again while Redis is
down), and at once whenever Redis may have missed messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from common.bounded import BoundedCache
from server.context import ServerContext
from server.jobs.access import Caller
from server.jobs.models import JobView, TaskView
from server.jobs.queries import job_for, job_tasks
from server.store.redis_link import Gap, RedisLink

ANY_JOB = "*"  # subscribe(ANY_JOB): every job's changes
COALESCE_S = 0.2  # many changes in a burst become one event
MAX_PENDING_MESSAGES = 100
GAP_WAKE_COUNT = 64
IDLE_NODES_KEPT = 200_000
# Tasks updated this long before the last look are looked at again: a transaction that
# began before the look may commit after it with an older timestamp.
CLOCK_OVERLAP_S = 5.0


class Subscription:
    """One subscriber's pending news: `changed` is set when something happened; the lines
    and (for ANY_JOB) the job ids since the last `take_*` wait here."""

    def __init__(self) -> None:
        self.changed = asyncio.Event()
        self.messages: list[str] = []
        self.job_ids: set[str] = set()
        self.dropped = 0

    def push(self, job_id: str, message: str) -> None:
        if message:
            if len(self.messages) < MAX_PENDING_MESSAGES:
                self.messages.append(message)
            else:
                self.dropped += 1
        if len(self.job_ids) < MAX_PENDING_MESSAGES * 10:
            self.job_ids.add(job_id)
        self.changed.set()

    def take_messages(self) -> list[str]:
        messages, self.messages = self.messages, []
        if self.dropped:
            messages.append(f"… and {self.dropped} more changes")
            self.dropped = 0
        return messages

    def take_job_ids(self) -> set[str]:
        job_ids, self.job_ids = self.job_ids, set()
        return job_ids


class WorkWaiter:
    """A LeaseTasks call that may wait for work: registered before it looks for work, so an
    offer made while it looks is not lost."""

    def __init__(self) -> None:
        self.woken = asyncio.Event()

    async def wait(self, timeout_s: float) -> bool:
        """True when work was offered within `timeout_s`."""
        # Not asyncio.wait_for: on 3.11 it can drop a cancellation (CPython gh-86296).
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(timeout_s, 0.0)):
                return await self.woken.wait()
        return False


@dataclass(frozen=True)
class _FoundNothing:
    asked: object  # the node's request
    generation: int  # read before the look began
    at: float  # time.monotonic()


class IdleNodes:
    """Nodes whose last look for work found nothing, with what they asked and the events'
    generation before that look; and the last look at whether any work exists at all. On the
    event loop only."""

    def __init__(self, max_nodes: int = IDLE_NODES_KEPT) -> None:
        self._nodes: BoundedCache[str, _FoundNothing] = BoundedCache(max_nodes)
        self._none_anywhere: _FoundNothing | None = None
        self._held: BoundedCache[str, bool] = BoundedCache(max_nodes)

    def found_nothing(self, node_id: str, asked: object, generation: int) -> None:
        self._nodes.put(node_id, _FoundNothing(asked, generation, time.monotonic()))

    def held_back(self, node_id: str, held: bool) -> None:
        """What the node's last look said: held back (quarantine, its day's quota) or not."""
        if held:
            self._held.put(node_id, True)
        else:
            self._held.pop(node_id, None)

    def was_held_back(self, node_id: str) -> bool:
        return node_id in self._held

    def forget(self, node_id: str) -> None:
        """The node changed (its facts): its next call looks for work."""
        self._nodes.pop(node_id, None)

    def nothing_new(self, node_id: str, asked: object, generation: int, max_age_s: float) -> bool:
        """Whether the node, asking for `asked` now that the generation is `generation`, was
        given nothing by a look at this generation less than `max_age_s` ago."""
        known = self._nodes.get(node_id)
        return (
            known is not None
            and known.generation == generation
            and known.asked == asked
            and time.monotonic() - known.at < max_age_s
        )

    def none_anywhere(self, generation: int, max_age_s: float) -> bool | None:
        """Whether the last look at all work, less than `max_age_s` ago, found none (True:
        only if at this generation) or some (False); None: no such look."""
        known = self._none_anywhere
        if known is None or time.monotonic() - known.at >= max_age_s:
            return None
        if known.asked and known.generation != generation:
            return None  # something happened since: there may be work now
        return bool(known.asked)

    def looked_anywhere(self, none: bool, generation: int) -> None:
        self._none_anywhere = _FoundNothing(none, generation, time.monotonic())


class JobEvents:
    """Publish/subscribe keyed by job id, and work offers, within one server process."""

    poll_interval_s = 1.0

    def __init__(self) -> None:
        self._generations = itertools.count(1)  # next() is atomic: any thread may move it
        self.generation = 0
        self.idle = IdleNodes()
        self._subscriptions: dict[str, set[Subscription]] = {}
        # Oldest first; a dict so a call that leaves (most wait in vain) is removed in O(1).
        self._waiters: OrderedDict[WorkWaiter, None] = OrderedDict()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._look_scheduled = False  # a burst's one look is on its way to the loop

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop subscribers and waiters live on (the server's)."""
        self._loop = loop

    # -- job changes -----------------------------------------------------------------------

    @contextlib.contextmanager
    def subscribe(self, job_id: str) -> Iterator[Subscription]:
        """On the event loop: a subscription to one job's changes (or ANY_JOB's) for the
        `with` block."""
        self._loop = asyncio.get_running_loop()
        subscription = Subscription()
        with self._lock:
            subscribers = self._subscriptions.setdefault(job_id, set())
            first = not subscribers
            subscribers.add(subscription)
        if first:
            self._watching(job_id, True)
        try:
            yield subscription
        finally:
            with self._lock:
                subscribers = self._subscriptions.get(job_id)
                last = False
                if subscribers is not None:
                    subscribers.discard(subscription)
                    if not subscribers:
                        del self._subscriptions[job_id]
                        last = True
            if last:
                self._watching(job_id, False)

    def _watching(self, job_id: str, watched: bool) -> None:
        """The first subscriber of `job_id` arrived (True) or the last one left (False)."""

    def notify(self, job_id: str, message: str = "") -> None:
        """Tells the job's watchers it changed, and lets one idle worker look for work (a
        change may have made a task leasable): one for the burst of changes this is part of.
        Any thread; returns at once."""
        self.changed()
        self._deliver(job_id, message)
        with self._lock:
            if self._look_scheduled:
                return
            self._look_scheduled = True
        # Later on the loop, never now: the rest of the burst is being announced.
        loop = self._loop
        try:
            if loop is None or loop.is_closed():
                raise RuntimeError("no loop")
            loop.call_soon_threadsafe(self._look)
        except RuntimeError:  # no loop (yet, or any more): nobody waits here
            with self._lock:
                self._look_scheduled = False
            self._look_elsewhere()

    def _deliver(self, job_id: str, message: str) -> None:
        with self._lock:
            subscribers = [
                *self._subscriptions.get(job_id, ()),
                *self._subscriptions.get(ANY_JOB, ()),
            ]
        if subscribers:
            self._on_loop(_push_all, subscribers, job_id, message)

    def watcher_count(self, job_id: str) -> int:
        with self._lock:
            return len(self._subscriptions.get(job_id, ()))

    def _touch_everyone(self) -> None:
        """Every subscriber re-reads (news may have been missed)."""
        with self._lock:
            everyone = [(job_id, s) for job_id, subs in self._subscriptions.items() for s in subs]
        for job_id, subscription in everyone:
            self._on_loop(subscription.push, job_id, "")

    # -- work offers -----------------------------------------------------------------------

    def offer_work(self, count: int) -> None:
        """`count` tasks became leasable: wakes up to that many waiting LeaseTasks calls.
        Any thread; returns at once."""
        self.changed()
        self._wake(count)

    def changed(self) -> None:
        """Something that may make work leasable happened (any thread): idle nodes look
        again."""
        self.generation = next(self._generations)

    def _wake(self, count: int) -> None:
        if count > 0 and self._waiters:
            self._on_loop(self._wake_waiters, count)

    def _wake_waiters(self, count: int) -> int:
        """On the loop: wakes up to `count` waiters, oldest first; how many it woke."""
        woken = 0
        while woken < count and self._waiters:
            self._waiters.popitem(last=False)[0].woken.set()
            woken += 1
        return woken

    def _look(self) -> None:
        """On the loop, once per burst of changes: one idle worker looks for work."""
        with self._lock:
            self._look_scheduled = False
        if not self._wake_waiters(1):
            self._look_elsewhere()

    def _look_elsewhere(self) -> None:
        """No worker waits here: within one process, nobody else to ask."""

    @contextlib.contextmanager
    def work_waiter(self) -> Iterator[WorkWaiter]:
        """On the event loop: a waiter registered for the `with` block."""
        self._loop = asyncio.get_running_loop()
        waiter = WorkWaiter()
        self._waiters[waiter] = None
        try:
            yield waiter
        finally:
            self._waiters.pop(waiter, None)  # woken ones left the queue already

    def waiting_count(self) -> int:
        return len(self._waiters)

    # -- plumbing --------------------------------------------------------------------------

    def _on_loop(self, fn: Any, *args: Any) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            fn(*args)
        else:
            loop.call_soon_threadsafe(fn, *args)


def _push_all(subscribers: list[Subscription], job_id: str, message: str) -> None:
    for subscription in subscribers:
        subscription.push(job_id, message)


class RedisJobEvents(JobEvents):
    """JobEvents across replicas: each change also goes to `<namespace>:job:<id>` (and the
    ids to `<namespace>:jobs` for ANY_JOB subscribers), each offer to `<namespace>:wake`.
    A replica subscribes to a job's channel while someone watches that job on it."""

    def __init__(self, link: RedisLink) -> None:
        super().__init__()
        self.link = link
        link.subscribe("wake", self._offered)
        link.on_gap(self._gap)

    @property
    def poll_interval_s(self) -> float:  # type: ignore[override]
        # A safety net while Redis carries the news; every second while it cannot.
        return 10.0 if self.link.healthy else 1.0

    def notify(self, job_id: str, message: str = "") -> None:
        super().notify(job_id, message)
        self.link.publish(f"job:{job_id}", {"m": message})
        self.link.add_member("jobs", job_id)

    def _look(self) -> None:
        with self._lock:
            self._look_scheduled = False
        if self._wake_waiters(1):
            # Woken here: the others wake nobody, but their idle nodes, which skip looking
            # while nothing changed (server/scheduling/idle.py), look when their wait ends.
            self.link.add("wake", 0)
        else:
            self._look_elsewhere()

    def _look_elsewhere(self) -> None:
        self.link.add("wake", 1)  # each other replica wakes one of its waiters

    def offer_work(self, count: int) -> None:
        super().offer_work(count)
        if count > 0:
            self.link.add("wake", count)

    def _watching(self, job_id: str, watched: bool) -> None:
        if job_id == ANY_JOB:
            if watched:
                self.link.subscribe("jobs", self._any_changed)
            else:
                self.link.unsubscribe("jobs")
            return
        channel = f"job:{job_id}"
        if watched:
            self.link.subscribe(channel, lambda data: self._changed(job_id, data))
        else:
            self.link.unsubscribe(channel)

    def _changed(self, job_id: str, data: dict[str, Any]) -> None:
        message = data.get("m")
        # ANY_JOB subscribers hear of it on the `jobs` channel instead.
        with self._lock:
            subscribers = list(self._subscriptions.get(job_id, ()))
        if subscribers:
            _push_all(subscribers, job_id, message if isinstance(message, str) else "")

    def _any_changed(self, data: dict[str, Any]) -> None:
        with self._lock:
            subscribers = list(self._subscriptions.get(ANY_JOB, ()))
        for job_id in data.get("s", ()):
            if isinstance(job_id, str):
                _push_all(subscribers, job_id, "")

    def _offered(self, data: dict[str, Any]) -> None:
        count = data.get("n")
        if isinstance(count, int):
            self.changed()  # on another replica
            self._wake_waiters(count)

    def _gap(self, gap: Gap) -> None:
        self.changed()
        self._touch_everyone()
        # Offers may have been lost: a few waiting calls look now (all of them would be a
        # stampede of lease queries; the rest look when their wait ends).
        self._wake_waiters(GAP_WAKE_COUNT)


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
                async with asyncio.timeout(ctx.events.poll_interval_s):
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
