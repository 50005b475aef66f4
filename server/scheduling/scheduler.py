"""Leasing tasks to nodes.

`lease_tasks` picks pending tasks that fit what a node has free, in one transaction, and
hands back one attempt per task. Choice is fair between submitters: the batch is filled
round-robin over owners (those with fewer tasks in flight go first), and within one owner
the higher priority, then the older job, goes first. Several small tasks may fill a node.
Jobs paid from starter credit get only the room that paid jobs leave (funding.py).

Cost is O(active jobs + batch): one query finds the jobs that fit and still have pending
tasks (an indexed EXISTS per job), then each job chosen gives its pending tasks through the
(state, job_id, idx) index, LIMITed to what the batch can still take.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, Row, exists, func, insert, select, update

from server.config import ServerSettings
from server.context import ServerContext
from server.errors import FailedPrecondition, NotFound, PermissionDenied
from server.ids import new_id
from server.jobs.access import grant_reads
from server.jobs.models import (
    ATTEMPT_LEASED,
    JOB_ACTIVE_STATES,
    JOB_PENDING,
    JOB_RUNNING,
    TASK_IN_FLIGHT_STATES,
    TASK_LEASED,
    TASK_PENDING,
)
from server.nodes.trust import lease_policy
from server.scheduling.compare_leases import lease_comparisons
from server.scheduling.funding import paid_first
from server.scheduling.lease_trust import by_trust, held_by_owner, nodes_of_same_owner
from server.scheduling.leases import Free, Lease, LeaseRequest, artifact_sizes, runtime_images
from server.scheduling.runtime_choice import runtime_preference
from server.store.schema import attempts, jobs, nodes, tasks
from server.validation.replicas import take_slots

log = logging.getLogger("hivemind.scheduler")

MAX_LEASE_BATCH = 256


@dataclass
class _OwnerQueue:
    jobs: deque[Row]
    in_flight: int = 0
    pending: dict[str, deque[Row]] = field(default_factory=dict)


def _check_node(conn: Connection, node_id: str, now: float) -> list[str]:
    """The node's registered runtimes; refuses banned and offline nodes."""
    node = conn.execute(
        select(nodes.c.online, nodes.c.banned, nodes.c.ban_reason, nodes.c.runtimes_json).where(
            nodes.c.id == node_id
        )
    ).first()
    if node is None:
        raise NotFound(f"no node {node_id}; register this machine again")
    if node.banned:
        raise PermissionDenied(f"node {node_id} is banned: {node.ban_reason or 'no reason'}")
    if not node.online:
        raise FailedPrecondition(
            f"node {node_id} is marked offline; send a heartbeat to come back online"
        )
    conn.execute(update(nodes).where(nodes.c.id == node_id).values(last_seen=now))
    return json.loads(node.runtimes_json or "[]")


def _candidate_jobs(conn: Connection, free: Free, runtime_names: Sequence[str]) -> list[Row]:
    has_pending = exists().where(tasks.c.state == TASK_PENDING, tasks.c.job_id == jobs.c.id)
    query = select(
        jobs.c.id,
        jobs.c.owner_id,
        jobs.c.runtime,
        jobs.c.command_json,
        jobs.c.package_digest,
        jobs.c.cores,
        jobs.c.memory_mb,
        jobs.c.disk_mb,
        jobs.c.gpus,
        jobs.c.timeout_s,
        jobs.c.priority_permille,
        jobs.c.created_at,
        jobs.c.state,
        jobs.c.replicas,
        jobs.c.starter_funded,
    ).where(
        jobs.c.state.in_(JOB_ACTIVE_STATES),
        jobs.c.cores <= free.cores,
        jobs.c.memory_mb <= free.memory_mb,
        jobs.c.gpus <= free.gpus,
        has_pending,
    )
    if free.disk_mb is not None:
        query = query.where(jobs.c.disk_mb <= free.disk_mb)
    if runtime_names:
        query = query.where(jobs.c.runtime.in_(sorted(set(runtime_names))))
    order = (jobs.c.priority_permille.desc(), jobs.c.created_at, jobs.c.id)
    return conn.execute(query.order_by(*order)).all()


def _in_flight_by_owner(conn: Connection) -> dict[str, int]:
    rows = conn.execute(
        select(jobs.c.owner_id, func.count())
        .select_from(tasks.join(jobs, jobs.c.id == tasks.c.job_id))
        .where(tasks.c.state.in_(TASK_IN_FLIGHT_STATES))
        .group_by(jobs.c.owner_id)
    ).all()
    return {owner: int(count) for owner, count in rows}


def _owner_queues(conn: Connection, candidates: list[Row]) -> list[_OwnerQueue]:
    queues: dict[str, _OwnerQueue] = {}
    for job in candidates:  # already ordered: priority, then age
        queues.setdefault(job.owner_id, _OwnerQueue(deque())).jobs.append(job)
    if len(queues) > 1:
        for owner, count in _in_flight_by_owner(conn).items():
            if owner in queues:
                queues[owner].in_flight = count
    # Higher priority first; between equals, whoever has less running goes first.
    return sorted(
        queues.values(),
        key=lambda q: (-q.jobs[0].priority_permille, q.in_flight, q.jobs[0].created_at),
    )


def _pending_tasks(
    conn: Connection, job_id: str, limit: int, skip_locked: bool, owner_nodes: Sequence[str] = ()
) -> deque[Row]:
    query = (
        select(
            tasks.c.id, tasks.c.idx, tasks.c.input_digest, tasks.c.input_name, tasks.c.input_size
        )
        .where(tasks.c.state == TASK_PENDING, tasks.c.job_id == job_id)
        .order_by(tasks.c.idx)
        .limit(limit)
    )
    if owner_nodes:
        # Replicas of a task go to nodes of different owners: skip tasks this node's owner
        # holds or has delivered a result for (see validation/replicas.py).
        query = query.where(~held_by_owner(owner_nodes))
    if skip_locked:  # PostgreSQL: replicas leasing at once take different rows
        query = query.with_for_update(skip_locked=True)
    return deque(conn.execute(query).all())


def _take_one(
    conn: Connection,
    queue: _OwnerQueue,
    free: Free,
    room: int,
    skip_locked: bool,
    owner_nodes: Sequence[str] = (),
) -> tuple[Row, Row] | None:
    while queue.jobs:
        job = queue.jobs[0]
        if not free.fits(job):
            queue.jobs.popleft()  # free resources only shrink during one lease
            continue
        pending = queue.pending.get(job.id)
        if pending is None:
            pending = queue.pending[job.id] = _pending_tasks(
                conn, job.id, room, skip_locked, owner_nodes
            )
        if not pending:
            queue.jobs.popleft()
            continue
        free.take(job)
        return job, pending.popleft()
    return None


def _pick(
    conn: Connection,
    candidates: list[Row],
    free: Free,
    limit: int,
    skip_locked: bool,
    owner_nodes: Sequence[str] = (),
) -> list[tuple[Row, Row]]:
    picked: list[tuple[Row, Row]] = []
    active = _owner_queues(conn, candidates)
    while active and len(picked) < limit:
        still_active = []
        for queue in active:
            if len(picked) >= limit:
                break
            choice = _take_one(conn, queue, free, limit - len(picked), skip_locked, owner_nodes)
            if choice is not None:
                picked.append(choice)
                still_active.append(queue)
        active = still_active
    return picked


def lease_tasks(
    conn: Connection,
    node_id: str,
    request: LeaseRequest,
    lease_ttl_s: int,
    now: float,
    settings: ServerSettings | None = None,
) -> list[Lease]:
    settings = settings or ServerSettings()
    registered = _check_node(conn, node_id, now)
    limit = max(1, min(request.max_tasks or 1, MAX_LEASE_BATCH))
    if request.free_cores < 1 or request.free_memory_mb < 1:
        return []
    # Trust: a node on probation holds few leases; see server/nodes/trust.py.
    policy = lease_policy(conn, node_id, settings)
    if policy.max_new_leases is not None:
        limit = min(limit, policy.max_new_leases)
        if limit < 1:
            return []
    owner_nodes = nodes_of_same_owner(conn, node_id)
    free = Free(
        cores=request.free_cores,
        memory_mb=request.free_memory_mb,
        disk_mb=request.free_disk_mb if request.free_disk_mb > 0 else None,
        gpus=max(request.free_gpus, 0),
    )
    preference = runtime_preference(conn, node_id, request.runtimes or registered)
    if preference.nothing:
        return []
    deadline = now + lease_ttl_s
    # Comparisons first: they are short, and a task waits for each (compare_leases.py).
    compared = lease_comparisons(
        conn, node_id, owner_nodes, free, preference.names, limit, deadline, now
    )
    limit -= len(compared)
    candidates = _candidate_jobs(conn, free, preference.names) if limit > 0 else []
    if not candidates:
        return compared
    skip_locked = conn.dialect.name == "postgresql"
    picked: list[tuple[Row, Row]] = []
    # Starter-funded jobs get only the room that paid jobs leave (funding.py).
    for tier in paid_first(candidates):
        held_first, to_fetch = preference.split(tier)
        held_first, to_fetch = by_trust(held_first, policy), by_trust(to_fetch, policy)
        picked += _pick(conn, held_first, free, limit - len(picked), skip_locked, owner_nodes)
        if to_fetch and len(picked) < limit:
            # Room left: jobs of runtimes this node lacks but can fetch (and then holds).
            picked += _pick(conn, to_fetch, free, limit - len(picked), skip_locked, owner_nodes)
    if not picked:
        return compared
    attempt_ids = [new_id("att") for _ in picked]
    conn.execute(
        insert(attempts),
        [
            {
                "id": attempt_id,
                "task_id": task.id,
                "job_id": job.id,
                "node_id": node_id,
                "state": ATTEMPT_LEASED,
                "leased_at": now,
                "lease_deadline": deadline,
                "error": "",
                "result_digest": "",
                "result_size": 0,
                "log": "",
                "cpu_seconds": 0.0,
                "wall_seconds": 0.0,
                "peak_memory_mb": 0,
                "cancel_requested": False,
            }
            for attempt_id, (job, task) in zip(attempt_ids, picked, strict=True)
        ],
    )
    # A task with replica slots still open stays pending for nodes of other owners.
    states = take_slots(conn, picked, settings, now)
    for state in (TASK_LEASED, TASK_PENDING):
        chosen = [task.id for _, task in picked if states[task.id] == state]
        if chosen:
            conn.execute(
                update(tasks)
                .where(tasks.c.id.in_(chosen))
                .values(state=state, attempts=tasks.c.attempts + 1, updated_at=now)
            )
    job_ids = sorted({job.id for job, _ in picked})
    conn.execute(
        update(jobs)
        .where(jobs.c.id.in_(job_ids), jobs.c.state == JOB_PENDING)
        .values(state=JOB_RUNNING, updated_at=now)
    )
    # The node may now download what these tasks need (see server/jobs/access.py).
    grant_reads(
        conn,
        [(job.package_digest, node_id) for job, _ in picked]
        + [(task.input_digest, node_id) for _, task in picked],
    )
    return compared + _leases(conn, picked, attempt_ids, deadline)


def _leases(
    conn: Connection, picked: list[tuple[Row, Row]], attempt_ids: list[str], deadline: float
) -> list[Lease]:
    images = runtime_images(conn, [job.runtime for job, _ in picked])
    sizes = artifact_sizes(conn, [job.package_digest for job, _ in picked])
    commands = {job.id: json.loads(job.command_json) for job, _ in picked}
    leases = []
    for attempt_id, (job, task) in zip(attempt_ids, picked, strict=True):
        image, archive = images.get(job.runtime, ("", ""))
        leases.append(
            Lease(
                attempt_id=attempt_id,
                task_id=task.id,
                job_id=job.id,
                task_index=task.idx,
                runtime=job.runtime,
                command=commands[job.id],
                package_digest=job.package_digest,
                package_size=int(sizes.get(job.package_digest, 0)),
                input_digest=task.input_digest,
                input_name=task.input_name,
                input_size=task.input_size,
                cores=job.cores,
                memory_mb=job.memory_mb,
                disk_mb=job.disk_mb,
                gpus=job.gpus,
                timeout_s=job.timeout_s,
                lease_deadline=deadline,
                runtime_image=image,
                runtime_archive_digest=archive,
            )
        )
    return leases


async def lease(ctx: ServerContext, node_id: str, request: LeaseRequest) -> list[Lease]:
    """Leases tasks to a node (on the database thread) and tells watchers of their jobs."""
    leases = await ctx.db.run(
        lease_tasks, node_id, request, ctx.settings.lease_ttl_s, time.time(), ctx.settings
    )
    if leases:
        log.debug("leased node=%s tasks=%d", node_id, len(leases))
        for job_id in {item.job_id for item in leases}:
            ctx.events.notify(job_id)
    return leases
