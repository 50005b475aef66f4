"""Deciding replicated results: quorum, disagreement, payment of agreeing results only.

`settle` looks at the pending results of tasks that need more than one result (see
replicas.py). Results agree when their digests are equal, or, for a job with a compare
command, when a comparison said they are equivalent (comparisons.py groups them; a result
waiting for a comparison is not counted yet); each owner counts once. When a group reaches
the quorum the task is done with its first result: the agreeing results are valid
and paid (at most `max_paid` per task), the others are invalid and earn nothing, and trust
is updated both ways. A result arriving after that is judged against the accepted digest.
When a quorum can no longer be reached with the results and leases out, more replicas are
issued, up to `max_results` results; beyond that the task fails with the evidence.

This module reads what a decision needs and writes what was decided (statuses, trust,
payouts, task states); the decisions themselves are quorum.py's. Runs inside the caller's
transaction, after the batch's attempt outcomes are written.
"""

from __future__ import annotations

import time
from collections import defaultdict

from sqlalchemy import Connection, Row, bindparam, func, select, update

from server.config import ServerSettings
from server.jobs.models import (
    ATTEMPT_LIVE_STATES,
    TASK_FAILED,
    TASK_IN_FLIGHT_STATES,
    TASK_PENDING,
)
from server.ledger.payouts import EscrowTracker, PayoutOrder
from server.ledger.rewards import Reward, measured_core_ms, reward_for
from server.nodes import trust
from server.store.schema import attempts, jobs, result_checks, task_replicas, tasks
from server.validation.attempts import record_done_tasks
from server.validation.comparisons import (
    drop_comparisons,
    group_results,
    load_verdicts,
    request_comparisons,
)
from server.validation.quorum import Decisions, Settlement, decide, judge_late
from server.validation.replicas import (
    INCONCLUSIVE,
    PENDING,
    cancel_live_attempts,
    load_replicas,
)


def reward_of(
    result: Row, job: Row, bonuses: trust.Bonuses, settings: ServerSettings, now: float
) -> Reward:
    """What one accepted result earns: the time the node measured, never more than the
    job's timeout nor than the server saw pass between lease and report."""
    elapsed = max(0.0, float(result.finished_at or now) - float(result.leased_at))
    wall = min(float(result.wall_seconds or 0.0), elapsed)
    return reward_for(
        base_ucpt_per_core_hour=settings.base_ucpt_per_core_hour,
        core_ms=measured_core_ms(wall, job.timeout_s, job.cores),
        priority_permille=job.priority_permille,
        performance_bonus_permille=bonuses.performance_permille,
        stability_bonus_permille=bonuses.stability_permille,
    )


def _pending_results(conn: Connection, task_ids: list[str]) -> dict[str, list[Row]]:
    rows = conn.execute(
        select(
            result_checks.c.attempt_id,
            result_checks.c.task_id,
            result_checks.c.node_id,
            result_checks.c.owner_id,
            result_checks.c.result_digest,
            attempts.c.wall_seconds,
            attempts.c.leased_at,
            attempts.c.finished_at,
            attempts.c.result_size,
            attempts.c.log,
        )
        .join(attempts, attempts.c.id == result_checks.c.attempt_id)
        .where(result_checks.c.task_id.in_(task_ids), result_checks.c.status == PENDING)
        .order_by(result_checks.c.created_at, result_checks.c.attempt_id)
    ).all()
    found: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        found[row.task_id].append(row)
    return found


def _tasks_and_jobs(conn: Connection, task_ids: list[str]) -> dict[str, Row]:
    return {
        row.id: row
        for row in conn.execute(
            select(
                tasks.c.id,
                tasks.c.idx,
                tasks.c.state,
                tasks.c.job_id,
                jobs.c.owner_id,
                jobs.c.cores,
                jobs.c.timeout_s,
                jobs.c.priority_permille,
                jobs.c.escrow_account_id,
                jobs.c.compare_json,
            )
            .join(jobs, jobs.c.id == tasks.c.job_id)
            .where(tasks.c.id.in_(task_ids))
        )
    }


def _live_counts(conn: Connection, task_ids: list[str]) -> dict[str, int]:
    rows = conn.execute(
        select(attempts.c.task_id, func.count())
        .where(
            attempts.c.task_id.in_(task_ids),
            attempts.c.state.in_(ATTEMPT_LIVE_STATES),
            attempts.c.comparison_id.is_(None),  # replicas still running, not comparisons
        )
        .group_by(attempts.c.task_id)
    ).all()
    return {task_id: int(count) for task_id, count in rows}


def settle(
    conn: Connection,
    task_ids: set[str],
    escrow: EscrowTracker,
    settings: ServerSettings,
    now: float | None = None,
) -> Settlement:
    """Decides every listed task that has pending results (see the module docstring)."""
    now = time.time() if now is None else now
    ids = sorted(task_ids)
    outcome = Settlement()
    if not ids:
        return outcome
    replicas = load_replicas(conn, ids)
    results = _pending_results(conn, ids)
    info = _tasks_and_jobs(conn, ids)
    live = _live_counts(conn, ids)
    verdicts = load_verdicts(conn, [t for t, row in info.items() if row.compare_json])
    decided = Decisions()
    for task_id in ids:
        rep, task = replicas.get(task_id), info.get(task_id)
        if rep is None or task is None or not results.get(task_id):
            continue
        if task.state in (TASK_FAILED, "cancelled"):
            for result in results[task_id]:
                decided.status(result.attempt_id, INCONCLUSIVE, now)
                outcome.notes[result.attempt_id] = f"task is {task.state}; result not used"
            continue
        found = verdicts.get(task_id, {})
        if rep.canonical_digest:
            judge_late(rep, task, results[task_id], found, decided, outcome, now)
        else:
            grouping = group_results(results[task_id], found, bool(task.compare_json))
            live_now = live.get(task_id, 0)
            decide(rep, task, results[task_id], grouping, live_now, decided, outcome, now)
    _write(conn, decided, settings, escrow, outcome, now)
    return outcome


def _write(
    conn: Connection,
    decided: Decisions,
    settings: ServerSettings,
    escrow: EscrowTracker,
    outcome: Settlement,
    now: float,
) -> None:
    if decided.statuses:
        conn.execute(
            update(result_checks)
            .where(result_checks.c.attempt_id == bindparam("b_attempt_id"))
            .values(status=bindparam("b_status"), decided_at=bindparam("b_now")),
            decided.statuses,
        )
    # Trust first: a result that just validated counts towards the performance bonus.
    trust.record_valid(conn, decided.valid, now, decided.passed_checks)
    trust.record_invalid(conn, decided.invalid, now, decided.failed_checks)
    bonuses = trust.node_bonuses(conn, [r.node_id for r, _ in decided.to_pay], settings, now)
    paid_per_task: dict[str, int] = defaultdict(int)
    for result, task in decided.to_pay:
        reward = reward_of(result, task, bonuses[result.node_id], settings, now)
        amount = escrow.draw(task.escrow_account_id, reward.amount_ucpt)
        outcome.orders.append(
            PayoutOrder(
                attempt_id=result.attempt_id,
                job_id=task.job_id,
                node_id=result.node_id,
                user_id=result.owner_id,
                escrow_account_id=task.escrow_account_id,
                reward=reward,
                amount_ucpt=amount,
            )
        )
        paid_per_task[task.id] += amount
        outcome.deltas[task.job_id].cost_ucpt += amount
    for values in decided.done_tasks:
        values["b_cost"] = paid_per_task.pop(values["b_id"], 0)
    record_done_tasks(conn, decided.done_tasks, now)
    if paid_per_task:  # late agreeing results of tasks accepted earlier
        conn.execute(
            update(tasks)
            .where(tasks.c.id == bindparam("b_id"))
            .values(cost_ucpt=tasks.c.cost_ucpt + bindparam("b_cost"), updated_at=now),
            [{"b_id": t, "b_cost": c} for t, c in sorted(paid_per_task.items())],
        )
    if decided.failed_tasks:
        conn.execute(
            update(tasks)
            .where(tasks.c.id == bindparam("b_id"))
            .values(state=TASK_FAILED, error=bindparam("b_error"), updated_at=now),
            decided.failed_tasks,
        )
    if decided.reopened_tasks:
        conn.execute(
            update(tasks)
            .where(tasks.c.id.in_(decided.reopened_tasks), tasks.c.state.in_(TASK_IN_FLIGHT_STATES))
            .values(state=TASK_PENDING, updated_at=now)
        )
    if decided.cancel_tasks:
        cancel_live_attempts(conn, decided.cancel_tasks, "the task ended without a quorum", now)
        drop_comparisons(conn, decided.cancel_tasks, None, now)
    for task_id, digest in sorted(decided.accepted_digests.items()):
        drop_comparisons(conn, [task_id], digest, now)  # only those with the accepted one
    request_comparisons(conn, decided.comparisons, now)
    for task_id, values in sorted(decided.replica_values.items()):
        conn.execute(
            update(task_replicas)
            .where(task_replicas.c.task_id == task_id)
            .values(updated_at=now, **values)
        )
