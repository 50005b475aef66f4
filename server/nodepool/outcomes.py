"""Completing and failing attempts, in batches, each batch in one transaction.

Complete: the task is done with its result, the node's owner is paid from the job's escrow.
Fail: the task goes back to the queue until it has used its max attempts, then fails with
the last error. Either may end the job, which refunds what is left of its escrow.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import Connection, Row, bindparam, select, update

from server.config import ServerSettings
from server.context import ServerContext
from server.errors import InvalidArgument
from server.master.access import grant_reads, release_result_quota
from server.master.artifacts import check_digest
from server.master.job_lifecycle import JobDeltas, apply_deltas, settle_ended_jobs
from server.master.models import (
    ATTEMPT_DONE,
    ATTEMPT_FAILED,
    TASK_DONE,
    TASK_FAILED,
    TASK_IN_FLIGHT_STATES,
    TASK_PENDING,
)
from server.nodepool.attempts import (
    MAX_BATCH,
    Ack,
    Completion,
    Failure,
    capped_log,
    load_attempts,
    one_line,
    outcome_values,
    record_attempt_outcomes,
    refusal,
    start_attempts,
)
from server.nodepool.payouts import EscrowTracker, PayoutOrder, paid_amounts, pay
from server.nodepool.rewards import measured_core_ms, reward_for
from server.store.schema import artifact_owners, artifacts, tasks


@dataclass
class Outcome:
    acks: list[Ack] = field(default_factory=list)
    messages: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    ended_jobs: list[str] = field(default_factory=list)


def _check_batch(items: Sequence[object]) -> None:
    if len(items) > MAX_BATCH:
        raise InvalidArgument(f"at most {MAX_BATCH} attempts per call (got {len(items)})")


def _uploaded_results(conn: Connection, node_id: str, digests: set[str]) -> dict[str, int]:
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


def _canonical(item: Completion) -> Completion:
    digest = item.result_digest.strip().lower()
    return replace(item, result_digest=digest) if digest != item.result_digest else item


def _result_refusal(item: Completion, uploaded: dict[str, int]) -> str | None:
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


@dataclass
class _Accepted:
    """What accepting a batch of completions writes, gathered to write it in bulk."""

    settings: ServerSettings
    node_id: str
    node_owner_id: str
    escrow: EscrowTracker
    now: float
    attempt_values: list[dict] = field(default_factory=list)
    task_values: list[dict] = field(default_factory=list)
    orders: list[PayoutOrder] = field(default_factory=list)
    result_grants: list[tuple[str, str]] = field(default_factory=list)

    def accept(self, row: Row, item: Completion, result_size: int) -> Ack:
        # Paid time is what the node measured, but never more than the job's timeout nor
        # more than the server saw pass since the lease began.
        elapsed = max(0.0, self.now - row.leased_at)
        wall = min(item.stats.wall_seconds or 0.0, elapsed)
        reward = reward_for(
            base_ucpt_per_core_hour=self.settings.base_ucpt_per_core_hour,
            core_ms=measured_core_ms(wall, row.timeout_s, row.cores),
            priority_permille=row.priority_permille,
        )
        amount = self.escrow.draw(row.escrow_account_id, reward.amount_ucpt)
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
        self.task_values.append(
            {
                "b_id": row.task_id,
                "b_result_digest": item.result_digest,
                "b_result_size": result_size,
                "b_attempt_id": row.id,
                "b_node_id": self.node_id,
                "b_cost": amount,
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
                amount_ucpt=amount,
            )
        )
        if item.result_digest:
            self.result_grants.append((item.result_digest, row.owner_id))
        return Ack(row.id, True, "", amount)

    def write(self, conn: Connection) -> None:
        record_attempt_outcomes(conn, self.attempt_values)
        _record_done_tasks(conn, self.task_values, self.now)
        pay(conn, self.orders, self.now)
        grant_reads(conn, self.result_grants)  # the submitter may download the results
        release_result_quota(conn, [(digest, self.node_id) for digest, _ in self.result_grants])


def complete_attempts(
    conn: Connection,
    node_id: str,
    node_owner_id: str,
    completions: Sequence[Completion],
    settings: ServerSettings,
    now: float,
) -> Outcome:
    _check_batch(completions)
    completions = [_canonical(item) for item in completions]
    rows = load_attempts(conn, [item.attempt_id for item in completions])
    uploaded = _uploaded_results(
        conn, node_id, {item.result_digest for item in completions if item.result_digest}
    )
    escrow = EscrowTracker(conn, {row.escrow_account_id for row in rows.values()})
    replays = paid_amounts(
        conn, [i for i, row in rows.items() if row.state == ATTEMPT_DONE and row.node_id == node_id]
    )
    accepted = _Accepted(settings, node_id, node_owner_id, escrow, now)
    outcome = Outcome()
    deltas = JobDeltas()
    handled: dict[str, Ack] = {}
    for item in completions:
        if item.attempt_id in handled:  # the same attempt twice in one batch
            outcome.acks.append(handled[item.attempt_id])
            continue
        row = rows.get(item.attempt_id)
        if row is not None and row.state == ATTEMPT_DONE and row.node_id == node_id:
            ack = Ack(item.attempt_id, True, "already completed", replays.get(row.id, 0))
        else:
            reason = refusal(row, item.attempt_id, node_id)
            if reason is None and row.task_state not in TASK_IN_FLIGHT_STATES:
                reason = f"task of attempt {item.attempt_id} is {row.task_state}, not running"
            reason = reason or _result_refusal(item, uploaded)
            if reason is not None:
                ack = Ack(item.attempt_id, False, reason)
            else:
                ack = accepted.accept(row, item, uploaded.get(item.result_digest, 0))
                deltas[row.job_id].done += 1
                deltas[row.job_id].cost_ucpt += ack.payout_ucpt
                outcome.messages[row.job_id].append(f"task {row.task_index} done on node {node_id}")
        handled[item.attempt_id] = ack
        outcome.acks.append(ack)
    accepted.write(conn)
    apply_deltas(conn, deltas, now)
    outcome.ended_jobs = settle_ended_jobs(conn, set(deltas), now)
    return outcome


def _record_done_tasks(conn: Connection, values: list[dict], now: float) -> None:
    if not values:
        return
    conn.execute(
        update(tasks)
        .where(tasks.c.id == bindparam("b_id"))
        .values(
            state=TASK_DONE,
            result_digest=bindparam("b_result_digest"),
            result_size=bindparam("b_result_size"),
            accepted_attempt_id=bindparam("b_attempt_id"),
            node_id=bindparam("b_node_id"),
            cost_ucpt=tasks.c.cost_ucpt + bindparam("b_cost"),
            log=bindparam("b_log"),
            error="",
            updated_at=now,
        ),
        values,
    )


def fail_attempts(
    conn: Connection,
    node_id: str,
    failures: Sequence[Failure],
    settings: ServerSettings,
    now: float,
) -> Outcome:
    _check_batch(failures)
    rows = load_attempts(conn, [item.attempt_id for item in failures])
    outcome = Outcome()
    deltas = JobDeltas()
    attempt_values: list[dict] = []
    task_values: list[dict] = []
    handled: set[str] = set()
    for item in failures:
        row = rows.get(item.attempt_id)
        if item.attempt_id in handled or (
            row is not None and row.state == ATTEMPT_FAILED and row.node_id == node_id
        ):
            outcome.acks.append(Ack(item.attempt_id, True, "already failed"))
            continue
        reason = refusal(row, item.attempt_id, node_id)
        if reason is None and row.task_state not in TASK_IN_FLIGHT_STATES:
            reason = f"task of attempt {item.attempt_id} is {row.task_state}, not running"
        if reason is not None:
            outcome.acks.append(Ack(item.attempt_id, False, reason))
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
        gave_up = row.task_attempts >= row.max_attempts
        if gave_up:
            deltas[row.job_id].failed += 1
            error = f"{error} (gave up after {row.task_attempts} attempts)"
        task_values.append(
            {
                "b_id": row.task_id,
                "b_state": TASK_FAILED if gave_up else TASK_PENDING,
                "b_error": error,
                "b_log": log,
            }
        )
        what = "failed" if gave_up else "failed, will retry"
        outcome.messages[row.job_id].append(
            f"task {row.task_index} {what} on node {node_id}: {error}"
        )
        outcome.acks.append(Ack(item.attempt_id, True))
    record_attempt_outcomes(conn, attempt_values)
    if task_values:
        conn.execute(
            update(tasks)
            .where(tasks.c.id == bindparam("b_id"))
            .values(
                state=bindparam("b_state"),
                error=bindparam("b_error"),
                log=bindparam("b_log"),
                updated_at=now,
            ),
            task_values,
        )
    apply_deltas(conn, deltas, now)
    outcome.ended_jobs = settle_ended_jobs(conn, set(deltas), now)
    return outcome


def _announce(ctx: ServerContext, outcome: Outcome) -> None:
    ctx.events.notify_many(outcome.messages)
    for job_id in outcome.ended_jobs:
        ctx.events.notify(job_id, "job ended")


async def complete(
    ctx: ServerContext, node_id: str, node_owner_id: str, completions: Sequence[Completion]
) -> list[Ack]:
    outcome = await ctx.db.run(
        complete_attempts, node_id, node_owner_id, completions, ctx.settings, time.time()
    )
    _announce(ctx, outcome)
    return outcome.acks


async def fail(ctx: ServerContext, node_id: str, failures: Sequence[Failure]) -> list[Ack]:
    outcome = await ctx.db.run(fail_attempts, node_id, failures, ctx.settings, time.time())
    _announce(ctx, outcome)
    return outcome.acks


async def start(ctx: ServerContext, node_id: str, attempt_ids: Sequence[str]) -> list[Ack]:
    _check_batch(attempt_ids)
    acks, jobs_started = await ctx.db.run(
        start_attempts, node_id, list(attempt_ids), ctx.settings.lease_ttl_s, time.time()
    )
    for job_id in jobs_started:
        ctx.events.notify(job_id)
    return acks
