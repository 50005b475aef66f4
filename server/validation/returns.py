"""Attempts a node hands back unfinished: its contributor stopped sharing, or the app quit.

The task goes back to the queue at once (or its replica slot opens again), as if this lease
had never been taken: a return is not a failure, so it does not count toward the task's
max_attempts and costs the node no trust. The attempt is recorded as cancelled, with the
node's reason. A node may return only attempts it holds; returning one again (a retry after
a lost answer) is acknowledged without a second effect. Comparisons are not returned (the
node fails them, and comparisons.py re-issues them).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy import Connection, update

from server.context import ServerContext
from server.errors import InvalidArgument
from server.jobs.effects import Effects
from server.jobs.models import (
    ATTEMPT_CANCELLED,
    ATTEMPT_LIVE_STATES,
    TASK_IN_FLIGHT_STATES,
    TASK_PENDING,
)
from server.store.schema import attempts, tasks
from server.validation.attempts import MAX_BATCH, Ack, load_attempts, one_line, refusal
from server.validation.replicas import load_replicas, reopen_slots

MAX_REASON_CHARS = 200


def return_attempts(
    conn: Connection, node_id: str, attempt_ids: Sequence[str], reason: str, now: float
) -> tuple[list[Ack], Effects]:
    """(an ack per attempt, in order; what to tell the jobs' watchers after the commit)."""
    effects = Effects()
    if len(attempt_ids) > MAX_BATCH:
        raise InvalidArgument(f"at most {MAX_BATCH} attempts per call (got {len(attempt_ids)})")
    why = one_line(reason, MAX_REASON_CHARS) or "the node stopped"
    rows = load_attempts(conn, attempt_ids)
    acks: list[Ack] = []
    returned = []
    seen: set[str] = set()
    for attempt_id in attempt_ids:
        row = rows.get(attempt_id)
        if attempt_id in seen or (
            row is not None and row.node_id == node_id and row.state == ATTEMPT_CANCELLED
        ):
            acks.append(Ack(attempt_id, True, "already returned or cancelled"))
            continue
        problem = refusal(row, attempt_id, node_id)
        if problem is None and row.comparison_id:
            problem = f"attempt {attempt_id} is a comparison: report it failed instead"
        if problem is not None:
            acks.append(Ack(attempt_id, False, problem))
            continue
        seen.add(attempt_id)
        returned.append(row)
        acks.append(Ack(attempt_id, True))
    if not returned:
        return acks, effects
    conn.execute(
        update(attempts)
        .where(
            attempts.c.id.in_([row.id for row in returned]),
            attempts.c.state.in_(ATTEMPT_LIVE_STATES),
        )
        .values(state=ATTEMPT_CANCELLED, finished_at=now, error=f"returned by its node: {why}")
    )
    replicas = load_replicas(conn, [row.task_id for row in returned])
    reopen: list[str] = []
    back_in_queue: list[str] = []
    for row in returned:
        rep = replicas.get(row.task_id)
        if rep is not None or row.replicas > 1:
            decided = (rep is not None and bool(rep.canonical_digest)) or row.task_state not in (
                TASK_PENDING,
                *TASK_IN_FLIGHT_STATES,
            )
            if decided:
                continue
            if rep is not None:
                reopen.append(row.task_id)
        elif row.task_state not in TASK_IN_FLIGHT_STATES:
            continue  # decided or ended meanwhile: nothing to put back
        if row.task_state in TASK_IN_FLIGHT_STATES:
            back_in_queue.append(row.task_id)
        effects.say(
            row.job_id,
            f"task {row.task_index} returned by node {node_id} ({why}); back in the queue",
        )
    reopen_slots(conn, reopen, now)
    if back_in_queue:
        conn.execute(
            update(tasks)
            .where(tasks.c.id.in_(sorted(set(back_in_queue))))
            .values(state=TASK_PENDING, updated_at=now)
        )
    return acks, effects


async def hand_back(
    ctx: ServerContext, node_id: str, attempt_ids: Sequence[str], reason: str
) -> list[Ack]:
    acks, effects = await ctx.db.run(
        return_attempts, node_id, list(attempt_ids), reason, time.time()
    )
    effects.announce(ctx.events)
    return acks
