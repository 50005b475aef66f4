"""LeaseTasks for idle nodes: a long-poll that finds nothing new costs no database work.

Most nodes of a large network are idle most of the time, each keeping a LeaseTasks call open
(a long-poll) and asking again as soon as it ends. Looking for work (scheduler.lease_tasks)
is a transaction of several statements, so a network of 10,000 idle nodes would run hundreds
a second to find nothing. Instead a call looks only when something may have changed since:

- every change that can make work leasable (a job submitted, a task re-queued, a lease or a
  result: anything that tells job watchers or offers work) moves the events' `generation` on,
  here or, with Redis, on any replica (server/jobs/events.py);
- a node that found nothing, asking for the same at the same generation, finds nothing again
  (`IdleNodes.nothing_new`); at least every IDLE_RECHECK_S it looks all the same, for what no
  event announces (its trust growing with age, a runtime approved from the command line);
- one cheap look every few seconds at most (`any_work`, shared by every call) tells whether
  there is any pending task or open comparison at all; while there is none and nothing
  happened since, no node looks (not even one asking for the first time: a network starting
  with thousands of idle nodes does not queue thousands of looks). While work exists, that
  answer is kept ANY_WORK_RECHECK_S whatever happens, so busy calls pay no extra look.

A call that skips the look waits for an offer as a long-poll that found nothing does, and
looks as soon as one comes. A node held back at its last look (quarantined, its day's quota
used) always looks: a call that skipped would answer it with no reason, and its owner would
read that it is no longer held back while it still is. Such a node hears at once and waits
before asking again, so it costs one short look every few seconds.

A node whose facts change (UpdateNode) looks at its next call. A skipped look also skips
what a look checks of the node itself: a banned one is refused by the auth interceptor all
the same, and one marked offline, which a look would tell to beat, comes back online with
its next heartbeat anyway.
"""

from __future__ import annotations

import time

from sqlalchemy import Connection, select

from server.context import ServerContext
from server.jobs.models import TASK_PENDING
from server.scheduling import scheduler
from server.scheduling.leases import Leased, LeaseRequest
from server.store.schema import result_comparisons, tasks
from server.validation.comparisons import OPEN

IDLE_RECHECK_S = 120.0
ANY_WORK_RECHECK_S = 2.0  # what another process (an admin command) changed shows this late


def any_work(conn: Connection) -> bool:
    """Whether any task is pending or any comparison open: two indexed probes."""
    pending = select(tasks.c.id).where(tasks.c.state == TASK_PENDING).limit(1)
    if conn.execute(pending).first() is not None:
        return True
    comparing = select(result_comparisons.c.id).where(result_comparisons.c.state == OPEN)
    return conn.execute(comparing.limit(1)).first() is not None


async def _nothing_new(ctx: ServerContext, node_id: str, request: LeaseRequest) -> bool:
    """Whether this node would surely find nothing now."""
    idle, generation = ctx.events.idle, ctx.events.generation
    if idle.nothing_new(node_id, request, generation, IDLE_RECHECK_S):
        return True
    none = idle.none_anywhere(generation, ANY_WORK_RECHECK_S)
    if none is None:
        none = not await ctx.db.run(any_work)
        idle.looked_anywhere(none, generation)
    return none


async def lease(
    ctx: ServerContext,
    node_id: str,
    request: LeaseRequest,
    network: str = "",
    wait_s: float = 0.0,
) -> Leased:
    """scheduler.lease, unless nothing changed since this node last found nothing (see the
    module docstring): then it waits up to `wait_s` for an offer, and leases when one comes."""
    wait_s = min(max(float(wait_s), 0.0), float(ctx.settings.lease_wait_max_s))
    until = time.monotonic() + wait_s
    idle = ctx.events.idle
    while True:
        # Registered before the check, so an offer made meanwhile is not lost.
        with ctx.events.work_waiter() as waiter:
            if idle.was_held_back(node_id) or not await _nothing_new(ctx, node_id, request):
                break
            remaining = until - time.monotonic()
            if remaining <= 0 or not await waiter.wait(remaining):
                return Leased([])
    generation = ctx.events.generation
    leased = await scheduler.lease(
        ctx, node_id, request, network, max(until - time.monotonic(), 0.0)
    )
    idle.held_back(node_id, bool(leased.held_back))
    if not leased.leases and not leased.held_back and not leased.look_again:
        idle.found_nothing(node_id, request, generation)
    return leased
