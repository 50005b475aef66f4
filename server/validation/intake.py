"""Result intake: what a node reports about its attempts, in batches, each batch in one
transaction.

Complete: the task is done with its result and the node's owner is paid from the job's escrow
(`AcceptedResults` gathers and writes a batch's results); unless the task needs more than one
result (a job with replicas, or a spot check: spot_checks.py), then the result waits for the
quorum and only agreeing results are paid (quorum.py). A comparison's verdict goes to
comparisons.py. Fail: the task (or its replica slot) goes back to the queue until the task has
failed max_attempts times, then fails with the last error. Either may end the job, which
refunds what is left of its escrow. Start: the attempt is running and its lease renewed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import Connection, Row, bindparam, insert, select, update

from server import metrics
from server.config import ServerSettings
from server.context import ServerContext
from server.errors import InvalidArgument
from server.jobs.access import grant_reads, release_result_quota
from server.jobs.artifacts import check_digest
from server.jobs.effects import Effects
from server.jobs.models import (
    ATTEMPT_DONE,
    ATTEMPT_FAILED,
    TASK_DONE,
    TASK_FAILED,
    TASK_IN_FLIGHT_STATES,
    TASK_PENDING,
    task_label,
)
from server.ledger.payouts import (
    Draw,
    EscrowTracker,
    PayoutOrder,
    PayoutPrep,
    paid_amounts,
    pay,
)
from server.ledger.payouts import prepare as prepare_payouts
from server.ledger.rewards import measured_core_ms, reward_for
from server.nodes.trust import (
    Bonuses,
    EarningsCaps,
    NodeStanding,
    TrustRecord,
    bonuses_of,
    load_standing,
    record_accepted,
    record_errors,
    record_results,
)
from server.store.bulk import execute_many
from server.store.postgres import locks_rows
from server.store.schema import artifact_owners, artifacts, nodes, result_checks, tasks
from server.validation.attempts import (
    MAX_BATCH,
    Ack,
    Completion,
    Failure,
    capped_log,
    load_attempts,
    one_line,
    outcome_values,
    record_attempt_outcomes,
    record_done_tasks,
    record_failed_tasks,
    refusal,
    start_attempts,
)
from server.validation.comparisons import complete_comparisons, release_comparisons
from server.validation.replicas import (
    GIVE_UP,
    PENDING,
    RETRY,
    UNVERIFIED,
    abandon_tasks,
    gave_up,
    load_replicas,
    plan_lost_attempts,
    refute_failures,
)
from server.validation.rounds import advance_rounds
from server.validation.spot_checks import SpotChecks, settle_and_distrust

# A replicated task takes results while replicas are out, and after it was decided (a late
# replica is judged against the accepted result).
REPLICA_OPEN_STATES = (TASK_PENDING, *TASK_IN_FLIGHT_STATES, TASK_DONE)
SPOT_CHECK_NOTE = "result recorded; a node of another owner checks it before it is paid"


def _check_batch(items: Sequence[object]) -> None:
    if len(items) > MAX_BATCH:
        raise InvalidArgument(f"at most {MAX_BATCH} attempts per call (got {len(items)})")


@locks_rows
def complete_attempts(
    conn: Connection,
    node_id: str,
    node_owner_id: str,
    completions: Sequence[Completion],
    settings: ServerSettings,
    now: float,
    rng: random.Random | None = None,
    network: str = "",
) -> tuple[list[Ack], Effects]:
    """Each completion's ack (in the order sent), and what the batch did to its jobs.
    `network` is where the report came from (server/nodes/networks.py): the results'.

    On PostgreSQL it locks, in this order, the node's row (its trust, quota and earnings
    are read and then written), the attempts with their tasks, then the jobs' rows and
    their escrow accounts, and runs READ COMMITTED (server/store/postgres.py). A job's
    escrow, counters, rounds and replicas are decided under its row lock: one batch of a
    job at a time. A batch that only pays for its results takes the jobs' locks as late as
    it can, after writing its attempts (EscrowTracker's late draws), so the batches of one
    job wait for each other a shorter time."""
    _check_batch(completions)
    effects = Effects()
    standing = _load_node(conn, node_id, network, now)
    network = standing.network
    completions = everything = [canonical(item) for item in completions]
    rows = load_attempts(conn, [item.attempt_id for item in completions], lock=True)
    uploaded = uploaded_results(
        conn, node_id, {item.result_digest for item in completions if item.result_digest}
    )
    # Paying waits for the jobs' and escrows' row locks (other batches of the same jobs),
    # taken as late as it can be: just before the first write that depends on them.
    escrow = EscrowTracker(
        conn,
        {row.escrow_account_id for row in rows.values()},
        late_for_jobs={row.job_id for row in rows.values()},
    )
    replicated = replicated_tasks(conn, rows.values())
    if replicated or any(row.has_rounds or row.comparison_id for row in rows.values()):
        escrow.lock()  # more than paying is decided per job: all of it under the locks
    replays = paid_amounts(
        conn, [i for i, row in rows.items() if row.state == ATTEMPT_DONE and row.node_id == node_id]
    )
    # Comparisons of two results (comparisons.py) are judged apart from results.
    compared = [item for item in completions if _is_comparison(rows, item.attempt_id)]
    compared_acks, to_settle = complete_comparisons(
        conn, node_id, node_owner_id, compared, rows, escrow, settings, now, effects
    )
    completions = [item for item in completions if not _is_comparison(rows, item.attempt_id)]
    bonuses = bonuses_of(standing, settings, now)
    accepted = AcceptedResults(
        settings,
        node_id,
        node_owner_id,
        escrow,
        now,
        bonuses,
        ResultChecks(network),
        EarningsCaps(conn, settings, now, {node_id: standing}),
    )
    checks = SpotChecks(conn, node_id, node_owner_id, network, escrow, settings, rng, now, standing)
    acks: list[Ack] = []
    handled: dict[str, Ack] = {}
    for item in completions:
        if item.attempt_id in handled:  # the same attempt twice in one batch
            acks.append(handled[item.attempt_id])
            continue
        row = rows.get(item.attempt_id)
        if row is not None and row.state == ATTEMPT_DONE and row.node_id == node_id:
            ack = Ack(item.attempt_id, True, "already completed", replays.get(row.id, 0))
        else:
            reason = refusal(row, item.attempt_id, node_id)
            open_states = REPLICA_OPEN_STATES if row and row.task_id in replicated else None
            if reason is None and row.task_state not in (open_states or TASK_IN_FLIGHT_STATES):
                reason = f"task of attempt {item.attempt_id} is {row.task_state}, not running"
            reason = reason or result_refusal(item, uploaded)
            if reason is not None:
                ack = Ack(item.attempt_id, False, reason)
            elif row.task_id in replicated:
                accepted.record(row, item, uploaded.get(item.result_digest, 0), PENDING)
                to_settle.add(row.task_id)
                ack = Ack(item.attempt_id, True)  # completed once the batch is settled
            elif checks.wanted(row, effects.deltas):
                accepted.record(row, item, uploaded.get(item.result_digest, 0), PENDING)
                checks.open(row)
                ack = Ack(item.attempt_id, True, SPOT_CHECK_NOTE)
                effects.say(
                    row.job_id,
                    f"{task_label(row.task_index)} is spot-checked: a node of another owner"
                    " runs it too",
                )
            else:
                ack = accepted.accept(row, item, uploaded.get(item.result_digest, 0))
                effects.deltas[row.job_id].done += 1
                effects.say(row.job_id, f"{task_label(row.task_index)} done on node {node_id}")
        handled[item.attempt_id] = ack
        acks.append(ack)
    accepted.write(conn)
    checks.write(conn, now)
    record_results(conn, node_id, len(accepted.checks.rows), now)
    # From here on other batches of these jobs wait for this one (the escrows' locks).
    accepted.pay(conn)
    paid_now: dict[str, int] = {}
    for order in accepted.orders:
        effects.deltas[order.job_id].cost_ucpt += order.amount_ucpt
        paid_now[order.attempt_id] = order.amount_ucpt
    acks = [
        replace(ack, payout_ucpt=paid_now[ack.attempt_id])
        if ack.accepted and ack.attempt_id in paid_now
        else ack
        for ack in acks
    ]
    settled = settle_and_distrust(conn, to_settle, escrow, settings, now, effects)
    # A settled result's ack says what became of it and what it was paid.
    notes, paid = settled.notes, {order.attempt_id: order.amount_ucpt for order in settled.orders}
    acks = [
        replace(ack, error=notes[ack.attempt_id], payout_ucpt=paid.get(ack.attempt_id, 0))
        if ack.attempt_id in notes
        else ack
        for ack in acks
    ]
    if compared_acks:  # in the order the node sent them
        mine = {ack.attempt_id: ack for ack in acks}
        acks = [compared_acks.get(item.attempt_id) or mine[item.attempt_id] for item in everything]
    advance_rounds(conn, effects, now, {row.job_id for row in rows.values() if not row.has_rounds})
    effects.apply(conn, now)
    return acks, effects


def fail_attempts(
    conn: Connection,
    node_id: str,
    failures: Sequence[Failure],
    settings: ServerSettings,
    now: float,
) -> tuple[list[Ack], Effects]:
    """Each failure's ack (in the order sent), and what the batch did to its jobs."""
    _check_batch(failures)
    rows = load_attempts(conn, [item.attempt_id for item in failures])
    replicated = replicated_tasks(conn, rows.values())
    acks: list[Ack] = []
    effects = Effects()
    lost_comparisons: list[Row] = []
    attempt_values: list[dict] = []
    lost: list[tuple[Row, Failure, str, str]] = []  # (attempt, report, error, log)
    handled: set[str] = set()
    errors: dict[str, str] = {}
    for item in failures:
        row = rows.get(item.attempt_id)
        if item.attempt_id in handled or (
            row is not None and row.state == ATTEMPT_FAILED and row.node_id == node_id
        ):
            acks.append(Ack(item.attempt_id, True, "already failed"))
            continue
        reason = refusal(row, item.attempt_id, node_id)
        open_states = REPLICA_OPEN_STATES if row and row.task_id in replicated else None
        comparing = reason is None and bool(row.comparison_id)
        if (
            not comparing
            and reason is None
            and row.task_state not in (open_states or TASK_IN_FLIGHT_STATES)
        ):
            reason = f"task of attempt {item.attempt_id} is {row.task_state}, not running"
        if reason is not None:
            acks.append(Ack(item.attempt_id, False, reason))
            continue
        handled.add(item.attempt_id)
        error = one_line(item.error) or f"exited with code {item.exit_code}"
        log = capped_log(item.log, settings.max_log_bytes)
        attempt_values.append(
            outcome_values(
                row.id,
                ATTEMPT_FAILED,
                now,
                exit_code=item.exit_code,
                error=error,
                log=log,
                stats=item.stats,
            )
        )
        acks.append(Ack(item.attempt_id, True))
        if comparing:
            lost_comparisons.append(row)
            errors[row.id] = error
        else:
            lost.append((row, item, error, log))
    record_attempt_outcomes(conn, attempt_values)
    record_errors(conn, [node_id] * (len(lost) + len(lost_comparisons)), now, settings)
    release_comparisons(conn, lost_comparisons, errors, now, effects)
    plans = plan_lost_attempts(
        conn, [row for row, _, _, _ in lost], now, settings.distinct_networks
    )
    task_values: list[dict] = []
    given_up: list[str] = []
    for row, _, error, log in lost:
        plan = plans[row.id]
        if plan == GIVE_UP:
            effects.deltas[row.job_id].failed += 1
            error = f"{error} ({gave_up(row.max_attempts)})"
            given_up.append(row.task_id)
        elif plan != RETRY:
            continue  # the task was decided or ended already: nothing to put back
        in_flight = row.task_state in TASK_IN_FLIGHT_STATES
        task_values.append(
            {
                "b_id": row.task_id,
                "b_state": TASK_FAILED
                if plan == GIVE_UP
                else (TASK_PENDING if in_flight else row.task_state),
                "b_error": error,
                "b_log": log,
            }
        )
        what = "failed" if plan == GIVE_UP else "failed, will retry"
        label = task_label(row.task_index)
        effects.say(row.job_id, f"{label} {what} on node {node_id}: {error}")
    record_failed_tasks(conn, task_values, now)
    abandon_tasks(conn, [t for t in given_up if t in replicated], "the task failed", now)
    advance_rounds(conn, effects, now, {row.job_id for row in rows.values() if not row.has_rounds})
    effects.apply(conn, now)
    return acks, effects


def replicated_tasks(conn: Connection, rows: Iterable[Row]) -> set[str]:
    """Tasks among these attempts' that need more than one result."""
    rows = list(rows)
    with_row = set(load_replicas(conn, [row.task_id for row in rows]))
    return {row.task_id for row in rows if row.task_id in with_row or row.replicas > 1}


def uploaded_results(conn: Connection, node_id: str, digests: set[str]) -> dict[str, int]:
    if not digests:
        return {}
    return dict(
        conn.execute(
            select(artifacts.c.digest, artifacts.c.size)
            .join(artifact_owners, artifact_owners.c.digest == artifacts.c.digest)
            .where(
                artifact_owners.c.principal_id == node_id,
                artifacts.c.digest.in_(sorted(digests)),
            )
        ).all()
    )


def canonical(item: Completion) -> Completion:
    digest = item.result_digest.strip().lower()
    return replace(item, result_digest=digest) if digest != item.result_digest else item


def result_refusal(item: Completion, uploaded: dict[str, int]) -> str | None:
    if not item.result_digest:
        return None
    try:
        check_digest(item.result_digest)
    except InvalidArgument as error:
        return str(error)
    if item.result_digest not in uploaded:
        return f"result {item.result_digest} was not uploaded by this node; upload it first"
    size = uploaded[item.result_digest]
    if item.result_size and item.result_size != size:
        return f"result size {item.result_size} does not match the upload ({size} bytes)"
    return None


INSERT_RESULT_CHECK = insert(result_checks)
# A task's cost as written, less what its job's escrow could not pay.
LOWER_TASK_COST = (
    update(tasks)
    .where(tasks.c.id == bindparam("b_id"))
    .values(cost_ucpt=tasks.c.cost_ucpt - bindparam("b_less"))
)


@dataclass
class ResultChecks:
    """Result check rows to insert: one per delivered result, from `network`."""

    network: str = ""
    rows: list[dict] = field(default_factory=list)

    def add(self, attempt: Row, node_id: str, owner_id: str, digest: str, status: str) -> None:
        self.rows.append(
            {
                "attempt_id": attempt.id,
                "task_id": attempt.task_id,
                "job_id": attempt.job_id,
                "node_id": node_id,
                "owner_id": owner_id,
                "result_digest": digest,
                "status": status,
                "network": self.network,
            }
        )

    def write(self, conn: Connection, now: float) -> None:
        decided = {"pending": None}
        execute_many(
            conn,
            INSERT_RESULT_CHECK,
            [
                {**row, "created_at": now, "decided_at": decided.get(row["status"], now)}
                for row in self.rows
            ],
        )


@dataclass
class AcceptedResults:
    """What accepting a batch of completions writes, gathered to write it in bulk."""

    settings: ServerSettings
    node_id: str
    node_owner_id: str
    escrow: EscrowTracker
    now: float
    bonuses: Bonuses
    checks: ResultChecks
    caps: EarningsCaps
    attempt_values: list[dict] = field(default_factory=list)
    task_values: list[dict] = field(default_factory=list)
    orders: list[PayoutOrder] = field(default_factory=list)
    draws: list[Draw] = field(default_factory=list)  # one per order
    _prep: PayoutPrep | None = None
    result_grants: list[tuple[str, str]] = field(default_factory=list)
    done: list[tuple[str, str]] = field(default_factory=list)  # (task, owner) taken now

    def record(self, row: Row, item: Completion, result_size: int, status: str) -> str:
        """Writes the attempt as done with its result, and the result's check row with
        `status`; returns the capped log."""
        log = capped_log(item.log, self.settings.max_log_bytes)
        self.attempt_values.append(
            outcome_values(
                row.id,
                ATTEMPT_DONE,
                self.now,
                exit_code=item.exit_code,
                error="",
                log=log,
                stats=item.stats,
                result_digest=item.result_digest,
                result_size=result_size,
            )
        )
        self.checks.add(row, self.node_id, self.node_owner_id, item.result_digest, status)
        return log

    def accept(self, row: Row, item: Completion, result_size: int) -> Ack:
        """Takes the result of an unreplicated task as it is (unverified) and pays it."""
        # Paid time is what the node measured, but never more than the job's timeout nor
        # more than the server saw pass since the lease began.
        elapsed = max(0.0, self.now - row.leased_at)
        wall = min(item.stats.wall_seconds or 0.0, elapsed)
        reward = reward_for(
            base_ucpt_per_core_hour=self.settings.base_ucpt_per_core_hour,
            core_ms=measured_core_ms(wall, row.timeout_s, row.cores),
            base_ucpt_per_gpu_hour=self.settings.base_ucpt_per_gpu_hour,
            gpu_ms=measured_core_ms(wall, row.timeout_s, row.gpus),
            priority_permille=row.priority_permille,
            performance_bonus_permille=self.bonuses.performance_permille,
            stability_bonus_permille=self.bonuses.stability_permille,
        )
        allowed = self.caps.allow(self.node_id, reward.amount_ucpt)
        # Taken from the escrow when it is read, at the latest just before paying (write).
        draw = self.escrow.draw_later(row.escrow_account_id, allowed)
        log = self.record(row, item, result_size, UNVERIFIED)
        if row.task_attempts > 1:  # failed or lapsed elsewhere before: see refute_failures
            self.done.append((row.task_id, self.node_owner_id))
        self.task_values.append(
            {
                "b_id": row.task_id,
                "b_result_digest": item.result_digest,
                "b_result_size": result_size,
                "b_attempt_id": row.id,
                "b_node_id": self.node_id,
                "b_cost": allowed,  # what it earned; `pay` lowers it if the escrow had less
                "b_log": log,
            }
        )
        self.orders.append(
            PayoutOrder(
                attempt_id=row.id,
                job_id=row.job_id,
                node_id=self.node_id,
                user_id=self.node_owner_id,
                escrow_account_id=row.escrow_account_id,
                reward=reward,
                amount_ucpt=0,  # what `draw` takes
            )
        )
        self.draws.append(draw)
        if item.result_digest:
            self.result_grants.append((item.result_digest, row.owner_id))
        return Ack(row.id, True)  # and paid what the order says once paid

    def write(self, conn: Connection) -> None:
        """Writes what does not depend on the escrows: the accepted tasks' costs as earned
        (`pay` corrects those the escrow could not cover in full)."""
        record_attempt_outcomes(conn, self.attempt_values)
        self.checks.write(conn, self.now)
        record_done_tasks(conn, self.task_values, self.now)
        self.caps.write()
        record_accepted(conn, [order.node_id for order in self.orders], self.settings, self.now)
        refute_failures(conn, self.done, self.settings, self.now)
        grant_reads(conn, self.result_grants)  # the submitter may download the results
        release_result_quota(conn, [(digest, self.node_id) for digest, _ in self.result_grants])
        self._prep = prepare_payouts(conn, self.orders) if self.orders else None

    def pay(self, conn: Connection) -> None:
        """With the jobs' and escrows' rows locked (after `write`): takes the draws and pays
        them (`orders` then say what each was paid)."""
        if not self.orders:
            return
        self.escrow.lock()
        self.orders = [
            replace(order, amount_ucpt=draw.taken)
            for order, draw in zip(self.orders, self.draws, strict=True)
        ]
        short = [
            {"b_id": values["b_id"], "b_less": draw.wanted - draw.taken}
            for values, draw in zip(self.task_values, self.draws, strict=True)
            if draw.taken != draw.wanted
        ]
        execute_many(conn, LOWER_TASK_COST, short)
        pay(conn, self.orders, self.now, self._prep)


def _load_node(conn: Connection, node_id: str, network: str, now: float) -> NodeStanding:
    """The node's standing, with the network its report came from ("" = keep) recorded.
    Locks the node's row (PostgreSQL): one report of a node at a time."""
    standing = load_standing(conn, [node_id], lock=True).get(node_id)
    if standing is None:  # no such node: a new one, with no bonus, for what follows
        return NodeStanding(TrustRecord(node_id), now, 0.0, network)
    if network and network != standing.network:
        conn.execute(update(nodes).where(nodes.c.id == node_id).values(network=network))
        standing = replace(standing, network=network)
    return standing


def _is_comparison(rows: dict[str, Row], attempt_id: str) -> bool:
    row = rows.get(attempt_id)
    return row is not None and bool(row.comparison_id)


async def complete(
    ctx: ServerContext,
    node_id: str,
    node_owner_id: str,
    completions: Sequence[Completion],
    network: str = "",
) -> list[Ack]:
    acks, effects = await ctx.db.run(
        complete_attempts,
        node_id,
        node_owner_id,
        completions,
        ctx.settings,
        time.time(),
        ctx.spot_check_rng,
        network,
    )
    effects.announce(ctx.events)
    _count("completed", acks)
    return acks


async def fail(ctx: ServerContext, node_id: str, failures: Sequence[Failure]) -> list[Ack]:
    acks, effects = await ctx.db.run(fail_attempts, node_id, failures, ctx.settings, time.time())
    effects.announce(ctx.events)
    _count("failed", acks)
    return acks


def _count(report: str, acks: Sequence[Ack]) -> None:
    accepted = sum(1 for ack in acks if ack.accepted)
    metrics.count_reports(report, accepted, len(acks) - accepted)


async def start(ctx: ServerContext, node_id: str, attempt_ids: Sequence[str]) -> list[Ack]:
    _check_batch(attempt_ids)
    acks, jobs_started = await ctx.db.run(
        start_attempts, node_id, list(attempt_ids), ctx.settings.lease_ttl_s, time.time()
    )
    for job_id in jobs_started:
        ctx.events.notify(job_id)
    return acks
