"""Replica slots of a task that needs more than one result (a `task_replicas` row).

A job with replicas = R needs a quorum of R // 2 + 1 agreeing results from independent
nodes (different owners and networks: independence.py; R = 2: both must agree). Its tasks
hand out R leases at first; each lease takes a slot, and while slots are open the task stays
`pending` so other independent nodes (see the scheduler) can lease it. A failed or expired
replica opens its slot again; a disagreement opens more (see quorum.py), up to `max_results`
results per task. Slots may be kept for established nodes (`needs_established`): theirs is
the word that settles a task new nodes agree on, or disagree with an established node about.

A spot check turns an unreplicated task into one that needs two agreeing results: the
original (the subject) and one from an independent node (an established one, once the
network has any).

The aggregate of a round (jobs/rounds.py) is replicated like a task of a job with
`aggregate_replicas(replicas)` replicas: results of two independent nodes at least, whatever
the job's.

A task fails for good once nodes of `max_attempts` different owners failed it; a node's
errors on tasks that others then did right are its own (`refute_failures`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Row, bindparam, insert, select, update

from server.config import ServerSettings
from server.jobs.models import (
    AGGREGATE_INDEX,
    ATTEMPT_CANCELLED,
    ATTEMPT_EXPIRED,
    ATTEMPT_FAILED,
    ATTEMPT_LIVE_STATES,
    TASK_DONE,
    TASK_IN_FLIGHT_STATES,
    TASK_LEASED,
    TASK_PENDING,
    aggregate_replicas,
)
from server.nodes import trust
from server.store.schema import (
    attempts,
    nodes,
    result_checks,
    result_comparisons,
    task_replicas,
    tasks,
)
from server.validation.independence import independent_count

log = logging.getLogger("hivemind.validation")

SPOT_CHECK_QUORUM = 2
RETRY, GIVE_UP, KEEP = "retry", "give up", "keep"
# What validation made of a delivered result (the result_checks table).
PENDING, VALID, UNVERIFIED = "pending", "valid", "unverified"
INVALID, INCONCLUSIVE, DISCARDED = "invalid", "inconclusive", "discarded"


def quorum_for(replicas: int) -> int:
    """Agreeing results needed: a majority of the replicas (both of two)."""
    return max(1, replicas) // 2 + 1 if replicas > 1 else 1


LOAD_REPLICAS = select(task_replicas).where(
    task_replicas.c.task_id.in_(bindparam("b_ids", expanding=True))
)


def load_replicas(conn: Connection, task_ids: Iterable[str]) -> dict[str, Row]:
    ids = sorted(set(task_ids))
    found: dict[str, Row] = {}
    for start in range(0, len(ids), 500):  # SQLite caps the parameters of one statement
        chunk = ids[start : start + 500]
        found.update((row.task_id, row) for row in conn.execute(LOAD_REPLICAS, {"b_ids": chunk}))
    return found


def take_slots(
    conn: Connection, picked: Sequence[tuple[Row, Row]], settings: ServerSettings, now: float
) -> dict[str, str]:
    """Takes one slot for each leased (job, task); returns the state each task moves to:
    `leased` once no slot is left open, else `pending` (more replicas to hand out)."""
    states: dict[str, str] = {}
    existing = load_replicas(conn, [task.id for _, task in picked])
    new_rows: list[dict] = []
    slot_updates: list[dict] = []
    for job, task in picked:
        row = existing.get(task.id)
        replicas = aggregate_replicas(job.replicas) if task.idx == AGGREGATE_INDEX else job.replicas
        if row is None and replicas > 1:
            open_slots = replicas - 1
            new_rows.append(
                {
                    "task_id": task.id,
                    "job_id": job.id,
                    "quorum": quorum_for(replicas),
                    "open_slots": open_slots,
                    "max_results": replicas + max(settings.max_extra_replicas, 0),
                    "max_paid": replicas,
                    "paid": 0,
                    "spot_check": False,
                    "subject_attempt_id": None,
                    "canonical_digest": "",
                    "updated_at": now,
                }
            )
        elif row is not None:
            open_slots = max(row.open_slots - 1, 0)
            slot_updates.append({"b_task_id": task.id, "b_open": open_slots})
        else:
            open_slots = 0
        states[task.id] = TASK_PENDING if open_slots > 0 else TASK_LEASED
    if new_rows:
        conn.execute(insert(task_replicas), new_rows)
    if slot_updates:
        conn.execute(
            update(task_replicas)
            .where(task_replicas.c.task_id == bindparam("b_task_id"))
            .values(open_slots=bindparam("b_open"), updated_at=now),
            slot_updates,
        )
    return states


def open_spot_check(
    conn: Connection,
    task_id: str,
    job_id: str,
    subject_attempt_id: str,
    settings: ServerSettings,
    now: float,
    needs_established: bool = False,
) -> None:
    """Makes an unreplicated task wait for a second, agreeing result from an independent
    node (an established one with `needs_established`)."""
    conn.execute(
        insert(task_replicas).values(
            task_id=task_id,
            job_id=job_id,
            quorum=SPOT_CHECK_QUORUM,
            open_slots=1,
            max_results=SPOT_CHECK_QUORUM + max(settings.max_extra_replicas, 0),
            max_paid=SPOT_CHECK_QUORUM,
            paid=0,
            spot_check=True,
            subject_attempt_id=subject_attempt_id,
            canonical_digest="",
            updated_at=now,
            needs_established=needs_established,
        )
    )
    conn.execute(
        update(tasks).where(tasks.c.id == task_id).values(state=TASK_PENDING, updated_at=now)
    )


def reopen_slots(conn: Connection, task_ids: Iterable[str], now: float) -> None:
    """A replica failed or expired before its task was decided: its slot opens again."""
    counts: dict[str, int] = {}
    for task_id in task_ids:
        counts[task_id] = counts.get(task_id, 0) + 1
    if not counts:
        return
    conn.execute(
        update(task_replicas)
        .where(task_replicas.c.task_id == bindparam("b_task_id"))
        .values(open_slots=task_replicas.c.open_slots + bindparam("b_count"), updated_at=now),
        [{"b_task_id": t, "b_count": c} for t, c in sorted(counts.items())],
    )


def failed_by(
    conn: Connection, task_ids: Iterable[str], excluding: Iterable[str]
) -> dict[str, set[tuple[str, str]]]:
    """The (owner, network) of the nodes that failed (or let lapse) each task, leaving out
    the attempts in `excluding`: a task fails for good only once `max_attempts` independent
    nodes (independence.py: of different owners on different networks) failed it, so one
    owner, with any number of nodes or accounts on one network, cannot fail a task out."""
    ids, skip = sorted(set(task_ids)), sorted(set(excluding))
    if not ids:
        return {}
    rows = conn.execute(
        select(attempts.c.task_id, nodes.c.owner_id, nodes.c.network)
        .join(nodes, nodes.c.id == attempts.c.node_id)
        .where(
            attempts.c.task_id.in_(ids),
            attempts.c.state.in_((ATTEMPT_FAILED, ATTEMPT_EXPIRED)),
            attempts.c.id.not_in(skip),
            attempts.c.comparison_id.is_(None),  # a failed comparison is not the task's
        )
        .distinct()
    ).all()
    found: dict[str, set[tuple[str, str]]] = {}
    for task_id, owner_id, network in rows:
        found.setdefault(task_id, set()).add((owner_id, network))
    return found


def gave_up(nodes_failed: int) -> str:
    return (
        f"gave up: it failed on {nodes_failed} independent node{'' if nodes_failed == 1 else 's'}"
    )


@dataclass(frozen=True)
class _FailedOn:
    """A node that failed a task, as independence counts it."""

    node_id: str
    owner_id: str
    network: str


def plan_lost_attempts(
    conn: Connection, rows: Sequence[Row], now: float, distinct_networks: bool = True
) -> dict[str, str]:
    """What a failed or expired attempt means for its task (rows carry id, task_id, node_id,
    task_state, max_attempts and replicas): RETRY (the task, or its replica slot, goes back
    to the queue), GIVE_UP (`max_attempts` independent nodes have failed it, whichever
    replicas failed), or KEEP (the task was decided or ended; nothing to put back). Reopens
    the slots of replicated tasks it retries."""
    replicas = load_replicas(conn, [row.task_id for row in rows])
    failed = failed_by(conn, [row.task_id for row in rows], [row.id for row in rows])
    seen = {
        row.id: (row.owner_id, row.network)
        for row in conn.execute(
            select(nodes.c.id, nodes.c.owner_id, nodes.c.network).where(
                nodes.c.id.in_(sorted({row.node_id for row in rows}))
            )
        )
    }
    plans: dict[str, str] = {}
    given_up: set[str] = set()
    reopen: list[str] = []
    for row in rows:
        rep = replicas.get(row.task_id)
        replicated = rep is not None or row.replicas > 1
        if replicated:
            decided = (rep is not None and bool(rep.canonical_digest)) or row.task_state not in (
                TASK_PENDING,
                *TASK_IN_FLIGHT_STATES,
            )
        else:
            decided = row.task_state not in TASK_IN_FLIGHT_STATES
        if decided or row.task_id in given_up or row.task_state == TASK_DONE:
            plans[row.id] = KEEP
            continue
        failing = failed.setdefault(row.task_id, set())
        failing.add(seen.get(row.node_id, (row.node_id, "")))
        voters = [_FailedOn("", owner, network) for owner, network in failing]
        if independent_count(voters, distinct_networks) >= row.max_attempts:
            plans[row.id] = GIVE_UP
            given_up.add(row.task_id)
        else:
            plans[row.id] = RETRY
            if rep is not None:
                reopen.append(row.task_id)
    reopen_slots(conn, [task_id for task_id in reopen if task_id not in given_up], now)
    return plans


def refute_failures(
    conn: Connection,
    done: Sequence[tuple[str, Iterable[str]]],
    settings: ServerSettings,
    now: float,
) -> list[str]:
    """Tasks just done right, each with the owners whose nodes did it: the errors and lapsed
    leases other owners' nodes had on them were those nodes' own (trust.record_refuted).
    Returns the nodes this quarantines."""
    doers = {task_id: set(owners) for task_id, owners in done}
    if not doers:
        return []
    rows = conn.execute(
        select(attempts.c.node_id, attempts.c.task_id, nodes.c.owner_id)
        .join(nodes, nodes.c.id == attempts.c.node_id)
        .where(
            attempts.c.task_id.in_(sorted(doers)),
            attempts.c.state.in_((ATTEMPT_FAILED, ATTEMPT_EXPIRED)),
            attempts.c.comparison_id.is_(None),
        )
    ).all()
    refuted = [row.node_id for row in rows if doers[row.task_id] - {row.owner_id}]
    quarantined = trust.record_refuted(conn, refuted, settings, now)
    for node_id in quarantined:
        log.warning("node quarantined node=%s: errors far above its peers'", node_id)
    return quarantined


def cancel_live_attempts(conn: Connection, task_ids: list[str], reason: str, now: float) -> None:
    """Tells the nodes still running these tasks to stop (their next heartbeat says so)."""
    conn.execute(
        update(attempts)
        .where(attempts.c.task_id.in_(sorted(task_ids)), attempts.c.state.in_(ATTEMPT_LIVE_STATES))
        .values(state=ATTEMPT_CANCELLED, cancel_requested=True, finished_at=now, error=reason)
    )


def abandon_tasks(conn: Connection, task_ids: list[str], reason: str, now: float) -> None:
    """Tasks that failed for good: their pending results are inconclusive (not paid), their
    replicas still running are stopped, and no more replicas are handed out."""
    if not task_ids:
        return
    ids = sorted(set(task_ids))
    conn.execute(
        update(result_checks)
        .where(result_checks.c.task_id.in_(ids), result_checks.c.status == PENDING)
        .values(status=INCONCLUSIVE, decided_at=now)
    )
    conn.execute(
        update(task_replicas)
        .where(task_replicas.c.task_id.in_(ids))
        .values(open_slots=0, updated_at=now)
    )
    conn.execute(  # comparisons of its results are no longer needed (comparisons.py)
        update(result_comparisons)
        .where(result_comparisons.c.task_id.in_(ids), result_comparisons.c.state == "open")
        .values(state="dropped", decided_at=now)
    )
    cancel_live_attempts(conn, ids, reason, now)
