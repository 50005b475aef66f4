"""A way out of every wait: no task and no check waits for ever.

A lease has its own way out (expiry.py). What remains can wait for a node that will not come:
the only independent node went away before it leased a spot check; every node online has
failed the task (a node never gets again a task it failed); the owners, networks or
established nodes a replica needs are not online; no node online may compare two results.
`decide_stale_waits` (run by the sweeper every so often) takes what has waited longer than
`wait_for_nodes_s`, and, when no online node could give it what it waits for, decides it with
what is there:
- a spot check nobody can run: the subject's result is taken unverified (and paid), as when
  no checker was online to begin with;
- a replicated task: quorum.decide_now (a group no established result contradicts, else the
  established nodes' word, else the task fails with the evidence);
- a comparison nobody may make: it fails (its two results are not known to be the same), and
  its task is decided with what is there; a late result waiting for it is not used;
- a task every online node has failed, with no result to decide on: it fails with its last
  error.
Under load nothing is decided early: a task some online node could take keeps waiting.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Row, exists, select, update

from server.config import ServerSettings
from server.jobs.effects import Effects
from server.jobs.models import (
    ATTEMPT_FAILED,
    ATTEMPT_LIVE_STATES,
    JOB_ACTIVE_STATES,
    TASK_DONE,
    TASK_FAILED,
    TASK_PENDING,
    task_label,
)
from server.ledger.payouts import EscrowTracker
from server.store.schema import (
    attempts,
    jobs,
    nodes,
    result_checks,
    result_comparisons,
    task_replicas,
    tasks,
)
from server.validation.comparisons import FAILED, OPEN
from server.validation.independence import HOLDING_STATES, checker_online, may_take_open_slot
from server.validation.quorum import apply_settlement, settle
from server.validation.replicas import INCONCLUSIVE, PENDING, abandon_tasks
from server.validation.rounds import advance_rounds

MAX_PER_PASS = 100


@dataclass
class WaysOut:
    """What one pass decided, for the logs; what it did to the jobs went into the Effects."""

    tasks_decided: int = 0
    comparisons_failed: int = 0
    tasks_failed: int = 0

    @property
    def any(self) -> bool:
        return bool(self.tasks_decided or self.comparisons_failed or self.tasks_failed)


def _why(settings: ServerSettings) -> str:
    return f"no node that may add to it was online for {settings.wait_for_nodes_s} s"


def _live(conn: Connection, task_id: str) -> bool:
    return (
        conn.execute(
            select(attempts.c.id)
            .where(attempts.c.task_id == task_id, attempts.c.state.in_(ATTEMPT_LIVE_STATES))
            .limit(1)
        ).first()
        is not None
    )


def _has_pending_results(conn: Connection, task_id: str) -> bool:
    return (
        conn.execute(
            select(result_checks.c.attempt_id)
            .where(result_checks.c.task_id == task_id, result_checks.c.status == PENDING)
            .limit(1)
        ).first()
        is not None
    )


def _waiting_replicas(conn: Connection, cutoff: float) -> list[Row]:
    """Tasks with open replica slots (or a spot check) nobody took since `cutoff`."""
    return conn.execute(
        select(task_replicas.c.task_id, task_replicas.c.needs_established)
        .join(tasks, tasks.c.id == task_replicas.c.task_id)
        .join(jobs, jobs.c.id == task_replicas.c.job_id)
        .where(
            task_replicas.c.canonical_digest == "",
            task_replicas.c.open_slots > 0,
            task_replicas.c.updated_at < cutoff,
            tasks.c.state == TASK_PENDING,
            jobs.c.state.in_(JOB_ACTIVE_STATES),
        )
        .order_by(task_replicas.c.updated_at)
        .limit(MAX_PER_PASS)
    ).all()


def _waiting_comparisons(conn: Connection, cutoff: float) -> list[Row]:
    return conn.execute(
        select(
            result_comparisons.c.id,
            result_comparisons.c.task_id,
            result_comparisons.c.digest_b,
            jobs.c.owner_id.label("job_owner_id"),
            tasks.c.state.label("task_state"),
        )
        .join(jobs, jobs.c.id == result_comparisons.c.job_id)
        .join(tasks, tasks.c.id == result_comparisons.c.task_id)
        .where(
            result_comparisons.c.state == OPEN,
            result_comparisons.c.created_at < cutoff,
            jobs.c.state.in_(JOB_ACTIVE_STATES),
        )
        .order_by(result_comparisons.c.created_at)
        .limit(MAX_PER_PASS)
    ).all()


def _failed_and_waiting(conn: Connection, cutoff: float) -> list[Row]:
    """Pending tasks that some node failed and nobody took again since `cutoff`."""
    failed = exists().where(
        attempts.c.task_id == tasks.c.id,
        attempts.c.state == ATTEMPT_FAILED,
        attempts.c.comparison_id.is_(None),
    )
    return conn.execute(
        select(tasks.c.id, tasks.c.job_id, tasks.c.idx, tasks.c.error)
        .join(jobs, jobs.c.id == tasks.c.job_id)
        .where(
            tasks.c.state == TASK_PENDING,
            tasks.c.attempts > 0,
            tasks.c.updated_at < cutoff,
            jobs.c.state.in_(JOB_ACTIVE_STATES),
            failed,
        )
        .order_by(tasks.c.updated_at)
        .limit(MAX_PER_PASS)
    ).all()


def _may_compare(conn: Connection, comparison: Row, settings: ServerSettings, now: float) -> bool:
    """Whether a node that may compare these results is online: of a third owner (not the
    submitter, none whose node ran the task), on none of the networks of the task's nodes."""
    holders = conn.execute(
        select(nodes.c.owner_id, nodes.c.network)
        .join(attempts, attempts.c.node_id == nodes.c.id)
        .where(
            attempts.c.task_id == comparison.task_id,
            attempts.c.state.in_(HOLDING_STATES),
            attempts.c.comparison_id.is_(None),
        )
    ).all()
    owners = {comparison.job_owner_id, *(row.owner_id for row in holders)}
    networks = {row.network for row in holders}
    return checker_online(conn, owners, networks, settings, now)


def decide_stale_waits(
    conn: Connection, now: float, settings: ServerSettings, effects: Effects
) -> WaysOut:
    """One pass over what has waited longer than `wait_for_nodes_s` (see the module
    docstring); at most MAX_PER_PASS of each kind, oldest first."""
    cutoff = now - max(0, settings.wait_for_nodes_s)
    outcome = WaysOut()
    escrow = EscrowTracker(conn, [])
    to_decide: set[str] = set()
    for comparison in _waiting_comparisons(conn, cutoff):
        if _live(conn, comparison.task_id) or _may_compare(conn, comparison, settings, now):
            continue
        conn.execute(
            update(result_comparisons)
            .where(result_comparisons.c.id == comparison.id)
            .values(state=FAILED, decided_at=now)
        )
        outcome.comparisons_failed += 1
        if comparison.task_state == TASK_DONE:
            # A late result that cannot be judged against the accepted one: not used.
            conn.execute(
                update(result_checks)
                .where(
                    result_checks.c.task_id == comparison.task_id,
                    result_checks.c.result_digest == comparison.digest_b,
                    result_checks.c.status == PENDING,
                )
                .values(status=INCONCLUSIVE, decided_at=now)
            )
        elif comparison.task_state not in (TASK_FAILED, "cancelled"):
            to_decide.add(comparison.task_id)
    for waiting in _waiting_replicas(conn, cutoff):
        if waiting.task_id in to_decide or _live(conn, waiting.task_id):
            continue
        if not _has_pending_results(conn, waiting.task_id):
            continue  # nothing to decide on: a task every node failed is handled below
        if may_take_open_slot(conn, waiting.task_id, settings, now, waiting.needs_established):
            continue
        to_decide.add(waiting.task_id)
    if to_decide:
        settlement = settle(conn, to_decide, escrow, settings, now, effects, _why(settings))
        apply_settlement(conn, settlement, now)
        outcome.tasks_decided += len(to_decide)
        for task_id in to_decide:
            conn.execute(
                update(task_replicas)
                .where(task_replicas.c.task_id == task_id)
                .values(updated_at=now)  # a task still undecided waits afresh
            )
    failed: list[Row] = []
    for task in _failed_and_waiting(conn, cutoff):
        if task.id in to_decide or _has_pending_results(conn, task.id):
            continue
        if _live(conn, task.id) or may_take_open_slot(conn, task.id, settings, now):
            continue
        failed.append(task)
    for task in failed:
        error = f"{task.error or 'failed'} (every node online that may run it failed it)"
        conn.execute(
            update(tasks)
            .where(tasks.c.id == task.id, tasks.c.state == TASK_PENDING)
            .values(state=TASK_FAILED, error=error, updated_at=now)
        )
        effects.deltas[task.job_id].failed += 1
        effects.say(task.job_id, f"{task_label(task.idx)} failed: {error}")
    abandon_tasks(conn, [task.id for task in failed], "the task failed", now)
    outcome.tasks_failed = len(failed)
    advance_rounds(conn, effects, now)
    effects.apply(conn, now)
    return outcome
