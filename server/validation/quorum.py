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

`settle` reads what the decisions need and writes what was decided (statuses, trust, payout
amounts, task states) in bulk; the decisions themselves (`decide`, `judge_late`, `accept`)
touch no database: they gather into `Decisions` and `Settlement`. `apply_settlement` then
pays and grants what a settlement says. Runs inside the caller's transaction, after the
batch's attempt outcomes are written.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Connection, Row, bindparam, func, select, update

from server.config import ServerSettings
from server.jobs.access import grant_reads, release_result_quota
from server.jobs.effects import Effects
from server.jobs.models import (
    ATTEMPT_LIVE_STATES,
    TASK_FAILED,
    TASK_IN_FLIGHT_STATES,
    TASK_PENDING,
    task_label,
)
from server.ledger.payouts import EscrowTracker, PayoutOrder, pay
from server.ledger.rewards import Reward, measured_core_ms, reward_for
from server.nodes import trust
from server.store.schema import attempts, jobs, result_checks, task_replicas, tasks
from server.validation.attempts import record_done_tasks
from server.validation.comparisons import (
    ASKED,
    SAME,
    Group,
    Grouping,
    drop_comparisons,
    group_results,
    load_verdicts,
    request_comparisons,
    verdict_of,
)
from server.validation.replicas import (
    INCONCLUSIVE,
    INVALID,
    PENDING,
    VALID,
    cancel_live_attempts,
    load_replicas,
)


@dataclass
class Settlement:
    """What settling a batch came to, for the caller to pay and grant (`apply_settlement`)
    and to tell the nodes (`notes`); what it did to the jobs went into the transaction's
    Effects."""

    orders: list[PayoutOrder] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # attempt id -> what became of it
    result_grants: list[tuple[str, str]] = field(default_factory=list)  # (digest, job owner)
    accepted_results: list[tuple[str, str]] = field(default_factory=list)  # (digest, node)
    caught: set[str] = field(default_factory=set)  # nodes that failed a spot check


@dataclass
class Decisions:
    """Everything settle decided, written in bulk at the end (`_write`)."""

    statuses: list[dict] = field(default_factory=list)
    valid: list[str] = field(default_factory=list)  # node ids, one per valid result
    invalid: list[str] = field(default_factory=list)
    passed_checks: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    to_pay: list[tuple[Row, Row]] = field(default_factory=list)  # (result, task+job)
    replica_values: dict[str, dict] = field(default_factory=dict)
    done_tasks: list[dict] = field(default_factory=list)
    failed_tasks: list[dict] = field(default_factory=list)
    reopened_tasks: list[str] = field(default_factory=list)
    cancel_tasks: list[str] = field(default_factory=list)
    comparisons: list[tuple[str, str, str, str]] = field(default_factory=list)
    accepted_digests: dict[str, str] = field(default_factory=dict)  # task -> its result

    def compare(self, task: Row, pairs: list[tuple[str, str]]) -> None:
        self.comparisons += [(task.id, task.job_id, a, b) for a, b in pairs]

    def status(self, attempt_id: str, status: str, now: float) -> None:
        self.statuses.append({"b_attempt_id": attempt_id, "b_status": status, "b_now": now})


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
    now: float,
    effects: Effects,
) -> Settlement:
    """Decides every listed task that has pending results (see the module docstring)."""
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
            decide(rep, task, results[task_id], grouping, live_now, decided, outcome, effects, now)
    _write(conn, decided, settings, escrow, outcome, effects, now)
    return outcome


def _write(
    conn: Connection,
    decided: Decisions,
    settings: ServerSettings,
    escrow: EscrowTracker,
    outcome: Settlement,
    effects: Effects,
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
        effects.deltas[task.job_id].cost_ucpt += amount
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


def judge_late(
    rep: Row,
    task: Row,
    results: list[Row],
    verdicts: dict,
    decided: Decisions,
    outcome: Settlement,
    now: float,
) -> None:
    """Judges results that arrive after the task was accepted against its accepted result."""
    paid = rep.paid
    for result in results:
        verdict = None
        if task.compare_json and result.result_digest != rep.canonical_digest:
            verdict = verdict_of(verdicts, rep.canonical_digest, result.result_digest)
            if verdict in (None, ASKED):
                if verdict is None:
                    decided.compare(task, [(rep.canonical_digest, result.result_digest)])
                outcome.notes[result.attempt_id] = (
                    "result recorded; a node of another owner compares it with the accepted one"
                )
                continue
        if result.result_digest == rep.canonical_digest or verdict == SAME:
            decided.status(result.attempt_id, VALID, now)
            decided.valid.append(result.node_id)
            if paid < rep.max_paid:
                paid += 1
                decided.to_pay.append((result, task))
                outcome.notes[result.attempt_id] = "agrees with the accepted result"
            else:
                outcome.notes[result.attempt_id] = (
                    f"agrees with the accepted result; the {rep.max_paid} paid results are in"
                )
        else:
            decided.status(result.attempt_id, INVALID, now)
            decided.invalid.append(result.node_id)
            outcome.notes[result.attempt_id] = "disagrees with the accepted result; not paid"
    decided.replica_values[rep.task_id] = {"paid": paid}


def decide(
    rep: Row,
    task: Row,
    results: list[Row],
    grouping: Grouping,
    live: int,
    decided: Decisions,
    outcome: Settlement,
    effects: Effects,
    now: float,
) -> None:
    """Accepts the task on a quorum; otherwise waits, asks for comparisons, issues more
    replicas, or fails the task when no quorum can be reached within `max_results`."""
    group = grouping.best()
    agreeing = group.owners if group else 0
    if group is not None and agreeing >= rep.quorum:
        accept(rep, task, results, group, grouping.unresolved, decided, outcome, effects, now)
        return
    decided.compare(task, grouping.needed)
    if grouping.unresolved:
        for result in results:
            outcome.notes[result.attempt_id] = (
                "result recorded; results differ, a node of another owner compares them"
            )
        if grouping.needed:
            effects.say(
                task.job_id,
                f"{task_label(task.idx)}: results differ;"
                f" {len(grouping.needed)} comparison(s) asked",
            )
        return
    if agreeing + live + rep.open_slots >= rep.quorum:
        for result in results:
            outcome.notes[result.attempt_id] = "result recorded; waiting for agreeing results"
        return
    need = rep.quorum - agreeing - live - rep.open_slots
    if len(results) + live + rep.open_slots + need <= rep.max_results:
        decided.replica_values[rep.task_id] = {"open_slots": rep.open_slots + need}
        decided.reopened_tasks.append(rep.task_id)
        for result in results:
            outcome.notes[result.attempt_id] = "results disagree; another node checks"
        effects.say(
            task.job_id,
            f"{task_label(task.idx)}: results disagree, {need} more replica(s) issued",
        )
        return
    evidence = ", ".join(
        f"{one.representative[:12] or 'no output'} from {one.owners} owner(s)"
        for one in sorted(grouping.groups, key=lambda one: -one.owners)
    )
    error = (
        f"no quorum: {len(results)} results disagree and no {rep.quorum} of them agree ({evidence})"
    )
    for result in results:
        decided.status(result.attempt_id, INCONCLUSIVE, now)
        outcome.notes[result.attempt_id] = "results disagree; the task failed without a quorum"
    decided.failed_tasks.append({"b_id": task.id, "b_error": error})
    decided.cancel_tasks.append(task.id)
    decided.replica_values[rep.task_id] = {"open_slots": 0}
    effects.deltas[task.job_id].failed += 1
    effects.say(task.job_id, f"{task_label(task.idx)} failed: {error}")


def accept(
    rep: Row,
    task: Row,
    results: list[Row],
    group: Group,
    unresolved: list[Row],
    decided: Decisions,
    outcome: Settlement,
    effects: Effects,
    now: float,
) -> None:
    """The task is done with `group`'s result: its results are valid (and paid up to
    `max_paid`), the others invalid; those `unresolved` wait to be compared with it."""
    digest = group.representative
    agreeing = group.results
    waiting = {result.attempt_id for result in unresolved}
    paid = rep.paid
    for result in results:
        subject = rep.spot_check and result.attempt_id == rep.subject_attempt_id
        if result.attempt_id in waiting:  # judged against the accepted result later
            decided.compare(task, [(digest, result.result_digest)])
            outcome.notes[result.attempt_id] = (
                "result recorded; a node of another owner compares it with the accepted one"
            )
            continue
        if result.result_digest in group.digests:
            decided.status(result.attempt_id, VALID, now)
            decided.valid.append(result.node_id)
            if subject:
                decided.passed_checks.append(result.node_id)
            if paid < rep.max_paid:
                paid += 1
                decided.to_pay.append((result, task))
            outcome.notes[result.attempt_id] = f"accepted: {len(agreeing)} results agree"
        else:
            decided.status(result.attempt_id, INVALID, now)
            decided.invalid.append(result.node_id)
            if subject:
                decided.failed_checks.append(result.node_id)
                outcome.caught.add(result.node_id)
            outcome.notes[result.attempt_id] = "disagrees with the quorum; not paid"
    first = agreeing[0]
    decided.done_tasks.append(
        {
            "b_id": task.id,
            "b_result_digest": digest,
            "b_result_size": int(first.result_size or 0),
            "b_attempt_id": first.attempt_id,
            "b_node_id": first.node_id,
            "b_log": first.log or "",
        }
    )
    decided.replica_values[rep.task_id] = {"paid": paid, "canonical_digest": digest}
    if task.compare_json:
        decided.accepted_digests[task.id] = digest
    if digest:
        outcome.result_grants.append((digest, task.owner_id))
        outcome.accepted_results += [(digest, r.node_id) for r in agreeing]
    effects.deltas[task.job_id].done += 1
    how = "passed its spot check" if rep.spot_check else f"{len(agreeing)} results agree"
    effects.say(task.job_id, f"{task_label(task.idx)} done: {how}")


def apply_settlement(conn: Connection, settlement: Settlement, now: float) -> None:
    """Pays a settlement's orders, lets submitters read accepted results and frees the quota
    of the nodes whose results were accepted."""
    pay(conn, settlement.orders, now)
    grant_reads(conn, settlement.result_grants)
    release_result_quota(conn, settlement.accepted_results)
