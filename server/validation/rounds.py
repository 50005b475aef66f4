"""Moving the rounds of a job with an aggregate command along (server/jobs/rounds.py says
what a round is).

After every transaction that decides tasks (results accepted or failed, leases expired, a
node banned), `advance_rounds` looks at the open round of each job with rounds it touched;
the sweeper calls `close_rounds_past_deadline` for rounds whose deadline passed:
- a round whose tasks run closes once `min_results` of them are accepted: at once without a
  round deadline; with one, once every task is decided or the deadline has passed. Its tasks
  not accepted by then (stragglers) are cancelled and paid nothing (their nodes are told to
  stop, their results are no longer taken), and its aggregate task is made: leased like any
  task, to nodes of at least two owners (replicas.take_slots), and decided by quorum
  (quorum.py) with the job's compare command if it has one. A round that can no longer get
  `min_results` (too many of its tasks failed for good) fails, and with it the job;
- a round whose aggregate was accepted is done: the aggregate's output is the next round's
  model and the next round's tasks are made; after the last round, the job is done. A round
  whose aggregate failed (no quorum within its extra replicas, or max attempts) fails, and
  with it the job.
The tasks of rounds that will never run are counted as cancelled, so a job with rounds ends,
and its escrow is refunded, through Effects.apply like any job; call `advance_rounds` before
it. Each step moves the round's row from the state it read (running -> aggregating -> done,
or -> failed) only if it is still in it, so a round never closes or ends twice.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, Row, and_, func, select, update

from server.jobs.effects import Effects
from server.jobs.models import (
    AGGREGATE_INDEX,
    JOB_ACTIVE_STATES,
    ROUND_AGGREGATING,
    ROUND_DONE,
    ROUND_FAILED,
    ROUND_OPEN_STATES,
    ROUND_RUNNING,
    TASK_CANCELLED,
    TASK_DONE,
    TASK_FAILED,
    TASK_IN_FLIGHT_STATES,
    TASK_PENDING,
)
from server.jobs.rounds import (
    create_aggregate_task,
    create_round_tasks,
    start_round,
    tasks_never_made,
)
from server.store.schema import job_rounds, jobs, tasks
from server.validation.replicas import abandon_tasks

UNDECIDED_STATES = (TASK_PENDING, *TASK_IN_FLIGHT_STATES)
STRAGGLER_REASON = "its round closed with enough results without it"


def advance_rounds(
    conn: Connection, effects: Effects, now: float, without_rounds: Iterable[str] = ()
) -> None:
    """Moves the open round of every job with rounds this transaction touched (see the
    module docstring). Jobs the caller knows have no rounds (`without_rounds`) are not looked
    up: when that is all of them, there is no query."""
    job_ids = set(effects.deltas) | effects.touched | set(effects.messages)
    job_ids.difference_update(without_rounds)
    if job_ids:
        for job in _open_rounds(conn, job_ids=job_ids):
            _advance(conn, job, effects, now)


def close_rounds_past_deadline(conn: Connection, now: float, effects: Effects) -> int:
    """Closes the rounds whose deadline passed with `min_results` accepted; how many
    rounds it looked at."""
    rows = _open_rounds(conn, deadline_before=now)
    for job in rows:
        _advance(conn, job, effects, now)
    return len(rows)


def _open_rounds(
    conn: Connection, job_ids: set[str] | None = None, deadline_before: float | None = None
) -> list[Row]:
    query = (
        select(
            jobs.c.id,
            jobs.c.rounds,
            jobs.c.round_tasks,
            jobs.c.min_results,
            jobs.c.round_deadline_s,
            jobs.c.current_round,
            job_rounds.c.state.label("round_state"),
            job_rounds.c.started_at,
        )
        .join(
            job_rounds,
            and_(job_rounds.c.job_id == jobs.c.id, job_rounds.c.round == jobs.c.current_round),
        )
        .where(
            jobs.c.state.in_(JOB_ACTIVE_STATES),
            jobs.c.aggregate_json != "",
            job_rounds.c.state.in_(ROUND_OPEN_STATES),
        )
    )
    if job_ids is not None:
        query = query.where(jobs.c.id.in_(sorted(job_ids)))
    if deadline_before is not None:
        query = query.where(
            job_rounds.c.state == ROUND_RUNNING,
            jobs.c.round_deadline_s > 0,
            job_rounds.c.started_at + jobs.c.round_deadline_s <= deadline_before,
        )
    return conn.execute(query.order_by(jobs.c.id)).all()


def _advance(conn: Connection, job: Row, effects: Effects, now: float) -> None:
    if job.round_state == ROUND_RUNNING:
        _settle_round_tasks(conn, job, effects, now)
    elif job.round_state == ROUND_AGGREGATING:
        _settle_aggregate(conn, job, effects, now)


def _name(job: Row) -> str:
    """A round as people count: "round 2 of 5"."""
    return f"round {job.current_round + 1} of {job.rounds}"


def _settle_round_tasks(conn: Connection, job: Row, effects: Effects, now: float) -> None:
    counts = dict(
        conn.execute(
            select(tasks.c.state, func.count())
            .where(
                tasks.c.job_id == job.id,
                tasks.c.round == job.current_round,
                tasks.c.idx != AGGREGATE_INDEX,
            )
            .group_by(tasks.c.state)
        ).all()
    )
    done, failed = int(counts.get(TASK_DONE, 0)), int(counts.get(TASK_FAILED, 0))
    undecided = job.round_tasks - done - failed - int(counts.get(TASK_CANCELLED, 0))
    need = job.min_results
    if done + undecided < need:
        reason = (
            f"{failed} of its {job.round_tasks} tasks failed, so the {need} accepted results"
            " it needs cannot be reached"
        )
        _fail_round(conn, job, reason, False, effects, now)
        return
    if done < need:
        return
    waiting = job.round_deadline_s and now < job.started_at + job.round_deadline_s
    if undecided and waiting:
        return  # the others may still finish before the deadline
    _close_round(conn, job, done, effects, now)


def _close_round(conn: Connection, job: Row, accepted: int, effects: Effects, now: float) -> None:
    moved = conn.execute(
        update(job_rounds)
        .where(
            job_rounds.c.job_id == job.id,
            job_rounds.c.round == job.current_round,
            job_rounds.c.state == ROUND_RUNNING,
        )
        .values(state=ROUND_AGGREGATING, closed_at=now, tasks_accepted=accepted)
    ).rowcount
    if moved != 1:
        return
    stragglers = _undecided(conn, job.id, job.current_round)
    _cancel_tasks(conn, stragglers, STRAGGLER_REASON, now)
    effects.deltas[job.id].cancelled += len(stragglers)
    create_aggregate_task(conn, job.id, job.current_round, now)
    cancelled = f", {len(stragglers)} unfinished cancelled" if stragglers else ""
    effects.say(
        job.id,
        f"{_name(job)}: {accepted} of {job.round_tasks} results accepted{cancelled};"
        " the aggregate runs next",
    )


def _settle_aggregate(conn: Connection, job: Row, effects: Effects, now: float) -> None:
    aggregate = conn.execute(
        select(tasks.c.state, tasks.c.result_digest, tasks.c.result_size, tasks.c.error).where(
            tasks.c.job_id == job.id,
            tasks.c.round == job.current_round,
            tasks.c.idx == AGGREGATE_INDEX,
        )
    ).first()
    if aggregate is None:
        return
    if aggregate.state == TASK_FAILED:
        reason = f"its aggregate failed: {aggregate.error or 'no reason given'}"
        _fail_round(conn, job, reason, True, effects, now)
    elif aggregate.state == TASK_DONE:
        _finish_round(conn, job, aggregate.result_digest, int(aggregate.result_size), effects, now)


def _finish_round(
    conn: Connection, job: Row, model: str, model_size: int, effects: Effects, now: float
) -> None:
    moved = conn.execute(
        update(job_rounds)
        .where(
            job_rounds.c.job_id == job.id,
            job_rounds.c.round == job.current_round,
            job_rounds.c.state == ROUND_AGGREGATING,
        )
        .values(state=ROUND_DONE, result_digest=model, result_size=model_size, ended_at=now)
    ).rowcount
    if moved != 1:
        return
    following = job.current_round + 1
    if following >= job.rounds:
        effects.say(job.id, f"{_name(job)} done: its aggregate's output is the job's result")
        return
    start_round(conn, job.id, following, model, now)
    made = create_round_tasks(conn, job.id, following, now)
    conn.execute(
        update(jobs).where(jobs.c.id == job.id).values(current_round=following, updated_at=now)
    )
    effects.say(
        job.id,
        f"{_name(job)} done; round {following + 1} of {job.rounds} starts: {made} tasks from"
        f" model {model[:12] or '(empty)'}",
    )


def _fail_round(
    conn: Connection,
    job: Row,
    reason: str,
    aggregate_made: bool,
    effects: Effects,
    now: float,
) -> None:
    moved = conn.execute(
        update(job_rounds)
        .where(
            job_rounds.c.job_id == job.id,
            job_rounds.c.round == job.current_round,
            job_rounds.c.state.in_(ROUND_OPEN_STATES),
        )
        .values(state=ROUND_FAILED, error=reason, ended_at=now)
    ).rowcount
    if moved != 1:
        return
    unfinished = _undecided(conn, job.id, job.current_round)
    _cancel_tasks(conn, unfinished, f"its round failed: {reason}", now)
    never = tasks_never_made(job.rounds, job.round_tasks, job.current_round, aggregate_made)
    effects.deltas[job.id].cancelled += len(unfinished) + never
    effects.say(job.id, f"{_name(job)} failed: {reason}")


def _undecided(conn: Connection, job_id: str, round_index: int) -> list[str]:
    """The tasks of the round (its aggregate included) that are neither accepted nor ended."""
    return list(
        conn.execute(
            select(tasks.c.id).where(
                tasks.c.job_id == job_id,
                tasks.c.round == round_index,
                tasks.c.state.in_(UNDECIDED_STATES),
            )
        ).scalars()
    )


def _cancel_tasks(conn: Connection, task_ids: list[str], reason: str, now: float) -> None:
    """Cancels tasks: their results still waiting are not taken (nor paid), their nodes are
    told to stop, no more replicas or comparisons are handed out."""
    if not task_ids:
        return
    abandon_tasks(conn, task_ids, reason, now)
    conn.execute(
        update(tasks)
        .where(tasks.c.id.in_(sorted(task_ids)))
        .values(state=TASK_CANCELLED, error=reason, updated_at=now)
    )
