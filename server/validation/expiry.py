"""Leases that lapse: attempts whose node stopped renewing them, and silent nodes.

An expired attempt puts its task back in the queue (or fails the task once it has used its
max attempts). A node silent for `node_offline_after_s` is marked offline and its leases are
released at once, without waiting for each to expire. A banned node is released the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, Row, bindparam, select, update

from server.config import ServerSettings
from server.jobs.effects import Effects
from server.jobs.models import (
    ATTEMPT_EXPIRED,
    ATTEMPT_LIVE_STATES,
    TASK_FAILED,
    TASK_IN_FLIGHT_STATES,
    TASK_PENDING,
    task_label,
)
from server.nodes.trust import record_expired, record_offline
from server.store.schema import attempts, jobs, nodes, tasks
from server.validation.comparisons import release_comparisons
from server.validation.replicas import GIVE_UP, RETRY, abandon_tasks, plan_lost_attempts
from server.validation.replicas import gave_up as gave_up_note
from server.validation.rounds import advance_rounds

MAX_RELEASE_BATCH = 5000


@dataclass
class Released:
    """How many leases were released and what became of their tasks, for the logs; what it
    did to the jobs went into the transaction's Effects."""

    attempts: int = 0
    requeued: int = 0
    failed: int = 0
    nodes_offline: list[str] = field(default_factory=list)

    def add(self, other: Released) -> None:
        self.attempts += other.attempts
        self.requeued += other.requeued
        self.failed += other.failed
        self.nodes_offline += other.nodes_offline


def _live_attempts(conn: Connection, *conditions: object) -> list[Row]:
    return conn.execute(
        select(
            attempts.c.id,
            attempts.c.task_id,
            attempts.c.job_id,
            attempts.c.node_id,
            attempts.c.comparison_id,
            tasks.c.idx,
            tasks.c.state.label("task_state"),
            tasks.c.attempts.label("task_attempts"),
            jobs.c.max_attempts,
            jobs.c.replicas,
        )
        .select_from(
            attempts.join(tasks, tasks.c.id == attempts.c.task_id).join(
                jobs, jobs.c.id == attempts.c.job_id
            )
        )
        .where(attempts.c.state.in_(ATTEMPT_LIVE_STATES), *conditions)
        .limit(MAX_RELEASE_BATCH)
    ).all()


def release_attempts(
    conn: Connection,
    rows: list[Row],
    reason: str,
    now: float,
    effects: Effects,
    settings: ServerSettings,
) -> Released:
    """Ends these live attempts as expired and puts their tasks back (or fails them); every
    job they belong to is told, and those whose last task failed end."""
    released = Released()
    if not rows:
        return released
    conn.execute(
        update(attempts)
        .where(attempts.c.id.in_([row.id for row in rows]))
        .values(state=ATTEMPT_EXPIRED, finished_at=now, error=reason)
    )
    task_values = []
    # Comparisons go back to be compared elsewhere (comparisons.py), not their tasks.
    compared = [row for row in rows if row.comparison_id]
    released.attempts += len(compared)
    for row in compared:
        effects.touch(row.job_id)
    release_comparisons(conn, compared, {row.id: reason for row in compared}, now, effects)
    record_expired(conn, [row.node_id for row in compared], now, settings)
    rows = [row for row in rows if not row.comparison_id]
    plans = plan_lost_attempts(conn, rows, now, settings.distinct_networks)
    given_up: list[str] = []
    for row in rows:
        released.attempts += 1
        effects.touch(row.job_id)
        plan = plans[row.id]
        if plan not in (RETRY, GIVE_UP):
            continue  # the task moved on (e.g. cancelled, or decided); nothing to put back
        gave_up = plan == GIVE_UP
        error = f"{reason} ({gave_up_note(row.max_attempts)})" if gave_up else reason
        if gave_up:
            effects.deltas[row.job_id].failed += 1
            released.failed += 1
            given_up.append(row.task_id)
        else:
            released.requeued += 1
        in_flight = row.task_state in TASK_IN_FLIGHT_STATES
        task_values.append(
            {
                "b_id": row.task_id,
                "b_state": TASK_FAILED
                if gave_up
                else (TASK_PENDING if in_flight else row.task_state),
                "b_error": error,
            }
        )
        what = "failed" if gave_up else "requeued"
        effects.say(row.job_id, f"{task_label(row.idx)} {what}: {error}")
    # Every lease a node lost counts against its trust (and its stability bonus).
    record_expired(conn, [row.node_id for row in rows], now, settings)
    abandon_tasks(conn, given_up, "the task failed", now)
    if task_values:
        conn.execute(
            update(tasks)
            .where(tasks.c.id == bindparam("b_id"))
            .values(state=bindparam("b_state"), error=bindparam("b_error"), updated_at=now),
            task_values,
        )
    advance_rounds(conn, effects, now)
    effects.apply(conn, now)
    return released


def expire_leases(
    conn: Connection, now: float, effects: Effects, settings: ServerSettings
) -> Released:
    """Attempts whose lease deadline passed without a renewal."""
    rows = _live_attempts(conn, attempts.c.lease_deadline < now)
    reason = "lease expired: the node stopped renewing it"
    return release_attempts(conn, rows, reason, now, effects, settings)


def release_node_leases(
    conn: Connection,
    node_id: str,
    reason: str,
    now: float,
    effects: Effects,
    settings: ServerSettings,
) -> Released:
    """Releases every live lease of one node (it went offline or was banned)."""
    released = Released()
    while True:
        rows = _live_attempts(conn, attempts.c.node_id == node_id)
        if not rows:
            return released
        released.add(release_attempts(conn, rows, reason, now, effects, settings))


def mark_silent_nodes_offline(
    conn: Connection, now: float, offline_after_s: float, effects: Effects, settings: ServerSettings
) -> Released:
    silent = (
        conn.execute(
            select(nodes.c.id).where(
                nodes.c.online.is_(True), nodes.c.last_seen < now - offline_after_s
            )
        )
        .scalars()
        .all()
    )
    released = Released()
    if not silent:
        return released
    conn.execute(update(nodes).where(nodes.c.id.in_(silent)).values(online=False))
    record_offline(conn, silent, now)
    for node_id in silent:
        released.add(
            release_node_leases(
                conn,
                node_id,
                f"node went offline (silent for over {offline_after_s:g} s)",
                now,
                effects,
                settings,
            )
        )
    released.nodes_offline = list(silent)
    return released
