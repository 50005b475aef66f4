"""Spot checks and re-runs of unreplicated work, and what happens to a caught node's work.

An unreplicated task (replicas = 1) is taken on its first result, unless it is spot-checked
(`SpotChecks`): then an independent node (another owner, another network: independence.py;
an established one once the network has any) runs it again and the two must agree (see
replicas.py and quorum.py). A node is always checked until it is established and has
earned trust; then with probability 1/consecutive_valid, never below
`spot_check_min_probability`. A node's own jobs are not checked on its own machines, and
there must be an independent node online to check.

Checks are paid from the job's escrow, which covers only `replicas` results per task at the
worst case; a check (or a re-run) is therefore made only while the escrow holds, beyond what
the rest of the job may still cost at its worst, one more result at its worst. A job funds
checks with the slack between its budget and what its tasks really take (or with a budget
above the worst case).

When a node fails a spot check or is banned, its recent unverified results in jobs that are
still running are discarded and their tasks run again (on nodes of other owners), when the
job can fund it; results still waiting for a quorum are discarded at once. What a discarded
result was paid is taken back from its node's owner into the job's escrow
(server/ledger/clawbacks.py), so the escrow that decides whether a re-run is funded counts
what the clawback brings in. `settle_and_distrust` is where a batch's results meet all this:
it settles their tasks, then discards the work of the nodes a spot check caught.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace

from sqlalchemy import ColumnElement, Connection, Row, bindparam, exists, func, or_, select, update

from server.config import ServerSettings
from server.jobs.effects import Effects
from server.jobs.lifecycle import JobDeltas
from server.jobs.models import (
    JOB_ACTIVE_STATES,
    ROUND_RUNNING,
    TASK_CANCELLED,
    TASK_DONE,
    TASK_FAILED,
    TASK_PENDING,
    aggregate_replicas,
)
from server.ledger.clawbacks import ClawbackPlan, take_back
from server.ledger.payouts import EscrowTracker
from server.ledger.rewards import worst_case_cost_ucpt
from server.nodes import trust
from server.store.schema import job_rounds, jobs, result_checks, task_replicas, tasks
from server.validation.independence import checker_online
from server.validation.quorum import Settlement, apply_settlement, settle
from server.validation.replicas import DISCARDED, PENDING, UNVERIFIED, open_spot_check

ENDED_TASK_STATES = (TASK_DONE, TASK_FAILED, TASK_CANCELLED)
MANY_RESULTS = 1 << 30  # what a job whose results cost nothing can fund


def funding_view(conn: Connection, job_id: str) -> Row:
    """What deciding whether a job can fund one more result needs."""
    return conn.execute(
        select(
            jobs.c.id,
            jobs.c.state,
            jobs.c.owner_id,
            jobs.c.replicas,
            jobs.c.cores,
            jobs.c.gpus,
            jobs.c.timeout_s,
            jobs.c.priority_permille,
            jobs.c.escrow_account_id,
            jobs.c.tasks_total,
            jobs.c.tasks_done,
            jobs.c.tasks_failed,
            jobs.c.tasks_cancelled,
            jobs.c.rounds,
            jobs.c.current_round,
            jobs.c.aggregate_json,
        ).where(jobs.c.id == job_id)
    ).one()


def results_beyond_worst_case(
    conn: Connection,
    job: Row,
    escrow: EscrowTracker,
    settings: ServerSettings,
    pending_deltas: JobDeltas | None = None,
    incoming_ucpt: int = 0,
) -> int:
    """How many more results at their worst the job's escrow, with `incoming_ucpt` more (a
    clawback not yet counted), covers on top of the worst case of everything the job may
    still pay: its unfinished tasks' results and the checks already open."""
    per_result = worst_case_cost_ucpt(
        tasks=1,
        replicas=1,
        cores=job.cores,
        timeout_s=job.timeout_s,
        base_ucpt_per_core_hour=settings.base_ucpt_per_core_hour,
        gpus=job.gpus,
        base_ucpt_per_gpu_hour=settings.base_ucpt_per_gpu_hour,
        priority_permille=job.priority_permille,
    )
    delta = (pending_deltas or {}).get(job.id)
    ended = job.tasks_done + job.tasks_failed + job.tasks_cancelled
    if delta is not None:
        ended += delta.done + delta.failed + delta.cancelled
    unfinished = max(0, job.tasks_total - ended)
    checks_open = conn.execute(
        select(func.count())
        .select_from(task_replicas.join(tasks, tasks.c.id == task_replicas.c.task_id))
        .where(
            task_replicas.c.job_id == job.id,
            task_replicas.c.spot_check.is_(True),
            tasks.c.state.not_in(ENDED_TASK_STATES),
        )
    ).scalar()
    results = unfinished * job.replicas + int(checks_open or 0)
    if job.aggregate_json:
        # Each aggregate not yet accepted takes more results than a task (rounds.py).
        aggregates = job.rounds - job.current_round
        results += aggregates * (aggregate_replicas(job.replicas) - job.replicas)
    spare = escrow.left(job.escrow_account_id) + incoming_ucpt - per_result * results
    return spare // per_result if per_result > 0 else MANY_RESULTS


def can_fund_one_more(
    conn: Connection,
    job: Row,
    escrow: EscrowTracker,
    settings: ServerSettings,
    pending_deltas: JobDeltas | None = None,
    incoming_ucpt: int = 0,
) -> bool:
    """Whether the job's escrow, with `incoming_ucpt` more (a clawback not yet counted),
    covers one more result at its worst, on top of the worst case of everything the job may
    still pay."""
    spare = results_beyond_worst_case(conn, job, escrow, settings, pending_deltas, incoming_ucpt)
    return spare >= 1


class SpotChecks:
    """Decides, per completed unreplicated attempt of one node, whether to check it."""

    def __init__(
        self,
        conn: Connection,
        node_id: str,
        node_owner_id: str,
        network: str,
        escrow: EscrowTracker,
        settings: ServerSettings,
        rng: random.Random | None,
        now: float,
        standing: trust.NodeStanding | None = None,
    ) -> None:
        self.conn = conn
        self.node_owner_id = node_owner_id
        self.network = network
        self.escrow = escrow
        self.settings = settings
        self.now = now
        # Unpredictable to nodes: a cheater must not know which results will be checked.
        self.rng = rng or random.SystemRandom()
        standing = standing or trust.load_standing(conn, [node_id]).get(node_id)
        record = standing.record if standing else trust.TrustRecord(node_id)
        created_at = standing.created_at if standing else now
        established = trust.is_established(record, created_at, settings, now)
        # Trust counts only once the node is established (its age and history cap it).
        self.consecutive_valid = record.consecutive_valid if established else 0
        self._required: bool | None = None
        self._opened: list[Row] = []
        self._checker: bool | None = None

    @property
    def required(self) -> bool:
        """Whether the network has an established node (then a check needs one)."""
        if self._required is None:
            self._required = trust.any_established(self.conn, self.settings, self.now)
        return self._required

    def _checker_online(self, job_owner_id: str = "") -> bool:
        """An independent node (established, once the network has any) is online to check;
        with `job_owner_id` (a job with a compare command) another one to compare."""
        owners = [self.node_owner_id, job_owner_id] if job_owner_id else [self.node_owner_id]
        networks = [self.network]
        checker = checker_online(
            self.conn, owners, networks, self.settings, self.now, 1, self.required
        )
        if not checker or not job_owner_id:
            return checker
        return checker_online(self.conn, owners, networks, self.settings, self.now, 2)

    def wanted(self, attempt: Row, deltas: JobDeltas) -> bool:
        """Whether this unreplicated result is checked (see the module docstring)."""
        if attempt.replicas > 1 or attempt.owner_id == self.node_owner_id:
            return False  # replicated anyway, or the submitter's own machine
        chance = trust.spot_check_probability(
            self.consecutive_valid,
            self.settings.trust_threshold,
            self.settings.spot_check_min_probability,
        )
        if chance < 1.0 and self.rng.random() >= chance:
            return False
        if attempt.compare_json:
            if not self._checker_online(attempt.owner_id):
                return False
        else:
            if self._checker is None:
                self._checker = self._checker_online()
            if not self._checker:
                return False
        # Checks opened earlier in this batch already hold a share of the escrow.
        held = JobDeltas()
        for job_id, delta in deltas.items():
            held[job_id] = replace(delta)
        held[attempt.job_id].done -= sum(1 for a in self._opened if a.job_id == attempt.job_id)
        self.escrow.lock()  # the job's counters below are read under its row lock
        job = funding_view(self.conn, attempt.job_id)
        return can_fund_one_more(self.conn, job, self.escrow, self.settings, held)

    def open(self, attempt: Row) -> None:
        self._opened.append(attempt)

    def write(self, conn: Connection, now: float) -> None:
        for attempt in self._opened:
            open_spot_check(
                conn,
                attempt.task_id,
                attempt.job_id,
                attempt.id,
                self.settings,
                now,
                needs_established=self.required,
            )


@dataclass
class Reruns:
    """What discarding a caught node's work came to; its job changes went into the Effects."""

    settlement: Settlement | None = None  # of the tasks whose waiting results were discarded
    rerun: int = 0
    kept: int = 0  # unverified results left in place: their job ended or cannot fund it
    clawed_back_ucpt: int = 0  # taken back from the nodes' owners for discarded results
    shortfall_ucpt: int = 0  # what their balances could not cover


def distrust_node_results(
    conn: Connection,
    node_ids: Iterable[str],
    why: str,
    escrow: EscrowTracker,
    settings: ServerSettings,
    now: float,
    effects: Effects | None = None,
) -> Reruns:
    """Discards what these nodes delivered that nobody verified (see the module docstring).
    The caller pays `settlement` (apply_settlement) and applies `effects`, whose counters
    not yet written also count in deciding which jobs can fund a re-run."""
    effects = Effects() if effects is None else effects
    ids = sorted(set(node_ids))
    outcome = Reruns()
    if not ids:
        return outcome
    clawback_plan = ClawbackPlan(conn, escrow)
    # Results still waiting for a quorum: discarded; their tasks may need another replica.
    waiting = conn.execute(
        select(result_checks.c.attempt_id, result_checks.c.task_id).where(
            result_checks.c.node_id.in_(ids), result_checks.c.status == PENDING
        )
    ).all()
    if waiting:
        for row in waiting:  # paid only on agreement, so usually there is nothing to take back
            clawback_plan.take(row.attempt_id, why)
        _set_status(conn, [row.attempt_id for row in waiting], DISCARDED, now)
        _reopen_for_discarded(conn, [row.task_id for row in waiting], now)
        waiting_tasks = {row.task_id for row in waiting}
        outcome.settlement = settle(conn, waiting_tasks, escrow, settings, now, effects)
    # Results taken without a check: their tasks run again while their jobs can fund it.
    taken = conn.execute(
        select(result_checks.c.attempt_id, result_checks.c.task_id, result_checks.c.job_id)
        .join(tasks, tasks.c.id == result_checks.c.task_id)
        .join(jobs, jobs.c.id == result_checks.c.job_id)
        .where(
            result_checks.c.node_id.in_(ids),
            result_checks.c.status == UNVERIFIED,
            result_checks.c.decided_at >= now - settings.rerun_window_s,
            tasks.c.state == TASK_DONE,
            tasks.c.accepted_attempt_id == result_checks.c.attempt_id,
            jobs.c.state.in_(JOB_ACTIVE_STATES),
            # Of a job with rounds, only results its round's aggregate has not used yet.
            or_(jobs.c.aggregate_json == "", round_still_running(tasks.c.job_id, tasks.c.round)),
        )
        .order_by(result_checks.c.decided_at)
    ).all()
    reopened: list[Row] = []
    for row in taken:
        job = funding_view(conn, row.job_id)
        clawback = clawback_plan.offer(row.attempt_id, why)
        incoming = clawback.taken_ucpt if clawback is not None else 0
        if can_fund_one_more(conn, job, escrow, settings, effects.deltas, incoming):
            if clawback is not None:
                clawback_plan.accept(clawback)
            reopened.append(row)
            effects.deltas[row.job_id].done -= 1
            effects.say(row.job_id, f"a result is run again: {why}")
        else:
            outcome.kept += 1
            conn.execute(
                update(tasks)
                .where(tasks.c.id == row.task_id)
                .values(error=f"unverified result kept: {why}; the job cannot fund a re-run")
            )
    if reopened:
        _set_status(conn, [row.attempt_id for row in reopened], DISCARDED, now)
        conn.execute(
            update(tasks)
            .where(tasks.c.id.in_([row.task_id for row in reopened]))
            .values(
                state=TASK_PENDING,
                result_digest="",
                result_size=0,
                accepted_attempt_id=None,
                node_id=None,
                error=f"running again: {why}",
                updated_at=now,
            )
        )
        outcome.rerun = len(reopened)
    for job_id, returned in take_back(conn, clawback_plan, now).items():
        effects.deltas[job_id].cost_ucpt -= returned
    outcome.clawed_back_ucpt = sum(c.taken_ucpt for c in clawback_plan.accepted)
    outcome.shortfall_ucpt = sum(c.shortfall_ucpt for c in clawback_plan.accepted)
    return outcome


def round_still_running(job_id: ColumnElement, round_index: ColumnElement) -> ColumnElement[bool]:
    """True while that round's tasks run (its aggregate not yet made)."""
    return exists().where(
        job_rounds.c.job_id == job_id,
        job_rounds.c.round == round_index,
        job_rounds.c.state == ROUND_RUNNING,
    )


def _set_status(conn: Connection, attempt_ids: list[str], status: str, now: float) -> None:
    conn.execute(
        update(result_checks)
        .where(result_checks.c.attempt_id == bindparam("b_attempt_id"))
        .values(status=status, decided_at=now),
        [{"b_attempt_id": attempt_id} for attempt_id in sorted(set(attempt_ids))],
    )


def _reopen_for_discarded(conn: Connection, task_ids: list[str], now: float) -> None:
    """A discarded result leaves a gap in its task's replicas: one more slot per result (the
    task's cap of results counts only results still in play)."""
    counts: dict[str, int] = defaultdict(int)
    for task_id in task_ids:
        counts[task_id] += 1
    conn.execute(
        update(task_replicas)
        .where(
            task_replicas.c.task_id == bindparam("b_task_id"),
            task_replicas.c.canonical_digest == "",
        )
        .values(open_slots=task_replicas.c.open_slots + bindparam("b_count"), updated_at=now),
        [{"b_task_id": t, "b_count": c} for t, c in sorted(counts.items())],
    )
    conn.execute(
        update(tasks)
        .where(tasks.c.id.in_(sorted(counts)), tasks.c.state.in_(("leased", "running")))
        .values(state=TASK_PENDING, updated_at=now)
    )


def settle_and_distrust(
    conn: Connection,
    task_ids: set[str],
    escrow: EscrowTracker,
    settings: ServerSettings,
    now: float,
    effects: Effects,
) -> Settlement:
    """Settles these tasks, pays what they accepted, and re-runs the unverified work of nodes
    a spot check caught; returns what became of each result and what it was paid."""
    settled = Settlement()
    if not task_ids:
        return settled
    settlement = settle(conn, task_ids, escrow, settings, now, effects)
    settlements = [settlement]
    if settlement.caught:
        reruns = distrust_node_results(
            conn, settlement.caught, "its node failed a spot check", escrow, settings, now, effects
        )
        if reruns.settlement is not None:
            settlements.append(reruns.settlement)
    for one in settlements:
        apply_settlement(conn, one, now)
        settled.notes.update(one.notes)
        settled.orders += one.orders
    return settled
