"""Leasing tasks to nodes.

`lease_tasks` picks pending tasks that fit what a node has free, in one transaction, and
hands back one attempt per task. Choice is fair between submitters: the batch is filled
round-robin over owners (those with fewer tasks in flight go first), and within one owner
the higher priority, then the older job, goes first. Several small tasks may fill a node.
Jobs paid from starter credit get only the room that paid jobs leave (funding.py).

Cost is O(active jobs + batch): one query finds the jobs that fit and still have pending
tasks (an indexed EXISTS per job), then each job chosen gives its pending tasks through the
(state, job_id, idx) index, LIMITed to what the batch can still take.

A task of a job with rounds (server/jobs/rounds.py) is leased with its round's model; the
round's aggregate (index -1, so first among the job's pending tasks) with the aggregate
command and every accepted output of the round. The node may then read them all.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import (
    Connection,
    Row,
    Select,
    bindparam,
    exists,
    func,
    insert,
    select,
    update,
)

from server import metrics
from server.config import ServerSettings
from server.context import ServerContext
from server.errors import FailedPrecondition, NotFound, PermissionDenied
from server.ids import new_id
from server.jobs.access import grant_reads
from server.jobs.models import (
    AGGREGATE_INDEX,
    ATTEMPT_LEASED,
    JOB_ACTIVE_STATES,
    JOB_PENDING,
    JOB_RUNNING,
    TASK_IN_FLIGHT_STATES,
    TASK_LEASED,
    TASK_PENDING,
)
from server.jobs.rounds import RoundOutput, round_models, round_outputs
from server.nodes.trust import lease_policy, record_leases
from server.scheduling.check_funding import CheckFunding
from server.scheduling.compare_leases import lease_comparisons
from server.scheduling.funding import paid_first
from server.scheduling.lease_trust import (
    LeasingNode,
    bound_node,
    by_trust,
    node_params,
    open_to,
)
from server.scheduling.leases import (
    Free,
    Lease,
    Leased,
    LeaseRequest,
    artifact_sizes,
    runtime_images,
)
from server.scheduling.runtime_choice import runtime_preference
from server.store.bulk import execute_many
from server.store.postgres import locks_rows
from server.store.schema import attempts, jobs, nodes, tasks
from server.validation.replicas import take_slots

log = logging.getLogger("hivemind.scheduler")

MAX_LEASE_BATCH = 256
INSERT_ATTEMPT = insert(attempts)


@dataclass
class _OwnerQueue:
    jobs: deque[Row]
    in_flight: int = 0
    pending: dict[str, deque[Row]] = field(default_factory=dict)


LEASING_NODE = (
    select(
        nodes.c.owner_id,
        nodes.c.online,
        nodes.c.banned,
        nodes.c.ban_reason,
        nodes.c.runtimes_json,
        nodes.c.network,
        nodes.c.created_at,
        nodes.c.last_seen,
    )
    .where(nodes.c.id == bindparam("b_id"))
    # PostgreSQL: one lease of a node at a time (its quota, trust and day counters are read
    # here and written later in the transaction).
    .with_for_update()
)
TOUCH_NODE = (
    update(nodes)
    .where(nodes.c.id == bindparam("b_id"))
    .values(last_seen=bindparam("b_now"), network=bindparam("b_network"))
)
TASKS_LEASED = (
    update(tasks)
    .where(tasks.c.id.in_(bindparam("b_ids", expanding=True)))
    .values(
        state=bindparam("b_state"), attempts=tasks.c.attempts + 1, updated_at=bindparam("b_now")
    )
)
# A lease is a sign of life written at most this often (s): presence needs far less.
TOUCH_EVERY_S = 1.0


def _check_node(
    conn: Connection,
    node_id: str,
    now: float,
    network: str,
    distinct_networks: bool,
    touch: bool = True,
) -> tuple[LeasingNode, list[str]]:
    """The node as independence sees it and its registered runtimes; refuses banned and
    offline nodes. Records the network the call came from (`network`, "" = keep). With
    `touch` the call counts as a sign of life in the database, written at most once every
    TOUCH_EVERY_S (without Redis, which records it else); the network is written whenever
    it changed."""
    node = conn.execute(LEASING_NODE, {"b_id": node_id}).first()
    if node is None:
        raise NotFound(f"no node {node_id}; register this machine again")
    if node.banned:
        raise PermissionDenied(
            f"node {node_id} is banned: {node.ban_reason or 'no reason'}", reason="NODE_BANNED"
        )
    if not node.online:
        raise FailedPrecondition(
            f"node {node_id} is marked offline; send a heartbeat to come back online"
        )
    seen = network or node.network
    if seen != node.network or (touch and now - node.last_seen >= TOUCH_EVERY_S):
        last_seen = now if touch else node.last_seen
        conn.execute(TOUCH_NODE, {"b_id": node_id, "b_now": last_seen, "b_network": seen})
    leasing = LeasingNode(node_id, node.owner_id, seen, float(node.created_at), distinct_networks)
    return leasing, json.loads(node.runtimes_json or "[]")


def _candidate_jobs(conn: Connection, free: Free, runtime_names: Sequence[str]) -> list[Row]:
    params = {"b_cores": free.cores, "b_memory": free.memory_mb, "b_gpus": free.gpus}
    if free.disk_mb is not None:
        params["b_disk"] = free.disk_mb
    if runtime_names:
        params["b_runtimes"] = sorted(set(runtime_names))
    query = _candidate_query(free.disk_mb is not None, bool(runtime_names))
    return conn.execute(query, params).all()


@functools.cache
def _candidate_query(by_disk: bool, by_runtime: bool) -> Select:
    """Active jobs with pending tasks that fit :b_cores, :b_memory, :b_gpus (and :b_disk,
    of a runtime in :b_runtimes), in the order they are offered; built once per shape."""
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
        jobs.c.rounds,
        jobs.c.aggregate_json,
    ).where(
        jobs.c.state.in_(JOB_ACTIVE_STATES),
        jobs.c.cores <= bindparam("b_cores"),
        jobs.c.memory_mb <= bindparam("b_memory"),
        jobs.c.gpus <= bindparam("b_gpus"),
        has_pending,
    )
    if by_disk:
        query = query.where(jobs.c.disk_mb <= bindparam("b_disk"))
    if by_runtime:
        query = query.where(jobs.c.runtime.in_(bindparam("b_runtimes", expanding=True)))
    return query.order_by(jobs.c.priority_permille.desc(), jobs.c.created_at, jobs.c.id)


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


class _PendingTasks:
    """A lease's look-up of a job's pending tasks that this node may take: replicas of a
    task go to independent nodes, a node never gets again a task it failed, slots kept for
    established nodes go to them (lease_trust.open_to). One statement per shape, built once;
    on PostgreSQL with SKIP LOCKED, so nodes leasing at once take different tasks."""

    def __init__(self, node: LeasingNode, established: bool, skip_locked: bool) -> None:
        self.query = _pending_query(established, node.distinct_networks, skip_locked)
        self.params = node_params(node)

    def of(self, conn: Connection, job_id: str, limit: int) -> deque[Row]:
        params = self.params | {"b_job": job_id, "b_limit": limit}
        return deque(conn.execute(self.query, params).all())


@functools.cache
def _pending_query(established: bool, distinct_networks: bool, skip_locked: bool) -> Select:
    query = (
        select(
            tasks.c.id,
            tasks.c.idx,
            tasks.c.round,
            tasks.c.input_digest,
            tasks.c.input_name,
            tasks.c.input_size,
        )
        .where(
            tasks.c.state == TASK_PENDING,
            tasks.c.job_id == bindparam("b_job"),
            open_to(bound_node(distinct_networks), established),
        )
        .order_by(tasks.c.idx)
        .limit(bindparam("b_limit"))
    )
    return query.with_for_update(skip_locked=True, of=tasks) if skip_locked else query


def _take_one(
    conn: Connection,
    queue: _OwnerQueue,
    free: Free,
    room: int,
    pending_tasks: _PendingTasks,
    funding: CheckFunding,
) -> tuple[Row, Row] | None:
    while queue.jobs:
        job = queue.jobs[0]
        if not free.fits(job):
            queue.jobs.popleft()  # free resources only shrink during one lease
            continue
        pending = queue.pending.get(job.id)
        if pending is None:
            cap = funding.cap(job)
            limit = room if cap is None else min(room, cap)
            if limit < 1:  # its checks cannot be paid for yet (check_funding.py)
                queue.jobs.popleft()
                continue
            pending = queue.pending[job.id] = pending_tasks.of(conn, job.id, limit)
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
    pending_tasks: _PendingTasks,
    funding: CheckFunding,
) -> list[tuple[Row, Row]]:
    picked: list[tuple[Row, Row]] = []
    active = _owner_queues(conn, candidates)
    while active and len(picked) < limit:
        still_active = []
        for queue in active:
            if len(picked) >= limit:
                break
            room = limit - len(picked)
            choice = _take_one(conn, queue, free, room, pending_tasks, funding)
            if choice is not None:
                picked.append(choice)
                still_active.append(queue)
        active = still_active
    return picked


@locks_rows
def lease_tasks(
    conn: Connection,
    node_id: str,
    request: LeaseRequest,
    lease_ttl_s: int,
    now: float,
    settings: ServerSettings | None = None,
    network: str = "",
    touch: bool = True,
) -> Leased:
    """Leases pending tasks (and comparisons) that fit what the node has free; `network` is
    where the call came from (server/nodes/networks.py)."""
    settings = settings or ServerSettings()
    node, registered = _check_node(conn, node_id, now, network, settings.distinct_networks, touch)
    limit = max(1, min(request.max_tasks or 1, MAX_LEASE_BATCH))
    if request.free_cores < 1 or request.free_memory_mb < 1:
        return Leased([])
    # Trust: quarantine, the day's lease quota, probation; see server/nodes/trust.py.
    policy = lease_policy(conn, node_id, settings, now, node.created_at)
    if policy.max_new_leases is not None:
        limit = min(limit, policy.max_new_leases)
        if limit < 1:
            return Leased([], policy.held_back)
    free = Free(
        cores=request.free_cores,
        memory_mb=request.free_memory_mb,
        disk_mb=request.free_disk_mb if request.free_disk_mb > 0 else None,
        gpus=max(request.free_gpus, 0),
    )
    preference = runtime_preference(conn, node_id, request.runtimes or registered)
    if preference.nothing:
        return Leased([])
    deadline = now + lease_ttl_s
    # Comparisons first: they are short, and a task waits for each (compare_leases.py).
    compared = lease_comparisons(conn, node, free, preference.names, limit, deadline, now)
    limit -= len(compared)
    record_leases(conn, node_id, len(compared), now)
    candidates = _candidate_jobs(conn, free, preference.names) if limit > 0 else []
    if not candidates:
        return Leased(compared)
    # A node whose results are checked gets only tasks whose checks are funded.
    funding = CheckFunding(conn, node, policy, settings, now)
    pending_tasks = _PendingTasks(node, policy.established, conn.dialect.name == "postgresql")
    picked: list[tuple[Row, Row]] = []
    # Starter-funded jobs get only the room that paid jobs leave (funding.py).
    for tier in paid_first(candidates):
        held_first, to_fetch = preference.split(tier)
        held_first, to_fetch = by_trust(held_first, policy), by_trust(to_fetch, policy)
        room = limit - len(picked)
        picked += _pick(conn, held_first, free, room, pending_tasks, funding)
        if to_fetch and len(picked) < limit:
            # Room left: jobs of runtimes this node lacks but can fetch (and then holds).
            room = limit - len(picked)
            picked += _pick(conn, to_fetch, free, room, pending_tasks, funding)
    if not picked:
        return Leased(compared, look_again=funding.held)
    record_leases(conn, node_id, len(picked), now)
    attempt_ids = [new_id("att") for _ in picked]
    execute_many(
        conn,
        INSERT_ATTEMPT,
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
            conn.execute(TASKS_LEASED, {"b_ids": chosen, "b_state": state, "b_now": now})
    starting = sorted({job.id for job, _ in picked if job.state == JOB_PENDING})
    if starting:  # as read in this transaction: a job never goes back to pending
        conn.execute(
            update(jobs)
            .where(jobs.c.id.in_(starting), jobs.c.state == JOB_PENDING)
            .values(state=JOB_RUNNING, updated_at=now)
        )
    rounds = _round_inputs(conn, picked)
    # The node may now download what these tasks need (see server/jobs/access.py).
    grant_reads(
        conn,
        [(job.package_digest, node_id) for job, _ in picked]
        + [(task.input_digest, node_id) for _, task in picked]
        + [(digest, node_id) for inputs in rounds.values() for digest in inputs.digests],
    )
    return Leased(compared + _leases(conn, picked, attempt_ids, deadline, rounds))


@dataclass(frozen=True)
class _RoundInputs:
    """What a task of a job with rounds gets besides its input: the round's model and, for
    the round's aggregate, the round's accepted outputs."""

    model: str
    outputs: tuple[RoundOutput, ...] | None

    @property
    def digests(self) -> list[str]:
        return [self.model, *(output.digest for output in self.outputs or ())]


def _round_inputs(conn: Connection, picked: list[tuple[Row, Row]]) -> dict[str, _RoundInputs]:
    """Task id -> its round's model and, for an aggregate, the outputs it combines."""
    keys = {(job.id, task.round) for job, task in picked if job.aggregate_json}
    if not keys:
        return {}
    models = round_models(conn, keys)
    found = {}
    for job, task in picked:
        if not job.aggregate_json:
            continue
        outputs = None
        if task.idx == AGGREGATE_INDEX:
            outputs = tuple(round_outputs(conn, job.id, task.round))
        found[task.id] = _RoundInputs(models.get((job.id, task.round), ""), outputs)
    return found


def _leases(
    conn: Connection,
    picked: list[tuple[Row, Row]],
    attempt_ids: list[str],
    deadline: float,
    rounds: dict[str, _RoundInputs],
) -> list[Lease]:
    images = runtime_images(conn, [job.runtime for job, _ in picked])
    sizes = artifact_sizes(
        conn,
        [job.package_digest for job, _ in picked] + [inputs.model for inputs in rounds.values()],
    )
    # What every lease of a job shares, read from its row once (not once per task).
    shared = {}
    for job_id, job in {job.id: job for job, _ in picked}.items():
        image, archive = images.get(job.runtime, ("", ""))
        shared[job_id] = {
            "job_id": job_id,
            "runtime": job.runtime,
            "command": json.loads(job.command_json),
            "package_digest": job.package_digest,
            "package_size": int(sizes.get(job.package_digest, 0)),
            "cores": job.cores,
            "memory_mb": job.memory_mb,
            "disk_mb": job.disk_mb,
            "gpus": job.gpus,
            "timeout_s": job.timeout_s,
            "lease_deadline": deadline,
            "runtime_image": image,
            "runtime_archive_digest": archive,
            "rounds": job.rounds,
        }
    leases = []
    for attempt_id, (job, task) in zip(attempt_ids, picked, strict=True):
        fields = shared[job.id]
        inputs = rounds.get(task.id)
        if inputs is not None:
            fields = fields | {
                "model_digest": inputs.model,
                "model_size": sizes.get(inputs.model, 0),
                "aggregate_outputs": inputs.outputs,
            }
            if inputs.outputs is not None:  # the round's aggregate runs the aggregate command
                fields["command"] = json.loads(job.aggregate_json)
        leases.append(
            Lease(
                attempt_id=attempt_id,
                task_id=task.id,
                task_index=task.idx,
                input_digest=task.input_digest,
                input_name=task.input_name,
                input_size=task.input_size,
                round=task.round,
                **fields,
            )
        )
    return leases


async def lease(
    ctx: ServerContext,
    node_id: str,
    request: LeaseRequest,
    network: str = "",
    wait_s: float = 0.0,
) -> Leased:
    """Leases tasks to a node (on the database thread) and tells watchers of their jobs.
    A call that finds nothing may wait up to `wait_s` (at most settings.lease_wait_max_s)
    for work to be offered (server/jobs/events.py), and then looks again: idle workers
    long-poll instead of asking every few seconds. A node held back (its quota, quarantine)
    hears so at once, without waiting."""
    wait_s = min(max(float(wait_s), 0.0), float(ctx.settings.lease_wait_max_s))
    until = time.monotonic() + wait_s
    hot = ctx.presence
    while True:
        with ctx.events.work_waiter() as waiter:
            now = time.time()
            began = time.perf_counter()
            try:
                leased = await ctx.db.run(
                    lease_tasks,
                    node_id,
                    request,
                    ctx.settings.lease_ttl_s,
                    now,
                    ctx.settings,
                    network,
                    touch=hot is None,
                )
            except FailedPrecondition:
                if hot is not None:  # marked offline: its next beat must tell the database
                    await hot.forget_nodes([node_id])
                raise
            metrics.LEASE_SECONDS.observe(time.perf_counter() - began)
            if hot is not None:
                await hot.touch(node_id, now)
            if leased.leases or leased.held_back:
                break
            remaining = until - time.monotonic()
            if remaining <= 0 or not await waiter.wait(remaining):
                return leased
    metrics.TASKS_LEASED.inc(len(leased.leases))
    if leased.leases:
        log.debug("leased node=%s tasks=%d", node_id, len(leased.leases))
        for job_id in {item.job_id for item in leased.leases}:
            ctx.events.notify(job_id)
    if leased.held_back:
        log.info("lease held back node=%s: %s", node_id, leased.held_back)
    return leased
