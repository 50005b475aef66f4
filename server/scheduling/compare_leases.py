"""Leasing comparisons (server/validation/comparisons.py) to nodes of a third owner."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import Connection, Row, insert, literal, select, update

from server.ids import new_id
from server.jobs.access import grant_reads
from server.jobs.models import ATTEMPT_LEASED, JOB_ACTIVE_STATES, TASK_FAILED
from server.scheduling.lease_trust import LeasingNode, held_by_kin
from server.scheduling.leases import Free, Lease, artifact_sizes, runtime_images
from server.store.schema import attempts, jobs, result_comparisons, tasks
from server.validation.comparisons import LEASED, OPEN


def lease_comparisons(
    conn: Connection,
    node: LeasingNode,
    free: Free,
    runtime_names: Sequence[str],
    limit: int,
    deadline: float,
    now: float,
) -> list[Lease]:
    """Leases open comparisons this node may judge and has room for (most urgent job first):
    of a third owner, on none of the networks of the results' nodes (lease_trust.held_by_kin).
    A comparison runs without GPUs, even of a GPU job's results (it reads two outputs, and is
    paid and escrowed as core time): any node may judge them, not only one lending a GPU."""
    if limit < 1:
        return []
    if (
        conn.execute(
            select(result_comparisons.c.id).where(result_comparisons.c.state == OPEN).limit(1)
        ).first()
        is None
    ):
        return []  # the common case: one indexed probe
    query = (
        select(
            result_comparisons.c.id,
            result_comparisons.c.task_id,
            result_comparisons.c.digest_a,
            result_comparisons.c.digest_b,
            jobs.c.id.label("job_id"),
            jobs.c.runtime,
            jobs.c.compare_json,
            jobs.c.compare_timeout_s,
            jobs.c.package_digest,
            jobs.c.cores,
            jobs.c.memory_mb,
            jobs.c.disk_mb,
            literal(0).label("gpus"),
            jobs.c.rounds,
            tasks.c.idx,
            tasks.c.round,
        )
        .select_from(
            result_comparisons.join(jobs, jobs.c.id == result_comparisons.c.job_id).join(
                tasks, tasks.c.id == result_comparisons.c.task_id
            )
        )
        .where(
            result_comparisons.c.state == OPEN,
            jobs.c.state.in_(JOB_ACTIVE_STATES),
            jobs.c.owner_id != node.owner_id,
            jobs.c.cores <= free.cores,
            jobs.c.memory_mb <= free.memory_mb,
            tasks.c.state.not_in((TASK_FAILED, "cancelled")),
            ~held_by_kin(node, runs_only=True),
        )
        .order_by(jobs.c.priority_permille.desc(), result_comparisons.c.created_at)
        .limit(limit * 4)
    )
    if runtime_names:
        query = query.where(jobs.c.runtime.in_(sorted(set(runtime_names))))
    if conn.dialect.name == "postgresql":  # nodes leasing at once take different comparisons
        query = query.with_for_update(skip_locked=True, of=result_comparisons)
    picked: list[Row] = []
    seen_tasks: set[str] = set()
    for row in conn.execute(query):
        if len(picked) >= limit:
            break
        if row.task_id in seen_tasks or not free.fits(row):
            continue  # one comparison of a task at a time per node: it holds the task then
        free.take(row)
        seen_tasks.add(row.task_id)
        picked.append(row)
    if not picked:
        return []
    attempt_ids = [new_id("att") for _ in picked]
    conn.execute(
        insert(attempts),
        [
            {
                "id": attempt_id,
                "task_id": row.task_id,
                "job_id": row.job_id,
                "node_id": node.node_id,
                "state": ATTEMPT_LEASED,
                "leased_at": now,
                "lease_deadline": deadline,
                "comparison_id": row.id,
            }
            for attempt_id, row in zip(attempt_ids, picked, strict=True)
        ],
    )
    for attempt_id, row in zip(attempt_ids, picked, strict=True):
        conn.execute(
            update(result_comparisons)
            .where(result_comparisons.c.id == row.id)
            .values(state=LEASED, attempt_id=attempt_id)
        )
    grant_reads(
        conn,
        [
            (digest, node.node_id)
            for row in picked
            for digest in (row.package_digest, row.digest_a, row.digest_b)
            if digest
        ],
    )
    images = runtime_images(conn, [row.runtime for row in picked])
    sizes = artifact_sizes(
        conn, [d for row in picked for d in (row.package_digest, row.digest_a, row.digest_b)]
    )
    leases = []
    for attempt_id, row in zip(attempt_ids, picked, strict=True):
        image, archive = images.get(row.runtime, ("", ""))
        leases.append(
            Lease(
                attempt_id=attempt_id,
                task_id=row.task_id,
                job_id=row.job_id,
                task_index=row.idx,
                runtime=row.runtime,
                command=json.loads(row.compare_json),
                package_digest=row.package_digest,
                package_size=sizes.get(row.package_digest, 0),
                input_digest="",
                input_name="",
                input_size=0,
                cores=row.cores,
                memory_mb=row.memory_mb,
                disk_mb=row.disk_mb,
                gpus=row.gpus,
                timeout_s=row.compare_timeout_s,
                lease_deadline=deadline,
                runtime_image=image,
                runtime_archive_digest=archive,
                comparison=(
                    row.digest_a,
                    sizes.get(row.digest_a, 0),
                    row.digest_b,
                    sizes.get(row.digest_b, 0),
                ),
                round=row.round,
                rounds=row.rounds,
            )
        )
    return leases
