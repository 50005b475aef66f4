"""Idle workers' long-polls (server/jobs/events.py): a burst of job changes lets one of them
look for work, on this replica when one waits here, else one on each other replica; work
offered explicitly wakes as many as it offers."""

from __future__ import annotations

import asyncio
import contextlib

from server.jobs.events import JobEvents, RedisJobEvents, WorkWaiter
from server.store.redis_link import RedisLink
from tests.kit.redis import new_namespace

BATCH = 64  # a batch of completions: one change per task


def woken(waiters: list[WorkWaiter]) -> int:
    return sum(waiter.woken.is_set() for waiter in waiters)


async def test_a_burst_of_changes_wakes_one_idle_worker_and_an_offer_wakes_as_many() -> None:
    events = JobEvents()
    events.bind(asyncio.get_running_loop())
    with contextlib.ExitStack() as stack:
        waiters = [stack.enter_context(events.work_waiter()) for _ in range(5)]
        for _ in range(BATCH):
            events.notify("job-1", "task done")
        await asyncio.sleep(0.05)
        assert woken(waiters) == 1
        assert waiters[0].woken.is_set()  # the one that waited longest
        events.notify("job-1")  # the next burst
        await asyncio.sleep(0.05)
        assert woken(waiters) == 2
        events.offer_work(2)  # a submission of two tasks
        await asyncio.sleep(0.05)
        assert woken(waiters) == 4


async def test_across_replicas_a_burst_wakes_one_worker_here_or_one_on_each_other_replica(
    redis_url: str,
) -> None:
    namespace = new_namespace()
    links = [RedisLink(redis_url, namespace, name) for name in ("replica-a", "replica-b")]
    for link in links:
        await link.start()
    a, b = (RedisJobEvents(link) for link in links)
    loop = asyncio.get_running_loop()
    a.bind(loop)
    b.bind(loop)
    try:
        with contextlib.ExitStack() as stack:
            on_b = [stack.enter_context(b.work_waiter()) for _ in range(3)]
            with a.work_waiter() as on_a:
                for _ in range(BATCH):
                    a.notify("job-1", "task done")
                await asyncio.sleep(1.0)  # Redis would have carried a wake-up by now
                assert on_a.woken.is_set()
                assert woken(on_b) == 0  # replica A's own waiter looked: nobody else
            for _ in range(BATCH):  # nobody waits on A any more
                a.notify("job-1", "task done")
            async with asyncio.timeout(5):
                while not woken(on_b):
                    await asyncio.sleep(0.02)
            await asyncio.sleep(0.5)
            assert woken(on_b) == 1
            a.offer_work(2)  # a submission through A: B's waiters hear of it
            async with asyncio.timeout(5):
                while woken(on_b) < 3:
                    await asyncio.sleep(0.02)
            # A burst whose look A's own waiter takes still tells B that something changed:
            # B's idle nodes look again when their wait ends (server/scheduling/idle.py).
            seen_by_b = b.generation
            with a.work_waiter() as on_a:
                for _ in range(BATCH):
                    a.notify("job-1", "task done")
                async with asyncio.timeout(5):
                    while b.generation == seen_by_b:
                        await asyncio.sleep(0.02)
                assert on_a.woken.is_set()
    finally:
        for link in links:
            await link.close()
