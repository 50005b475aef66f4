"""Submitting a job: its spec checked, its package, inputs and runtime found, its budget
held in escrow.

Submitting moves the job's budget (its max cost) from the submitter's CPT, or when that is
short from their starter credit (server/ledger/starter.py), into the job's escrow account in
the same transaction that creates the job: either all of it happens or nothing does. An
idempotency key makes a retried submission return the job the first one created.
`submit_job` is what the servicer calls: it runs the transactions on the database thread and
announces the job after the commit.

Creating tasks costs the server whether they ever run, so it is paid for and spread out:
- Each user may create `free_tasks_per_hour` tasks per hour for nothing; each task beyond
  costs `task_fee_ucpt`, taken with the escrow (from the same balance) and never refunded,
  cancelled or not. An honest job pays a fraction of a percent of its cost; a loop
  submitting and cancelling huge jobs runs out of money.
- A job of more than `submit_batch_tasks` tasks is created as `submitting`, its tasks in
  batches of that many, each its own short transaction, so other users' calls run between; it
  becomes `pending` (leasable) once the last batch is in. A submission cut short (a crash)
  is finished by a retry with the same idempotency key, or cancelled and refunded by the
  housekeeping (server/jobs/lifecycle.py).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, select, update

from common.units import format_ucpt
from server.config import ServerSettings
from server.context import ServerContext
from server.errors import InvalidArgument, NotFound, ResourceExhausted
from server.ids import new_id
from server.jobs.access import Caller, can_read_artifact
from server.jobs.models import (
    JOB_PENDING,
    JOB_SUBMITTING,
    JOB_UNFINISHED_STATES,
    TASK_PENDING,
    JobView,
)
from server.jobs.queries import load_job
from server.jobs.rounds import start_round
from server.jobs.spec import JobRequest, JobSpec, validate_request, worst_case_for
from server.ledger import journal as ledger
from server.ledger import starter
from server.store.bulk import execute_many
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
        raise InvalidArgument(
            f"unknown runtime {name!r} (known runtimes: {listing})",
            reason="UNKNOWN_RUNTIME",
            runtime=name,
            known=", ".join(known),
        )


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


HOUR_S = 3600.0


@dataclass(frozen=True)
class Submitted:
    job: JobView
    sizes: dict[str, int]  # input digest -> size, for the batches still to create


def submission_fee(
    conn: Connection, owner_id: str, task_count: int, settings: ServerSettings, now: float
) -> int:
    """The fee for creating `task_count` more tasks: nothing within what the owner may still
    create for free this hour (every job created in it counts, cancelled or not)."""
    if settings.task_fee_ucpt <= 0:
        return 0
    recent = conn.execute(
        select(func.coalesce(func.sum(jobs.c.tasks_total), 0)).where(
            jobs.c.owner_id == owner_id, jobs.c.created_at > now - HOUR_S
        )
    ).scalar()
    free = max(settings.free_tasks_per_hour - int(recent or 0), 0)
    return max(task_count - free, 0) * settings.task_fee_ucpt


def _submit(
    conn: Connection, caller: Caller, spec: JobSpec, ctx: ServerContext, now: float
) -> Submitted:
    existing = _existing(conn, caller.user_id, spec.idempotency_key)
    if existing is not None:
        return Submitted(existing, _input_sizes(conn, caller, spec))
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
        spec.rounds,
        bool(spec.aggregate_command),
    )
    max_cost = spec.max_cost_ucpt or worst
    if max_cost < worst:
        raise InvalidArgument(
            f"max cost {format_ucpt(max_cost)} CPT is below the worst case of this job: "
            f"{format_ucpt(worst)} CPT ({worst} ucpt) is needed",
            reason="MAX_COST_TOO_LOW",
            max_cost_ucpt=max_cost,
            worst_case_ucpt=worst,
        )
    fee = submission_fee(conn, caller.user_id, spec.task_count, settings, now)
    needs = f"this job needs {format_ucpt(max_cost)} CPT in escrow"
    if fee:
        needs += (
            f" and a fee of {format_ucpt(fee)} CPT for its tasks beyond the"
            f" {settings.free_tasks_per_hour} a user may create per hour for free"
        )
    funding = starter.escrow_funding(conn, caller.user_id, max_cost + fee, needs)
    job_id = new_id("job")
    escrow = ledger.escrow_account_id(conn, job_id)
    first_batch = min(spec.task_count, _batch(settings))
    conn.execute(
        insert(jobs).values(
            id=job_id,
            owner_id=caller.user_id,
            name=spec.name,
            state=JOB_PENDING if first_batch == spec.task_count else JOB_SUBMITTING,
            runtime=spec.runtime,
            command_json=json.dumps(spec.command),
            compare_json=json.dumps(spec.compare_command) if spec.compare_command else "",
            compare_timeout_s=spec.compare_timeout_s,
            rounds=spec.rounds,
            aggregate_json=json.dumps(spec.aggregate_command) if spec.aggregate_command else "",
            min_results=spec.min_results,
            round_deadline_s=spec.round_deadline_s,
            round_tasks=spec.task_count,
            current_round=0,
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
            tasks_total=spec.tasks_total,
            tasks_done=0,
            tasks_failed=0,
            tasks_cancelled=0,
            created_at=now,
            updated_at=now,
            network=caller.network,  # its work earns no trust to nodes of that network
        )
    )
    execute_many(conn, INSERT_TASK, _task_rows(job_id, spec, sizes, now, 0, first_batch))
    if fee:
        ledger.post(
            conn,
            idempotency_key=f"fee:{job_id}",
            reason="fee",
            entries=[(funding.account_id, -fee), (ledger.fees_account_id(conn), fee)],
            memo=f"creating the tasks of job {job_id}",
            job_id=job_id,
        )
    if spec.aggregate_command:
        start_round(conn, job_id, 0, "", now)
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
    return Submitted(job, sizes)


def _batch(settings: ServerSettings) -> int:
    return max(int(settings.submit_batch_tasks), 1)


INSERT_TASK = insert(tasks)


def _add_task_batch(
    conn: Connection, job_id: str, spec: JobSpec, sizes: dict[str, int], batch: int, now: float
) -> bool:
    """Creates the next batch of a submitting job's tasks; True once there is nothing more
    to create (all are in, and the job is pending; or it was cancelled meanwhile)."""
    state = conn.execute(select(jobs.c.state).where(jobs.c.id == job_id)).scalar()
    if state != JOB_SUBMITTING:
        return True
    last = conn.execute(select(func.max(tasks.c.idx)).where(tasks.c.job_id == job_id)).scalar()
    start = 0 if last is None else int(last) + 1
    stop = min(start + batch, spec.task_count)
    if start < stop:
        execute_many(conn, INSERT_TASK, _task_rows(job_id, spec, sizes, now, start, stop))
    done = stop >= spec.task_count
    conn.execute(
        update(jobs)
        .where(jobs.c.id == job_id)
        .values(state=JOB_PENDING if done else JOB_SUBMITTING, updated_at=now)
    )
    return done


async def _create_remaining_tasks(
    ctx: ServerContext, job_id: str, spec: JobSpec, sizes: dict[str, int]
) -> JobView:
    batch = _batch(ctx.settings)
    while not await ctx.db.run(_add_task_batch, job_id, spec, sizes, batch, time.time()):
        pass
    job = await ctx.db.run(load_job, job_id)
    assert job is not None
    return job


def check_active_job_quota(conn: Connection, owner_id: str, limit: int) -> None:
    """Per-user quota on unfinished jobs, so one account cannot flood the queue."""
    active = conn.execute(
        select(func.count())
        .select_from(jobs)
        .where(jobs.c.owner_id == owner_id, jobs.c.state.in_(JOB_UNFINISHED_STATES))
    ).scalar()
    if int(active or 0) >= limit:
        raise ResourceExhausted(
            f"too many unfinished jobs: you have {active}, at most {limit} may be pending or"
            " running at once; wait for one to end or cancel one",
            reason="TOO_MANY_ACTIVE_JOBS",
            limit=limit,
        )


def _task_rows(
    job_id: str, spec: JobSpec, sizes: dict[str, int], now: float, start: int, stop: int
) -> list[dict]:
    base = {
        "job_id": job_id,
        "round": 0,
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
                "input_digest": spec.inputs[index].digest,
                "input_name": spec.inputs[index].name,
                "input_size": sizes[spec.inputs[index].digest],
            }
            for index in range(start, stop)
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
        for index in range(start, stop)
    ]


async def submit_job(ctx: ServerContext, caller: Caller, request: JobRequest) -> JobView:
    spec = validate_request(request, ctx.settings)
    existing = await ctx.db.run(_check_package_readable, caller, spec)
    if existing is not None:
        if existing.state == JOB_SUBMITTING:  # a retry of a submission cut short: finish it
            sizes = await ctx.db.run(_input_sizes, caller, spec)
            return await _create_remaining_tasks(ctx, existing.job_id, spec, sizes)
        return existing
    # Checked again here, whatever happened at upload: the same bytes may have been
    # uploaded as another kind of artifact, which is not validated as a package.
    await ctx.artifacts.check_package(spec.package_digest)
    submitted = await ctx.db.run(_submit, caller, spec, ctx, time.time())
    job = submitted.job
    if job.state == JOB_SUBMITTING:
        job = await _create_remaining_tasks(ctx, job.job_id, spec, submitted.sizes)
    log.info(
        "job submitted job=%s owner=%s tasks=%d escrow_ucpt=%d",
        job.job_id,
        job.owner,
        job.tasks_total,
        job.max_cost_ucpt,
    )
    ctx.events.notify(job.job_id, f"job submitted with {job.tasks_total} tasks")
    ctx.events.offer_work(job.tasks_total)  # idle workers waiting in LeaseTasks
    return job
