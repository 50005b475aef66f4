"""What the desktop app asks the server for, as plain async functions over a ClientSession:
earnings, jobs, estimates, submitting (upload with progress), logs and results. Protobuf stays
here; the views get `app.ui.models` values. No Qt.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from app.services.client.session import ClientSession
from app.services.client.transfer import download_artifact, upload_file
from app.services.jobs.package import archive_for_upload, load_package
from app.services.jobs.states import job_state_name, task_state_name
from app.services.unpack import safe_extract
from app.ui import models
from proto.hivemind.v1 import account_pb2, common_pb2, job_pb2

Progress = Callable[[int, int], None]


async def load_earnings(session: ClientSession, days: int = 30) -> models.EarningsSnapshot:
    balance = await session.account.GetBalance(account_pb2.GetBalanceRequest())
    earnings = await session.account.GetEarnings(account_pb2.GetEarningsRequest(days=days))
    return models.EarningsSnapshot(
        balance_ucpt=balance.balance_ucpt,
        escrow_ucpt=balance.escrow_ucpt,
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
            )
            for p in earnings.payouts
        ),
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
    )


async def list_jobs(session: ClientSession, limit: int = 50) -> list[models.JobRow]:
    reply = await session.jobs.ListJobs(
        job_pb2.ListJobsRequest(page=common_pb2.PageRequest(page_size=limit))
    )
    return [job_row(job) for job in reply.jobs]


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
) -> int:
    """The job's worst case (what submitting escrows); with a compare command it includes
    every comparison its tasks may need."""
    reply = await session.jobs.EstimateCost(
        job_pb2.EstimateCostRequest(
            resources=common_pb2.Resources(cores=cores, memory_mb=memory_mb, timeout_s=timeout_s),
            tasks=tasks,
            replicas=replicas,
            priority=priority,
            compare=compare,
            compare_timeout_s=compare_timeout_s if compare else 0,
        )
    )
    return reply.worst_case_ucpt


async def submit_job(
    session: ClientSession, request: models.JobRequest, scratch: Path, progress: Progress
) -> models.JobRow:
    """Uploads the package (zipped if a folder) and the inputs, then submits. `progress`
    counts bytes over all files."""
    package = await asyncio.to_thread(load_package, request.package_path)
    scratch.mkdir(parents=True, exist_ok=True)
    workdir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="submit-", dir=scratch))
    try:
        archive = await asyncio.to_thread(archive_for_upload, package, workdir)
        files = [Path(archive), *(Path(p) for p in request.input_files)]
        sizes = await asyncio.to_thread(lambda: [f.stat().st_size for f in files])
        total = sum(sizes)
        done_before = 0

        def file_progress(done: int, _size: int) -> None:
            progress(done_before + done, total)

        info = await upload_file(
            session.artifacts,
            archive,
            common_pb2.ARTIFACT_KIND_PACKAGE,
            name=f"{request.name}.zip",
            progress=file_progress,
        )
        done_before += sizes[0]
        inputs = []
        for path, size in zip(files[1:], sizes[1:], strict=True):
            uploaded = await upload_file(
                session.artifacts,
                path,
                common_pb2.ARTIFACT_KIND_INPUT,
                name=path.name,
                progress=file_progress,
            )
            inputs.append(job_pb2.TaskInput(digest=uploaded.digest, name=path.name))
            done_before += size
    finally:
        await asyncio.to_thread(shutil.rmtree, workdir, True)
    job = await session.jobs.SubmitJob(
        job_pb2.SubmitJobRequest(
            name=request.name,
            runtime=request.runtime,
            command=list(request.command),
            package_digest=info.digest,
            task_count=0 if inputs else request.task_count,
            inputs=inputs,
            resources=common_pb2.Resources(
                cores=request.cores,
                memory_mb=request.memory_mb,
                disk_mb=package.spec.disk_mb,
                timeout_s=request.timeout_s,
            ),
            max_attempts=package.spec.max_attempts,
            replicas=request.replicas,
            priority=request.priority,
            max_cost_ucpt=request.max_cost_ucpt,
            compare_command=package.spec.compare_command,
            compare_timeout_s=package.spec.compare_timeout_s or 0,
            # One key per click: a retried call cannot submit (and escrow) twice.
            idempotency_key=f"app-submit:{uuid.uuid4()}",
        )
    )
    return job_row(job)


async def cancel_job(session: ClientSession, job_id: str) -> models.JobRow:
    return job_row(await session.jobs.CancelJob(job_pb2.CancelJobRequest(job_id=job_id)))


async def job_logs(session: ClientSession, job_id: str) -> str:
    """Every task's log, one section per task."""
    reply = await session.jobs.GetResults(job_pb2.GetResultsRequest(job_id=job_id))
    sections = []
    for result in sorted(reply.results, key=lambda r: r.index):
        state = task_state_name(result.state)
        header = f"== task {result.index} ({state}) =="
        body = result.log.rstrip() or "(no output)"
        if result.error:
            body += f"\nerror: {result.error}"
        sections.append(f"{header}\n{body}")
    return "\n\n".join(sections)


async def download_results(session: ClientSession, job_id: str, folder: Path) -> int:
    """Saves each done task's output into `folder/<task index>/` with its log.txt; returns
    how many tasks had results."""
    reply = await session.jobs.GetResults(job_pb2.GetResultsRequest(job_id=job_id))
    saved = 0
    staging = folder / ".hivemind-downloads"
    for result in reply.results:
        target = folder / str(result.index)
        if result.result_digest:
            zip_path = staging / f"{result.result_digest}.zip"
            await download_artifact(session.artifacts, result.result_digest, zip_path)
            await asyncio.to_thread(_replace_dir, target)
            await asyncio.to_thread(safe_extract, zip_path, target)
            saved += 1
        else:
            await asyncio.to_thread(target.mkdir, parents=True, exist_ok=True)
        if result.log:
            # A task may have written its own log.txt: keep theirs, put ours beside it.
            log_path = target / "log.txt"
            if await asyncio.to_thread(log_path.exists):
                log_path = target / "hivemind-log.txt"
            await asyncio.to_thread(log_path.write_text, result.log, "utf-8")
    await asyncio.to_thread(shutil.rmtree, staging, True)
    return saved


def _replace_dir(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)
