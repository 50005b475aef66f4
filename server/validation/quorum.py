"""Deciding replicated results: quorum, disagreement, payment of agreeing results only.

`settle` looks at the pending results of tasks that need more than one result (see
replicas.py). Results agree when their digests are equal, or, for a job with a compare
command, when a comparison said they are equivalent (comparisons.py groups them; a result
waiting for a comparison is not counted yet). A group counts its independent results only:
nodes of different owners on different networks (independence.py). When a group reaches
the quorum the task is done with its first result: the agreeing results are valid and
paid (at most `max_paid` per task), the others are invalid and earn nothing, and trust is
updated both ways. Once the network has an established node, a group is accepted only with
an established node's result in it and more established results than any group it
disagrees with; otherwise more replicas are issued, kept for established nodes, so new
nodes never outvote an established one. A result arriving after that is judged against the
accepted result. When a quorum can no longer be reached with the results and leases out,
more replicas are issued, up to `max_results` results; beyond that (or when no online node
could give what the task waits for: way_out.py) the task is decided with what is there
(`decide_now`): a group no established result contradicts, else the established nodes'
word, else the task fails with the evidence.

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
from server.validation.independence import Independence
from server.validation.replicas import (
    INCONCLUSIVE,
    INVALID,
    PENDING,
    UNVERIFIED,
    VALID,
    cancel_live_attempts,
    load_replicas,
    refute_failures,
)

NO_BONUSES = trust.Bonuses(0, 0)
# How a task was accepted (`accept`).
QUORUM, ESTABLISHED_WORD, UNCHECKED = "quorum", "established word", "unchecked"


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
    # One per valid result: (result, task, whether it earns its node trust once paid for).
    valid: list[tuple[Row, Row, bool]] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)  # node ids, one per invalid result
    passed_checks: set[str] = field(default_factory=set)  # attempt ids of checked subjects
    failed_checks: list[str] = field(default_factory=list)
    to_pay: list[tuple[Row, Row]] = field(default_factory=list)  # (result, task+job)
    replica_values: dict[str, dict] = field(default_factory=dict)
    done_tasks: list[dict] = field(default_factory=list)
    failed_tasks: list[dict] = field(default_factory=list)
    reopened_tasks: list[str] = field(default_factory=list)
    cancel_tasks: list[str] = field(default_factory=list)
    comparisons: list[tuple[str, str, str, str]] = field(default_factory=list)
    accepted_digests: dict[str, str] = field(default_factory=dict)  # task -> its result
    done_by: list[tuple[str, set[str]]] = field(default_factory=list)  # (task, its owners)

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
            result_checks.c.network,
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
                jobs.c.network.label("job_network"),
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


def _accepted_results(conn: Connection, task_ids: list[str]) -> dict[str, list[Row]]:
    """The valid results of tasks already accepted (a late result is judged against them)."""
    found: dict[str, list[Row]] = defaultdict(list)
    if task_ids:
        rows = conn.execute(
            select(
                result_checks.c.task_id,
                result_checks.c.node_id,
                result_checks.c.owner_id,
                result_checks.c.network,
            ).where(result_checks.c.task_id.in_(task_ids), result_checks.c.status == VALID)
        )
        for row in rows:
            found[row.task_id].append(row)
    return found


def settle(
    conn: Connection,
    task_ids: set[str],
    escrow: EscrowTracker,
    settings: ServerSettings,
    now: float,
    effects: Effects,
    decide_now_why: str = "",
) -> Settlement:
    """Decides every listed task that has pending results (see the module docstring). With
    `decide_now_why` (why waiting longer is no use), a task not accepted on its quorum is
    decided with what is there (`decide_now`)."""
    ids = sorted(task_ids)
    outcome = Settlement()
    if not ids:
        return outcome
    replicas = load_replicas(conn, ids)
    results = _pending_results(conn, ids)
    info = _tasks_and_jobs(conn, ids)
    live = _live_counts(conn, ids)
    verdicts = load_verdicts(conn, [t for t, row in info.items() if row.compare_json])
    accepted = _accepted_results(conn, [t for t, rep in replicas.items() if rep.canonical_digest])
    voters = [r.node_id for rows in (*results.values(), *accepted.values()) for r in rows]
    ind = Independence.load(conn, voters, settings, now)
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
            late = Late(results[task_id], accepted.get(task_id, []), found)
            judge_late(rep, task, late, ind, decided, outcome, now)
            continue
        grouping = group_results(results[task_id], found, bool(task.compare_json))
        case = Case(rep, task, results[task_id], grouping, live.get(task_id, 0), ind)
        if decide_now_why and not grouping.unresolved:
            if not accept_on_quorum(case, decided, outcome, effects, now):
                decide_now(case, decide_now_why, decided, outcome, effects, now)
        else:
            decide(case, decided, outcome, effects, now)
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
    # Trust first: a result that just validated counts towards the performance bonus. It
    # earns trust only when someone paid for the work: its measured time is worth something.
    earning = [
        result
        for result, task, independent in decided.valid
        if independent and reward_of(result, task, NO_BONUSES, settings, now).amount_ucpt > 0
    ]
    passed = [r.node_id for r in earning if r.attempt_id in decided.passed_checks]
    trust.record_valid(conn, [r.node_id for r in earning], now, passed)
    trust.record_invalid(conn, decided.invalid, now, decided.failed_checks, settings)
    bonuses = trust.node_bonuses(conn, [r.node_id for r, _ in decided.to_pay], settings, now)
    caps = trust.EarningsCaps(conn, settings, now)
    paid_per_task: dict[str, int] = defaultdict(int)
    for result, task in decided.to_pay:
        reward = reward_of(result, task, bonuses[result.node_id], settings, now)
        allowed = caps.allow(result.node_id, reward.amount_ucpt)
        amount = escrow.draw(task.escrow_account_id, allowed)
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
    caps.write()
    trust.record_accepted(conn, [r.node_id for r, _ in decided.to_pay], settings, now)
    refute_failures(conn, decided.done_by, settings, now)
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


@dataclass(frozen=True)
class Case:
    """One task to decide: its replica row, task and job, pending results and their groups,
    replicas still running, and the independence rules of this settlement."""

    rep: Row
    task: Row
    results: list[Row]
    grouping: Grouping
    live: int
    ind: Independence

    def votes(self, group: Group) -> tuple[int, int]:
        """(established votes, independent votes) of a group."""
        return self.ind.established_votes(group.results), self.ind.independent(group.results)

    def best(self) -> Group | None:
        return max(self.grouping.groups, key=self.votes, default=None)

    def unopposed(self, group: Group) -> bool:
        """No other group has as many established votes (two groups without any tie)."""
        mine = self.votes(group)[0]
        return all(
            self.votes(other)[0] < mine or self.votes(other)[0] == 0
            for other in self.grouping.groups
            if other is not group
        )

    def acceptable(self, group: Group) -> bool:
        """The group has the quorum, and, once the network has established nodes, an
        established result and more established results than any other group."""
        established, independent = self.votes(group)
        if independent < self.rep.quorum:
            return False
        if not self.ind.required:
            return True
        return established >= 1 and all(
            self.votes(other)[0] < established
            for other in self.grouping.groups
            if other is not group
        )

    def evidence(self) -> str:
        return ", ".join(
            f"{one.representative[:12] or 'no output'} from {self.votes(one)[1]} independent "
            f"node(s)"
            for one in sorted(self.grouping.groups, key=lambda one: -self.votes(one)[1])
        )


@dataclass(frozen=True)
class Late:
    """Results arriving after their task was accepted, the accepted (valid) results, and the
    verdicts of comparisons with them."""

    results: list[Row]
    accepted: list[Row]
    verdicts: dict


def judge_late(
    rep: Row,
    task: Row,
    late: Late,
    ind: Independence,
    decided: Decisions,
    outcome: Settlement,
    now: float,
) -> None:
    """Judges results that arrive after the task was accepted against its accepted result.
    A late result that disagrees is invalid, unless it is an established node's and the
    accepted result had no established node's agreement (it is then not used, not held
    against its node)."""
    paid = rep.paid
    accepted_established = ind.established_votes(late.accepted)
    for result in late.results:
        verdict = None
        if task.compare_json and result.result_digest != rep.canonical_digest:
            verdict = verdict_of(late.verdicts, rep.canonical_digest, result.result_digest)
            if verdict in (None, ASKED):
                if verdict is None:
                    decided.compare(task, [(rep.canonical_digest, result.result_digest)])
                outcome.notes[result.attempt_id] = (
                    "result recorded; a node of another owner compares it with the accepted one"
                )
                continue
        if result.result_digest == rep.canonical_digest or verdict == SAME:
            decided.status(result.attempt_id, VALID, now)
            earns = _earns_trust(result, task, late.accepted, ind)
            decided.valid.append((result, task, earns))
            if paid < rep.max_paid:
                paid += 1
                decided.to_pay.append((result, task))
                outcome.notes[result.attempt_id] = "agrees with the accepted result"
            else:
                outcome.notes[result.attempt_id] = (
                    f"agrees with the accepted result; the {rep.max_paid} paid results are in"
                )
        elif result.node_id in ind.established and accepted_established == 0:
            decided.status(result.attempt_id, INCONCLUSIVE, now)
            outcome.notes[result.attempt_id] = (
                "disagrees with the accepted result, which no established node confirmed; "
                "not paid, not held against this node"
            )
        else:
            decided.status(result.attempt_id, INVALID, now)
            decided.invalid.append(result.node_id)
            outcome.notes[result.attempt_id] = "disagrees with the accepted result; not paid"
    decided.replica_values[rep.task_id] = {"paid": paid}


def _earns_trust(result: Row, task: Row, group: list[Row], ind: Independence) -> bool:
    """Someone else's work (not the submitter's node nor on its network), confirmed by an
    independent node that is established (or any, on a network without established nodes).
    That it was paid for is checked when it is paid (_write)."""
    if ind.shares_origin(result, task.owner_id, task.job_network or ""):
        return False
    return ind.corroborated(result, [other for other in group if other is not result])


def accept_on_quorum(
    case: Case, decided: Decisions, outcome: Settlement, effects: Effects, now: float
) -> bool:
    """Accepts the task when a group may be accepted (`Case.acceptable`)."""
    group = case.best()
    if group is None or not case.acceptable(group):
        return False
    accept(case, group, decided, outcome, effects, now)
    return True


def decide(
    case: Case, decided: Decisions, outcome: Settlement, effects: Effects, now: float
) -> None:
    """Accepts the task on a quorum; otherwise waits, asks for comparisons, issues more
    replicas (kept for established nodes when only they can settle it), or decides with
    what is there once no more results fit in `max_results`."""
    rep, task, results, grouping = case.rep, case.task, case.results, case.grouping
    if accept_on_quorum(case, decided, outcome, effects, now):
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
    group = case.best()
    agreeing = case.votes(group)[1] if group is not None else 0
    outstanding = case.live + rep.open_slots
    has_established = any(result.node_id in case.ind.established for result in results)
    contested = case.ind.required and (
        agreeing >= rep.quorum or (has_established and len(grouping.groups) > 1)
    )
    if contested:
        # New nodes agree without an established one, or disagree with one: only more
        # results from established nodes settle it, never the newcomers' word.
        values: dict[str, object] = {"needs_established": True}
        if outstanding == 0:
            if len(results) + 1 > rep.max_results:
                decide_now(
                    case, f"no {rep.max_results} results settled it", decided, outcome, effects, now
                )
                return
            values["open_slots"] = rep.open_slots + 1
            decided.reopened_tasks.append(rep.task_id)
            effects.say(
                task.job_id,
                f"{task_label(task.idx)}: an established node is asked to settle it",
            )
        decided.replica_values[rep.task_id] = values
        for result in results:
            outcome.notes[result.attempt_id] = (
                "result recorded; waiting for an established node to confirm it"
            )
        return
    if agreeing + outstanding >= rep.quorum:
        for result in results:
            outcome.notes[result.attempt_id] = "result recorded; waiting for agreeing results"
        return
    need = rep.quorum - agreeing - outstanding
    if len(results) + outstanding + need <= rep.max_results:
        decided.replica_values[rep.task_id] = {"open_slots": rep.open_slots + need}
        decided.reopened_tasks.append(rep.task_id)
        for result in results:
            outcome.notes[result.attempt_id] = "results disagree; another node checks"
        effects.say(
            task.job_id,
            f"{task_label(task.idx)}: results disagree, {need} more replica(s) issued",
        )
        return
    decide_now(case, "", decided, outcome, effects, now)


def decide_now(
    case: Case,
    why: str,
    decided: Decisions,
    outcome: Settlement,
    effects: Effects,
    now: float,
) -> None:
    """Decides the task with the results there are (no more will come, or none may): a group
    with the quorum that no group's established results contradict is accepted; else a
    group with the most established results (more than any other) is, on the established
    nodes' word, the others neither paid nor held against their nodes; else the task fails
    with the evidence."""
    rep, task, results = case.rep, case.task, case.results
    ranked = sorted(case.grouping.groups, key=case.votes, reverse=True)
    if rep.spot_check and {r.attempt_id for r in results} == {rep.subject_attempt_id}:
        # Nobody could check it: taken unverified, as when no checker was online at all.
        accept(case, ranked[0], decided, outcome, effects, now, UNCHECKED)
        return
    for group in ranked:
        if case.votes(group)[1] >= rep.quorum and case.unopposed(group):
            accept(case, group, decided, outcome, effects, now)
            return
    if ranked and case.votes(ranked[0])[0] >= 1 and case.unopposed(ranked[0]):
        accept(case, ranked[0], decided, outcome, effects, now, ESTABLISHED_WORD)
        return
    error = (
        f"no quorum: {len(results)} results disagree and no {rep.quorum} of them agree "
        f"({case.evidence()})"
        if len(results) > 1
        else f"no quorum: 1 result ({case.evidence()})"
    )
    if why:
        error = f"{error}; {why}"
    for result in results:
        decided.status(result.attempt_id, INCONCLUSIVE, now)
        outcome.notes[result.attempt_id] = "results disagree; the task failed without a quorum"
    decided.failed_tasks.append({"b_id": task.id, "b_error": error})
    decided.cancel_tasks.append(task.id)
    decided.replica_values[rep.task_id] = {"open_slots": 0}
    effects.deltas[task.job_id].failed += 1
    effects.say(task.job_id, f"{task_label(task.idx)} failed: {error}")


def accept(
    case: Case,
    group: Group,
    decided: Decisions,
    outcome: Settlement,
    effects: Effects,
    now: float,
    how: str = QUORUM,
) -> None:
    """The task is done with `group`'s result: its results are valid (and paid up to
    `max_paid`), the others invalid; taken on the ESTABLISHED_WORD (without a quorum), the
    others are not used; UNCHECKED (a spot check nobody could run), the subject's result is
    taken unverified. Those `unresolved` wait to be compared with it."""
    rep, task, results = case.rep, case.task, case.results
    digest = group.representative
    agreeing = group.results
    waiting = {result.attempt_id for result in case.grouping.unresolved}
    paid = rep.paid
    for result in results:
        subject = rep.spot_check and result.attempt_id == rep.subject_attempt_id
        if result.attempt_id in waiting:  # judged against the accepted result later
            decided.compare(task, [(digest, result.result_digest)])
            outcome.notes[result.attempt_id] = (
                "result recorded; a node of another owner compares it with the accepted one"
            )
            continue
        if result.result_digest in group.digests and how == UNCHECKED:
            decided.status(result.attempt_id, UNVERIFIED, now)
            if paid < rep.max_paid:
                paid += 1
                decided.to_pay.append((result, task))
            outcome.notes[result.attempt_id] = "no independent node could check it; taken"
        elif result.result_digest in group.digests:
            decided.status(result.attempt_id, VALID, now)
            decided.valid.append((result, task, _earns_trust(result, task, agreeing, case.ind)))
            if subject:
                decided.passed_checks.add(result.attempt_id)
            if paid < rep.max_paid:
                paid += 1
                decided.to_pay.append((result, task))
            outcome.notes[result.attempt_id] = f"accepted: {len(agreeing)} results agree"
        elif how == ESTABLISHED_WORD:
            decided.status(result.attempt_id, INCONCLUSIVE, now)
            outcome.notes[result.attempt_id] = (
                "disagrees with the established nodes' result; not paid"
            )
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
    decided.done_by.append((task.id, {result.owner_id for result in agreeing}))
    decided.replica_values[rep.task_id] = {
        "paid": paid,
        "canonical_digest": digest,
        "needs_established": False,
    }
    if task.compare_json:
        decided.accepted_digests[task.id] = digest
    if digest:
        outcome.result_grants.append((digest, task.owner_id))
        outcome.accepted_results += [(digest, r.node_id) for r in agreeing]
    effects.deltas[task.job_id].done += 1
    if how == ESTABLISHED_WORD:
        said = "taken on the word of established nodes (no quorum)"
    elif how == UNCHECKED:
        said = "no independent node was online to check it; taken unverified"
    elif rep.spot_check:
        said = "passed its spot check"
    else:
        said = f"{len(agreeing)} results agree"
    effects.say(task.job_id, f"{task_label(task.idx)} done: {said}")


def apply_settlement(conn: Connection, settlement: Settlement, now: float) -> None:
    """Pays a settlement's orders, lets submitters read accepted results and frees the quota
    of the nodes whose results were accepted."""
    pay(conn, settlement.orders, now)
    grant_reads(conn, settlement.result_grants)
    release_result_quota(conn, settlement.accepted_results)
