"""How a job moves: its counters, its end (done, failed or cancelled) and its refund.

Every function here but `cancel_job` runs inside the caller's transaction (Database.run), so
a state change and its ledger movement commit together or not at all; `cancel_job` is what
the servicer calls (one such transaction, then the watchers are told). The refund of what is
left in the escrow happens exactly once per job: the ledger key `refund:<job_id>` cannot be
reused.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select, update

from server.context import ServerContext
from server.errors import FailedPrecondition
from server.jobs.access import Caller
from server.jobs.models import (
    ATTEMPT_CANCELLED,
    ATTEMPT_LIVE_STATES,
    JOB_ACTIVE_STATES,
    JOB_CANCELLED,
    JOB_DONE,
    JOB_FAILED,
    TASK_CANCELLED,
    TASK_IN_FLIGHT_STATES,
    TASK_PENDING,
    JobView,
)
from server.jobs.queries import job_for, load_job
from server.ledger import journal as ledger
from server.ledger import starter
from server.store.schema import attempts, jobs, tasks

log = logging.getLogger("hivemind.jobs")


@dataclass
class JobDelta:
    """What a batch of attempt outcomes changes in one job's counters."""

    done: int = 0
    failed: int = 0
    cancelled: int = 0
    cost_ucpt: int = 0


class JobDeltas(defaultdict[str, JobDelta]):
    def __init__(self) -> None:
        super().__init__(JobDelta)


def apply_deltas(conn: Connection, deltas: JobDeltas, now: float) -> None:
    if not deltas:
        return
    conn.execute(
        update(jobs)
        .where(jobs.c.id == bindparam("b_job_id"))
        .values(
            tasks_done=jobs.c.tasks_done + bindparam("b_done"),
            tasks_failed=jobs.c.tasks_failed + bindparam("b_failed"),
            tasks_cancelled=jobs.c.tasks_cancelled + bindparam("b_cancelled"),
            cost_ucpt=jobs.c.cost_ucpt + bindparam("b_cost"),
            updated_at=now,
        ),
        [
            {
                "b_job_id": job_id,
                "b_done": delta.done,
                "b_failed": delta.failed,
                "b_cancelled": delta.cancelled,
                "b_cost": delta.cost_ucpt,
            }
            for job_id, delta in sorted(deltas.items())
        ],
    )


def refund_escrow(conn: Connection, job_id: str, owner_id: str, escrow_account_id: str) -> int:
    """Returns what is left in the job's escrow to its owner (once), to the balance that paid
    for it (CPT or starter credit); the amount refunded."""
    left = ledger.balance(conn, escrow_account_id)
    if left <= 0:
        return 0
    refund_to = starter.refund_account(conn, job_id, owner_id)
    posted = ledger.post(
        conn,
        idempotency_key=f"refund:{job_id}",
        reason="refund",
        entries=[(escrow_account_id, -left), (refund_to, left)],
        memo=f"unspent budget of job {job_id}",
        job_id=job_id,
    )
    if not posted.created:
        return 0
    conn.execute(
        update(jobs).where(jobs.c.id == job_id).values(refunded_ucpt=jobs.c.refunded_ucpt + left)
    )
    return left


def settle_ended_jobs(conn: Connection, job_ids: set[str], now: float) -> list[str]:
    """Ends every listed job whose tasks have all ended, refunding its escrow; returns them."""
    if not job_ids:
        return []
    ended_tasks = jobs.c.tasks_done + jobs.c.tasks_failed + jobs.c.tasks_cancelled
    rows = conn.execute(
        select(jobs.c.id, jobs.c.owner_id, jobs.c.escrow_account_id, jobs.c.tasks_failed).where(
            jobs.c.id.in_(sorted(job_ids)),
            jobs.c.state.in_(JOB_ACTIVE_STATES),
            ended_tasks >= jobs.c.tasks_total,
        )
    ).all()
    for row in rows:
        state = JOB_FAILED if row.tasks_failed else JOB_DONE
        conn.execute(
            update(jobs)
            .where(jobs.c.id == row.id)
            .values(state=state, finished_at=now, updated_at=now)
        )
        refund_escrow(conn, row.id, row.owner_id, row.escrow_account_id)
    if rows:
        # Replicas still running when their job ends (all its tasks were decided) stop: the
        # escrow is refunded now, so nothing more could be paid for them.
        conn.execute(
            update(attempts)
            .where(
                attempts.c.job_id.in_([row.id for row in rows]),
                attempts.c.state.in_(ATTEMPT_LIVE_STATES),
            )
            .values(
                state=ATTEMPT_CANCELLED,
                cancel_requested=True,
                finished_at=now,
                error="its job ended before this replica finished",
            )
        )
    return [row.id for row in rows]


@dataclass(frozen=True)
class Cancellation:
    job: JobView
    stopped_attempt_ids: list[str]  # running attempts whose nodes are told to stop


def _cancel(conn: Connection, caller: Caller, job_id: str, now: float) -> Cancellation:
    """Cancels a job: nothing more is leased, running attempts are told to stop at their
    next heartbeat (their results are no longer accepted) and the escrow is refunded."""
    job = job_for(conn, caller, job_id)
    if job.state == JOB_CANCELLED:
        return Cancellation(job, [])
    if job.ended:
        raise FailedPrecondition(f"job {job_id} already ended ({job.state}); nothing to cancel")
    stopped = [
        attempt_id
        for (attempt_id,) in conn.execute(
            select(attempts.c.id).where(
                attempts.c.job_id == job_id, attempts.c.state.in_(ATTEMPT_LIVE_STATES)
            )
        )
    ]
    if stopped:
        conn.execute(
            update(attempts)
            .where(attempts.c.id.in_(stopped))
            .values(
                state=ATTEMPT_CANCELLED,
                cancel_requested=True,
                finished_at=now,
                error="job cancelled by its owner",
            )
        )
    cancelled = conn.execute(
        update(tasks)
        .where(tasks.c.job_id == job_id, tasks.c.state.in_((TASK_PENDING, *TASK_IN_FLIGHT_STATES)))
        .values(state=TASK_CANCELLED, updated_at=now)
    ).rowcount
    conn.execute(
        update(jobs)
        .where(jobs.c.id == job_id)
        .values(
            state=JOB_CANCELLED,
            tasks_cancelled=jobs.c.tasks_cancelled + cancelled,
            finished_at=now,
            updated_at=now,
        )
    )
    refund_escrow(conn, job_id, job.owner_id, _escrow_of(conn, job_id))
    updated = load_job(conn, job_id)
    assert updated is not None
    return Cancellation(updated, stopped)


async def cancel_job(ctx: ServerContext, caller: Caller, job_id: str) -> JobView:
    cancellation = await ctx.db.run(_cancel, caller, job_id, time.time())
    job = cancellation.job
    log.info(
        "job cancelled job=%s by=%s stopped_attempts=%d refunded_ucpt=%d",
        job_id,
        caller.user_id,
        len(cancellation.stopped_attempt_ids),
        job.refunded_ucpt,
    )
    ctx.events.notify(job_id, "job cancelled")
    return job


def _escrow_of(conn: Connection, job_id: str) -> str:
    return conn.execute(select(jobs.c.escrow_account_id).where(jobs.c.id == job_id)).scalar_one()
