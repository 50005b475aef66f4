"""Attempts as nodes report them: the reports (Completion, Failure) and their answer (Ack),
who may report on an attempt (`refusal`), starting attempts, and the bulk writes of attempt
and task outcomes that intake.py and quorum.py share.

Each attempt in a batch gets its own acknowledgement. Only the node holding a live lease
may act on an attempt; anything else is refused for that attempt alone, with the reason.
A report that was already applied (a retry after a lost answer) is acknowledged again
without a second effect: a completed attempt is paid once, whatever is replayed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Row, Select, bindparam, select, update

from server.jobs.models import (
    ATTEMPT_CANCELLED,
    ATTEMPT_DONE,
    ATTEMPT_EXPIRED,
    ATTEMPT_FAILED,
    ATTEMPT_LEASED,
    ATTEMPT_LIVE_STATES,
    ATTEMPT_RUNNING,
    TASK_DONE,
    TASK_LEASED,
    TASK_RUNNING,
)
from server.store.bulk import execute_many
from server.store.schema import attempts, jobs, tasks

MAX_BATCH = 1000
MAX_ERROR_CHARS = 1000


@dataclass(frozen=True)
class AttemptStats:
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    peak_memory_mb: int = 0


@dataclass(frozen=True)
class Completion:
    attempt_id: str
    result_digest: str = ""
    result_size: int = 0
    exit_code: int = 0
    log: str = ""
    stats: AttemptStats = AttemptStats()


@dataclass(frozen=True)
class Failure:
    attempt_id: str
    error: str
    exit_code: int = 0
    log: str = ""
    stats: AttemptStats = AttemptStats()


@dataclass(frozen=True)
class Ack:
    attempt_id: str
    accepted: bool
    error: str = ""  # why not, or a note such as "already completed"
    payout_ucpt: int = 0


def load_attempts(
    conn: Connection, attempt_ids: Sequence[str], lock: bool = False
) -> dict[str, Row]:
    """Attempts with what deciding about them needs from their task and job; with `lock`,
    their rows locked until the transaction ends (PostgreSQL)."""
    if not attempt_ids:
        return {}
    query = LOAD_ATTEMPTS_LOCKED if lock else LOAD_ATTEMPTS
    rows = conn.execute(query, {"b_ids": sorted(set(attempt_ids))}).all()
    return {row.id: row for row in rows}


def _load_attempts_query(lock: bool) -> Select:
    query = (
        select(
            attempts.c.id,
            attempts.c.task_id,
            attempts.c.job_id,
            attempts.c.node_id,
            attempts.c.state,
            attempts.c.leased_at,
            attempts.c.started_at,
            attempts.c.cancel_requested,
            attempts.c.comparison_id,
            tasks.c.idx.label("task_index"),
            tasks.c.state.label("task_state"),
            tasks.c.attempts.label("task_attempts"),
            jobs.c.owner_id,
            jobs.c.cores,
            jobs.c.gpus,
            jobs.c.timeout_s,
            jobs.c.max_attempts,
            jobs.c.priority_permille,
            jobs.c.escrow_account_id,
            jobs.c.replicas,
            jobs.c.compare_json,
            (jobs.c.aggregate_json != "").label("has_rounds"),
        )
        .select_from(
            attempts.join(tasks, tasks.c.id == attempts.c.task_id).join(
                jobs, jobs.c.id == attempts.c.job_id
            )
        )
        .where(attempts.c.id.in_(bindparam("b_ids", expanding=True)))
    )
    # Not the jobs' rows: other batches of the same jobs wait for those only when they pay
    # (intake.complete_attempts).
    return query.with_for_update(of=(attempts, tasks)) if lock else query


LOAD_ATTEMPTS = _load_attempts_query(lock=False)
LOAD_ATTEMPTS_LOCKED = _load_attempts_query(lock=True)


def refusal(row: Row | None, attempt_id: str, node_id: str) -> str | None:
    """Why `node_id` may not report on this attempt now, or None when it may."""
    if row is None:
        return f"unknown attempt {attempt_id}"
    if row.node_id != node_id:
        return f"attempt {attempt_id} is leased to another node"
    if row.state == ATTEMPT_EXPIRED:
        return f"attempt {attempt_id} lost its lease (expired); the task went back to the queue"
    if row.state == ATTEMPT_CANCELLED:
        return f"attempt {attempt_id} was cancelled (its job was cancelled)"
    if row.state == ATTEMPT_FAILED:
        return f"attempt {attempt_id} already failed"
    if row.state == ATTEMPT_DONE:
        return f"attempt {attempt_id} already completed"
    return None


def one_line(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    line = " ".join((text or "").split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def capped_log(text: str, limit_bytes: int) -> str:
    data = (text or "").encode("utf-8", "replace")
    if len(data) <= limit_bytes:
        return text or ""
    return data[:limit_bytes].decode("utf-8", "ignore")


def start_attempts(
    conn: Connection, node_id: str, attempt_ids: Sequence[str], lease_ttl_s: int, now: float
) -> tuple[list[Ack], set[str]]:
    """Marks attempts running and renews their leases; returns acks and the jobs touched."""
    rows = load_attempts(conn, attempt_ids)
    acks: list[Ack] = []
    starting: list[Row] = []
    for attempt_id in attempt_ids:
        row = rows.get(attempt_id)
        reason = refusal(row, attempt_id, node_id)
        if reason is None and row is not None and row.cancel_requested:
            reason = f"attempt {attempt_id} was cancelled (its job was cancelled)"
        acks.append(Ack(attempt_id, reason is None, reason or ""))
        if reason is None and row is not None and row.state == ATTEMPT_LEASED:
            starting.append(row)
    live = [ack.attempt_id for ack in acks if ack.accepted]
    if live:
        conn.execute(
            update(attempts)
            .where(attempts.c.id.in_(live), attempts.c.state.in_(ATTEMPT_LIVE_STATES))
            .values(lease_deadline=now + lease_ttl_s)
        )
    if starting:
        conn.execute(
            update(attempts)
            .where(attempts.c.id.in_([row.id for row in starting]))
            .values(state=ATTEMPT_RUNNING, started_at=now)
        )
        conn.execute(
            update(tasks)
            .where(tasks.c.id.in_([row.task_id for row in starting]), tasks.c.state == TASK_LEASED)
            .values(state=TASK_RUNNING, updated_at=now)
        )
    return acks, {row.job_id for row in starting}


RECORD_OUTCOME = (
    update(attempts)
    .where(attempts.c.id == bindparam("b_id"))
    .values(
        state=bindparam("b_state"),
        finished_at=bindparam("b_finished_at"),
        exit_code=bindparam("b_exit_code"),
        error=bindparam("b_error"),
        result_digest=bindparam("b_result_digest"),
        result_size=bindparam("b_result_size"),
        log=bindparam("b_log"),
        cpu_seconds=bindparam("b_cpu_seconds"),
        wall_seconds=bindparam("b_wall_seconds"),
        peak_memory_mb=bindparam("b_peak_memory_mb"),
    )
)

RECORD_DONE_TASK = (
    update(tasks)
    .where(tasks.c.id == bindparam("b_id"))
    .values(
        state=bindparam("b_state"),
        result_digest=bindparam("b_result_digest"),
        result_size=bindparam("b_result_size"),
        accepted_attempt_id=bindparam("b_attempt_id"),
        node_id=bindparam("b_node_id"),
        cost_ucpt=tasks.c.cost_ucpt + bindparam("b_cost"),
        log=bindparam("b_log"),
        error=bindparam("b_error"),
        updated_at=bindparam("b_now"),
    )
)


def record_attempt_outcomes(conn: Connection, values: list[dict]) -> None:
    """Writes the final state of attempts: dicts with b_id, b_state and the outcome."""
    execute_many(conn, RECORD_OUTCOME, values)


def outcome_values(
    attempt_id: str,
    state: str,
    now: float,
    *,
    exit_code: int,
    error: str,
    log: str,
    stats: AttemptStats,
    result_digest: str = "",
    result_size: int = 0,
) -> dict:
    return {
        "b_id": attempt_id,
        "b_state": state,
        "b_finished_at": now,
        "b_exit_code": exit_code,
        "b_error": error,
        "b_result_digest": result_digest,
        "b_result_size": result_size,
        "b_log": log,
        "b_cpu_seconds": _finite(stats.cpu_seconds),
        "b_wall_seconds": _finite(stats.wall_seconds),
        "b_peak_memory_mb": max(int(stats.peak_memory_mb), 0),
    }


def _finite(value: float) -> float:
    return value if value == value and 0 <= value < 1e12 else 0.0


RECORD_FAILED_TASK = (
    update(tasks)
    .where(tasks.c.id == bindparam("b_id"))
    .values(
        state=bindparam("b_state"),
        error=bindparam("b_error"),
        log=bindparam("b_log"),
        updated_at=bindparam("b_now"),
    )
)


def record_failed_tasks(conn: Connection, values: list[dict], now: float) -> None:
    """Puts failed attempts' tasks back (or fails them). `values` rows carry b_id, b_state,
    b_error and b_log."""
    execute_many(conn, RECORD_FAILED_TASK, [{**row, "b_now": now} for row in values])


def record_done_tasks(conn: Connection, values: list[dict], now: float) -> None:
    """Marks tasks done with their accepted attempt. `values` rows carry b_id,
    b_result_digest, b_result_size, b_attempt_id, b_node_id, b_cost and b_log."""
    same = {"b_state": TASK_DONE, "b_error": "", "b_now": now}
    execute_many(conn, RECORD_DONE_TASK, [{**row, **same} for row in values])
