"""Submitting a job: its spec checked, its package, inputs and runtime found, its budget
held in escrow.

Submitting moves the job's budget (its max cost) from the submitter's CPT, or when that is
short from their starter credit (server/ledger/starter.py), into the job's escrow account in
the same transaction that creates the job and its tasks: either all of it happens or nothing
does. An idempotency key makes a retried submission return
the job the first one created. `submit_job` is what the servicer calls: it runs the
transaction on the database thread and announces the job after the commit.
"""

from __future__ import annotations

import json
import logging
import time

from sqlalchemy import Connection, func, insert, select

from common.units import format_ucpt
from server.context import ServerContext
from server.errors import InvalidArgument, NotFound, ResourceExhausted
from server.ids import new_id
from server.jobs.access import Caller, can_read_artifact
from server.jobs.models import JOB_ACTIVE_STATES, JOB_PENDING, TASK_PENDING, JobView
from server.jobs.queries import load_job
from server.jobs.spec import JobRequest, JobSpec, validate_request, worst_case_for
from server.ledger import journal as ledger
from server.ledger import starter
from server.store.schema import artifact_owners, artifacts, jobs, runtimes, tasks

log = logging.getLogger("hivemind.jobs")


def _existing(conn: Connection, owner_id: str, key: str) -> JobView | None:
    if not key:
        return None
    job_id = conn.execute(
        select(jobs.c.id).where(jobs.c.owner_id == owner_id, jobs.c.idempotency_key == key)
    ).scalar()
    return load_job(conn, job_id) if job_id else None


def _check_package_readable(conn: Connection, caller: Caller, spec: JobSpec) -> JobView | None:
    """The job already submitted under this idempotency key, if any; else checks that the
    caller may use the package."""
    existing = _existing(conn, caller.user_id, spec.idempotency_key)
    if existing is not None:
        return existing
    known = conn.execute(
        select(artifacts.c.digest).where(artifacts.c.digest == spec.package_digest)
    ).first()
    if known is None or not can_read_artifact(conn, caller, spec.package_digest):
        raise NotFound(f"package {spec.package_digest} not found: upload it first")
    return None


def _check_runtime(conn: Connection, name: str) -> None:
    known = sorted(conn.execute(select(runtimes.c.name)).scalars())
    if name not in known:
        listing = ", ".join(known) if known else "none yet: an admin adds them"
        raise InvalidArgument(f"unknown runtime {name!r} (known runtimes: {listing})")


def _input_sizes(conn: Connection, caller: Caller, spec: JobSpec) -> dict[str, int]:
    digests = sorted({item.digest for item in spec.inputs})
    if not digests:
        return {}
    sizes: dict[str, int] = {}
    # Chunked: SQLite limits how many parameters one statement may carry.
    for start in range(0, len(digests), 500):
        chunk = digests[start : start + 500]
        query = select(artifacts.c.digest, artifacts.c.size).where(artifacts.c.digest.in_(chunk))
        if not caller.is_admin:
            query = query.join(
                artifact_owners, artifact_owners.c.digest == artifacts.c.digest
            ).where(artifact_owners.c.principal_id == caller.user_id)
        sizes.update(dict(conn.execute(query).all()))
    missing = [digest for digest in digests if digest not in sizes]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise NotFound(f"input {missing[0]}{more} not found: upload inputs first")
    return sizes


def _submit(conn: Connection, caller: Caller, spec: JobSpec, ctx: ServerContext) -> JobView:
    existing = _existing(conn, caller.user_id, spec.idempotency_key)
    if existing is not None:
        return existing
    settings = ctx.settings
    check_active_job_quota(conn, caller.user_id, settings.max_active_jobs_per_user)
    _check_runtime(conn, spec.runtime)
    sizes = _input_sizes(conn, caller, spec)
    res = spec.resources
    worst = worst_case_for(
        settings,
        spec.task_count,
        spec.replicas,
        res,
        spec.priority_permille,
        spec.compare_timeout_s,
    )
    max_cost = spec.max_cost_ucpt or worst
    if max_cost < worst:
        raise InvalidArgument(
            f"max cost {format_ucpt(max_cost)} CPT is below the worst case of this job: "
            f"{format_ucpt(worst)} CPT ({worst} ucpt) is needed"
        )
    funding = starter.escrow_funding(conn, caller.user_id, max_cost)
    now = time.time()
    job_id = new_id("job")
    escrow = ledger.escrow_account_id(conn, job_id)
    conn.execute(
        insert(jobs).values(
            id=job_id,
            owner_id=caller.user_id,
            name=spec.name,
            state=JOB_PENDING,
            runtime=spec.runtime,
            command_json=json.dumps(spec.command),
            compare_json=json.dumps(spec.compare_command) if spec.compare_command else "",
            compare_timeout_s=spec.compare_timeout_s,
            package_digest=spec.package_digest,
            cores=res.cores,
            memory_mb=res.memory_mb,
            disk_mb=res.disk_mb,
            gpus=res.gpus,
            timeout_s=res.timeout_s,
            max_attempts=spec.max_attempts,
            replicas=spec.replicas,
            priority_permille=spec.priority_permille,
            max_cost_ucpt=max_cost,
            cost_ucpt=0,
            refunded_ucpt=0,
            escrow_account_id=escrow,
            starter_funded=funding.starter,
            idempotency_key=spec.idempotency_key or None,
            tasks_total=spec.task_count,
            tasks_done=0,
            tasks_failed=0,
            tasks_cancelled=0,
            created_at=now,
            updated_at=now,
        )
    )
    conn.execute(insert(tasks), _task_rows(job_id, spec, sizes, now))
    if max_cost:
        ledger.post(
            conn,
            idempotency_key=f"escrow:{job_id}",
            reason="escrow",
            entries=[(funding.account_id, -max_cost), (escrow, max_cost)],
            memo=f"budget of job {job_id}",
            job_id=job_id,
        )
    job = load_job(conn, job_id)
    assert job is not None
    return job


def check_active_job_quota(conn: Connection, owner_id: str, limit: int) -> None:
    """Per-user quota on unfinished jobs, so one account cannot flood the queue."""
    active = conn.execute(
        select(func.count())
        .select_from(jobs)
        .where(jobs.c.owner_id == owner_id, jobs.c.state.in_(JOB_ACTIVE_STATES))
    ).scalar()
    if int(active or 0) >= limit:
        raise ResourceExhausted(
            f"too many unfinished jobs: you have {active}, at most {limit} may be pending or"
            " running at once; wait for one to end or cancel one"
        )


def _task_rows(job_id: str, spec: JobSpec, sizes: dict[str, int], now: float) -> list[dict]:
    base = {
        "job_id": job_id,
        "state": TASK_PENDING,
        "attempts": 0,
        "error": "",
        "result_digest": "",
        "result_size": 0,
        "cost_ucpt": 0,
        "log": "",
        "updated_at": now,
    }
    if spec.inputs:
        return [
            {
                **base,
                "id": new_id("task"),
                "idx": index,
                "input_digest": item.digest,
                "input_name": item.name,
                "input_size": sizes[item.digest],
            }
            for index, item in enumerate(spec.inputs)
        ]
    return [
        {
            **base,
            "id": new_id("task"),
            "idx": index,
            "input_digest": "",
            "input_name": "",
            "input_size": 0,
        }
        for index in range(spec.task_count)
    ]


async def submit_job(ctx: ServerContext, caller: Caller, request: JobRequest) -> JobView:
    spec = validate_request(request, ctx.settings)
    existing = await ctx.db.run(_check_package_readable, caller, spec)
    if existing is not None:
        return existing
    # Checked again here, whatever happened at upload: the same bytes may have been
    # uploaded as another kind of artifact, which is not validated as a package.
    await ctx.artifacts.check_package(spec.package_digest)
    job = await ctx.db.run(_submit, caller, spec, ctx)
    log.info(
        "job submitted job=%s owner=%s tasks=%d escrow_ucpt=%d",
        job.job_id,
        job.owner,
        job.tasks_total,
        job.max_cost_ucpt,
    )
    ctx.events.notify(job.job_id, f"job submitted with {job.tasks_total} tasks")
    return job
