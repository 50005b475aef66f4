"""How a job moves: its counters, its end (done, failed or cancelled) and its refund.

Every function here but the async ones runs inside the caller's transaction (Database.run),
so a state change and its ledger movement commit together or not at all; `cancel_job` is what
the servicer calls (one such transaction, then the watchers are told). The refund of what is
left in the escrow happens exactly once per job: the ledger key `refund:<job_id>` cannot be
reused.

A cancelled job is compacted: its tasks that never ran are deleted, a batch per transaction
(the job's counters keep their number), so a loop of huge jobs submitted and cancelled does
not grow the database with rows nobody will read. Tasks that ran keep their history.

A job with rounds (jobs/rounds.py) is done when its last round is: a task of a round that
failed while the round still got its `min_results` does not fail the job. Cancelling it also
counts the tasks of the rounds it will never run as cancelled.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    or_,
    select,
    update,
)

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
    JOB_SUBMITTING,
    ROUND_AGGREGATING,
    ROUND_CANCELLED,
    ROUND_DONE,
    ROUND_OPEN_STATES,
    TASK_CANCELLED,
    TASK_IN_FLIGHT_STATES,
    TASK_PENDING,
    JobView,
)
from server.jobs.queries import job_for, load_job
from server.jobs.rounds import tasks_never_made
from server.ledger import journal as ledger
from server.ledger import starter
from server.store.schema import attempts, job_rounds, jobs, tasks

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


ADD_DELTAS = (
    update(jobs)
    .where(jobs.c.id == bindparam("b_job_id"))
    .values(
        tasks_done=jobs.c.tasks_done + bindparam("b_done"),
        tasks_failed=jobs.c.tasks_failed + bindparam("b_failed"),
        tasks_cancelled=jobs.c.tasks_cancelled + bindparam("b_cancelled"),
        cost_ucpt=jobs.c.cost_ucpt + bindparam("b_cost"),
        updated_at=bindparam("b_now"),
    )
    # Whether the job may have ended: its counters as updated (the row is locked now).
    .returning(
        jobs.c.tasks_done + jobs.c.tasks_failed + jobs.c.tasks_cancelled >= jobs.c.tasks_total
    )
)


def apply_deltas(conn: Connection, deltas: JobDeltas, now: float) -> set[str]:
    """Adds the counters to their jobs; returns the jobs whose tasks may all have ended (to
    settle), so a batch that ends no job reads nothing more."""
    ended: set[str] = set()
    for job_id, delta in sorted(deltas.items()):
        all_ended = conn.execute(
            ADD_DELTAS,
            {
                "b_job_id": job_id,
                "b_done": delta.done,
                "b_failed": delta.failed,
                "b_cancelled": delta.cancelled,
                "b_cost": delta.cost_ucpt,
                "b_now": now,
            },
        ).scalar()
        if all_ended:
            ended.add(job_id)
    return ended


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


def _ended_jobs() -> Select:
    """Active jobs among :b_ids whose tasks have all ended, with their last round's state."""
    ended_tasks = jobs.c.tasks_done + jobs.c.tasks_failed + jobs.c.tasks_cancelled
    last_round_state = (
        select(job_rounds.c.state)
        .where(job_rounds.c.job_id == jobs.c.id, job_rounds.c.round == jobs.c.rounds - 1)
        .scalar_subquery()
    )
    return select(
        jobs.c.id,
        jobs.c.owner_id,
        jobs.c.escrow_account_id,
        jobs.c.tasks_failed,
        jobs.c.aggregate_json,
        last_round_state.label("last_round_state"),
    ).where(
        jobs.c.id.in_(bindparam("b_ids", expanding=True)),
        jobs.c.state.in_(JOB_ACTIVE_STATES),
        ended_tasks >= jobs.c.tasks_total,
    )


ENDED_JOBS = _ended_jobs()


def settle_ended_jobs(conn: Connection, job_ids: set[str], now: float) -> list[str]:
    """Ends every listed job whose tasks have all ended, refunding its escrow; returns them."""
    if not job_ids:
        return []
    rows = conn.execute(ENDED_JOBS, {"b_ids": sorted(job_ids)}).all()
    for row in rows:
        if row.aggregate_json:
            state = JOB_DONE if row.last_round_state == ROUND_DONE else JOB_FAILED
        else:
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
    # Only the tasks in flight are changed here (an index seek): the pending ones, maybe
    # 100,000, are left to the compaction that follows, a batch per transaction. Nothing
    # leases a task of a cancelled job meanwhile.
    conn.execute(
        update(tasks)
        .where(tasks.c.job_id == job_id, tasks.c.state.in_(TASK_IN_FLIGHT_STATES))
        .values(state=TASK_CANCELLED, updated_at=now)
    )
    _cancel_rounds(conn, job, now)  # its open round ends; counted with the rest below
    conn.execute(
        update(jobs)
        .where(jobs.c.id == job_id)
        .values(
            state=JOB_CANCELLED,
            # Every task not done or failed, whether its row exists yet (a job still being
            # submitted) or not.
            tasks_cancelled=jobs.c.tasks_total - jobs.c.tasks_done - jobs.c.tasks_failed,
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
    await compact_cancelled_job(ctx, job_id)
    log.info(
        "job cancelled job=%s by=%s stopped_attempts=%d refunded_ucpt=%d",
        job_id,
        caller.user_id,
        len(cancellation.stopped_attempt_ids),
        job.refunded_ucpt,
    )
    ctx.events.notify(job_id, "job cancelled")
    return job


def _cancel_rounds(conn: Connection, job: JobView, now: float) -> int:
    """Ends a cancelled job's open round; returns the tasks it will never make (its later
    rounds, and this round's aggregate unless it was made)."""
    if not job.has_rounds:
        return 0
    state = conn.execute(
        select(job_rounds.c.state).where(
            job_rounds.c.job_id == job.job_id, job_rounds.c.round == job.current_round
        )
    ).scalar()
    if state not in ROUND_OPEN_STATES:
        return 0
    conn.execute(
        update(job_rounds)
        .where(job_rounds.c.job_id == job.job_id, job_rounds.c.round == job.current_round)
        .values(state=ROUND_CANCELLED, ended_at=now, error="job cancelled by its owner")
    )
    made = state == ROUND_AGGREGATING
    return tasks_never_made(job.rounds, job.round_tasks, job.current_round, made)


def _escrow_of(conn: Connection, job_id: str) -> str:
    return conn.execute(select(jobs.c.escrow_account_id).where(jobs.c.id == job_id)).scalar_one()


COMPACT_BATCH = 500  # task rows deleted per transaction
STALE_SUBMISSION_S = 300.0  # a submitting job with no new batch for this long was cut short


def _never_ran(job_id: str) -> ColumnElement[bool]:
    return and_(
        tasks.c.job_id == job_id,
        tasks.c.attempts == 0,
        tasks.c.state.in_((TASK_PENDING, TASK_CANCELLED)),
    )


def compact_batch(conn: Connection, job_id: str, limit: int = COMPACT_BATCH) -> int:
    """Deletes up to `limit` tasks of a cancelled job that never ran, then marks cancelled
    those still pending that did (they keep their history); how many rows it changed."""
    state = conn.execute(select(jobs.c.state).where(jobs.c.id == job_id)).scalar()
    if state != JOB_CANCELLED:
        return 0
    ids = list(conn.execute(select(tasks.c.id).where(_never_ran(job_id)).limit(limit)).scalars())
    if ids:
        conn.execute(delete(tasks).where(tasks.c.id.in_(ids)))
        return len(ids)
    ran = list(
        conn.execute(
            select(tasks.c.id)
            .where(tasks.c.job_id == job_id, tasks.c.state == TASK_PENDING)
            .limit(limit)
        ).scalars()
    )
    if ran:
        conn.execute(
            update(tasks)
            .where(tasks.c.id.in_(ran))
            .values(state=TASK_CANCELLED, updated_at=time.time())
        )
    return len(ran)


async def compact_cancelled_job(ctx: ServerContext, job_id: str) -> int:
    """Deletes a cancelled job's never-run tasks, one short transaction per batch."""
    deleted = 0
    while (count := await ctx.db.run(compact_batch, job_id)) > 0:
        deleted += count
    if deleted:
        log.info("job compacted job=%s tasks_deleted=%d", job_id, deleted)
    return deleted


def _jobs_to_compact(conn: Connection, limit: int) -> list[str]:
    left = exists().where(
        tasks.c.job_id == jobs.c.id,
        or_(
            tasks.c.state == TASK_PENDING,
            and_(tasks.c.state == TASK_CANCELLED, tasks.c.attempts == 0),
        ),
    )
    query = select(jobs.c.id).where(jobs.c.state == JOB_CANCELLED, left).limit(limit)
    return list(conn.execute(query).scalars())


def _stale_submissions(conn: Connection, now: float) -> list[tuple[str, str]]:
    rows = conn.execute(
        select(jobs.c.id, jobs.c.owner_id).where(
            jobs.c.state == JOB_SUBMITTING, jobs.c.updated_at < now - STALE_SUBMISSION_S
        )
    )
    return [(row.id, row.owner_id) for row in rows]


async def tidy_jobs(ctx: ServerContext) -> tuple[int, int]:
    """Housekeeping: cancels (and refunds) submissions a crash cut short, and compacts
    cancelled jobs a crash left uncompacted. Returns (submissions cancelled, tasks deleted)."""
    stale = await ctx.db.run(_stale_submissions, time.time())
    for job_id, owner_id in stale:
        await ctx.db.run(_cancel, Caller(owner_id), job_id, time.time())
        log.warning("submission cut short; job cancelled and refunded job=%s", job_id)
        ctx.events.notify(job_id, "job cancelled: its submission was cut short")
    deleted = 0
    while job_ids := await ctx.db.run(_jobs_to_compact, 100):
        for job_id in job_ids:
            deleted += await compact_cancelled_job(ctx, job_id)
    return len(stale), deleted
