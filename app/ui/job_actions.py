"""What the desktop app asks the server for, as plain async functions over a ClientSession:
earnings, jobs, estimates, submitting (upload with progress), logs and results. Protobuf stays
here; the views get `app.ui.models` values. No Qt.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from pathlib import Path

from app.services.client.session import ClientSession
from app.services.jobs import results
from app.services.jobs.package import load_package
from app.services.jobs.states import job_state_name, round_state_name, task_state_name
from app.services.jobs.submission import submit_package
from app.services.unpack import UnsafeArchive
from app.ui import models
from proto.hivemind.v1 import account_pb2, common_pb2, job_pb2

Progress = Callable[[int, int], None]


async def load_earnings(
    session: ClientSession, days: int = 30, time_zone: str = ""
) -> models.EarningsSnapshot:
    """Balance and earnings; the days (and "today") run midnight to midnight in `time_zone`
    (an IANA name, this computer's), when the server knows it."""
    balance = await session.account.GetBalance(account_pb2.GetBalanceRequest())
    earnings = await session.account.GetEarnings(
        account_pb2.GetEarningsRequest(days=days, time_zone=time_zone)
    )
    return models.EarningsSnapshot(
        balance_ucpt=balance.balance_ucpt,
        escrow_ucpt=balance.escrow_ucpt,
        starter_ucpt=balance.starter_ucpt,
        today_ucpt=earnings.today_ucpt,
        week_ucpt=earnings.week_ucpt,
        month_ucpt=earnings.month_ucpt,
        days=tuple((d.day, d.amount_ucpt) for d in earnings.days),
        payouts=tuple(
            models.PayoutRow(
                at=p.created_at,
                job_id=p.job_id,
                core_seconds=p.core_ms / 1000,
                base_ucpt=p.base_ucpt,
                bonus_ucpt=p.bonus_ucpt,
                amount_ucpt=p.amount_ucpt,
                job_name=p.job_name,
                # An older server sends neither: its "0" is no task index.
                task_index=p.task_index if p.job_name or p.task_index else -1,
            )
            for p in earnings.payouts
        ),
        time_zone=earnings.time_zone or "UTC",
    )


def job_row(job: job_pb2.Job) -> models.JobRow:
    return models.JobRow(
        job_id=job.job_id,
        name=job.name,
        state=job_state_name(job.state),
        tasks_total=job.tasks_total,
        tasks_done=job.tasks_done,
        tasks_failed=job.tasks_failed,
        cost_ucpt=job.cost_ucpt,
        max_cost_ucpt=job.max_cost_ucpt,
        created_at=job.created_at,
        compare_command=tuple(job.compare_command),
        compare_timeout_s=job.compare_timeout_s,
        rounds=job.rounds or 1,
        current_round=job.current_round,
        aggregate_command=tuple(job.aggregate_command),
        gpus=job.resources.gpus,
    )


async def load_rounds(session: ClientSession, job_id: str) -> list[models.RoundRow]:
    """The rounds of a job with rounds so far, each with its aggregate's metrics."""
    reply = await session.jobs.GetJob(job_pb2.GetJobRequest(job_id=job_id))
    return [
        models.RoundRow(
            round=found.round,
            state=round_state_name(found.state),
            metrics=tuple(sorted(found.metrics.items())),
        )
        for found in reply.rounds
    ]


async def list_jobs(session: ClientSession, limit: int = 50) -> list[models.JobRow]:
    reply = await session.jobs.ListJobs(
        job_pb2.ListJobsRequest(page=common_pb2.PageRequest(page_size=limit))
    )
    rows = [job_row(job) for job in reply.jobs]
    # A job that needs a GPU may wait for a node that lends one: ask the server why it waits
    # (one call per unfinished GPU job; the others never wait for a resource).
    for i, row in enumerate(rows):
        if row.gpus > 0 and not row.finished:
            detail = await session.jobs.GetJob(job_pb2.GetJobRequest(job_id=row.job_id))
            rows[i] = dataclasses.replace(row, waiting=detail.waiting)
    return rows


async def estimate_cost(
    session: ClientSession,
    *,
    cores: int,
    memory_mb: int,
    timeout_s: int,
    tasks: int,
    replicas: int,
    priority: float,
    compare: bool = False,
    compare_timeout_s: int = 0,
    rounds: int = 1,
    aggregate: bool = False,
    gpus: int = 0,
) -> models.CostEstimate:
    """The job's worst case (what submitting escrows); with a compare command it includes
    every comparison its tasks may need, with rounds every round and its aggregate, with
    GPUs their time. Also which balance would hold it."""
    reply = await session.jobs.EstimateCost(
        job_pb2.EstimateCostRequest(
            resources=common_pb2.Resources(
                cores=cores, memory_mb=memory_mb, timeout_s=timeout_s, gpus=gpus
            ),
            tasks=tasks,
            replicas=replicas,
            priority=priority,
            compare=compare,
            compare_timeout_s=compare_timeout_s if compare else 0,
            rounds=rounds,
            aggregate=aggregate,
        )
    )
    return models.CostEstimate(reply.worst_case_ucpt, reply.funded_from)


async def submit_job(
    session: ClientSession, request: models.JobRequest, scratch: Path, progress: Progress
) -> models.JobRow:
    """Submits the package with the form's settings on top of its hivemind.toml (the others,
    such as gpus, disk and compare, come from the file). `progress` counts bytes over all
    uploaded files."""
    package = await asyncio.to_thread(load_package, request.package_path)
    spec = package.spec.with_overrides(
        name=request.name,
        runtime=request.runtime,
        command=list(request.command),
        tasks=request.task_count,
        cores=request.cores,
        memory_mb=request.memory_mb,
        timeout_s=request.timeout_s,
        replicas=request.replicas,
        priority=request.priority,
        max_cost_ucpt=request.max_cost_ucpt,
    )

    def over_all_files(_label: str, before: int, total: int) -> Progress:
        return lambda done, _size: progress(before + done, total)

    job = await submit_package(
        session,
        package,
        spec,
        [Path(p) for p in request.input_files],
        key_prefix="app-submit",  # one key per click: a retry cannot submit (and escrow) twice
        scratch=scratch,
        progress=over_all_files,
    )
    return job_row(job)


async def cancel_job(session: ClientSession, job_id: str) -> models.JobRow:
    return job_row(await session.jobs.CancelJob(job_pb2.CancelJobRequest(job_id=job_id)))


async def job_logs(session: ClientSession, job_id: str) -> list[models.TaskLog]:
    """Every task's log, by task index (the log window words the sections)."""
    reply = await session.jobs.GetResults(job_pb2.GetResultsRequest(job_id=job_id))
    return [
        models.TaskLog(
            result.index,
            task_state_name(result.state),
            result.log,
            result.error,
            round=result.round if reply.job.aggregate_command else None,
            aggregate=result.aggregate,
        )
        for result in sorted(reply.results, key=lambda r: (r.round, r.aggregate, r.index))
    ]


async def download_results(session: ClientSession, job_id: str, folder: Path) -> int:
    """Saves each ended task into `folder/<task index>/` (its output, log.txt, error.txt), or
    a job with rounds' result into `folder/result/`; returns how many folders were saved.
    UnsafeArchive names the tasks whose result was not unpacked."""
    saved = await results.download_results(session, job_id, folder)
    if saved.refused:
        raise UnsafeArchive(
            "; ".join(
                f"task {task.index}: result not unpacked: {task.error}" for task in saved.refused
            )
        )
    return saved.saved
