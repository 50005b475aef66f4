"""The demo's jobs: an example submitted as `hivemind job submit` would (its hivemind.toml,
replicas, compare and aggregate commands included), waited for, its results downloaded; for
the π job, the estimate its aggregate merged on the network and whose nodes merged it; and,
for the replicated Monte Carlo job, how each task's result was verified and by whom.

Who did what comes only from what each person can see through the API: the submitter's
job (each task's `verification`), each contributor's own worker events (which attempts it
ran, which of them were comparisons) and each contributor's own earnings (which of its
attempts were paid). The server's database is never read.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.demo.server import DemoError
from app.services.client.session import ClientSession
from app.services.jobs.package import JobPackage, JobSpec, PackageError, load_package
from app.services.jobs.results import RESULT_DIR, download_results
from app.services.jobs.states import job_state_name, task_state_name
from app.services.jobs.submission import submit_package
from app.services.worker.events import TASK_FINISHED, TASK_STARTED, WorkerEvent
from proto.hivemind.v1 import account_pb2, common_pb2, job_pb2

JOB_ENDED = {common_pb2.JOB_STATE_DONE, common_pb2.JOB_STATE_FAILED, common_pb2.JOB_STATE_CANCELLED}
TaskProgress = Callable[[int, int], None]  # (tasks done, tasks in all)


@dataclass(frozen=True)
class Example:
    """An example folder and the job its hivemind.toml describes."""

    folder: Path
    spec: JobSpec

    @property
    def label(self) -> str:
        return f"examples/{self.folder.name}"


def load_example(folder: Path, tasks: int | None = None) -> Example:
    """The example at `folder`, with `tasks` (when given) on top of its hivemind.toml."""
    try:
        spec = load_package(folder).spec.with_overrides(tasks=tasks)
    except PackageError as exc:
        raise DemoError(f"{folder}: {exc}") from None
    return Example(folder, spec)


async def submit_example(session: ClientSession, example: Example, workdir: Path) -> job_pb2.Job:
    """Packs, uploads and submits the example with every setting of its hivemind.toml."""
    named = dataclasses.replace(example.spec, name=f"demo-{example.spec.name}")
    package = JobPackage(source=example.folder, spec=example.spec)
    return await submit_package(session, package, named, key_prefix="demo", scratch=workdir)


async def wait_for_job(
    session: ClientSession,
    job_id: str,
    progress: TaskProgress | None,
    timeout_s: float,
    workers: list[asyncio.Task[None]],
) -> job_pb2.Job:
    """Polls the job until it ends; fails early when a worker died (nobody would run it)."""
    deadline = time.monotonic() + timeout_s
    seen = -1
    while True:
        detail = await session.jobs.GetJob(job_pb2.GetJobRequest(job_id=job_id))
        job = detail.job
        if progress and job.tasks_done != seen:
            seen = job.tasks_done
            progress(job.tasks_done, job.tasks_total)
        if job.state in JOB_ENDED:
            return job
        for worker in workers:
            if worker.done() and worker.exception() is not None:
                raise DemoError(f"a worker stopped: {worker.exception()}")
        if time.monotonic() > deadline:
            raise DemoError(
                f"job {job_id} did not finish in {timeout_s:.0f}s ({job.tasks_done} of "
                f"{job.tasks_total} tasks done)"
            )
        await asyncio.sleep(0.3)


def merged_pi(results_dir: Path) -> float:
    """The estimate the π job's aggregate (its merge.py) wrote into the job's result."""
    path = results_dir / RESULT_DIR / "result.json"
    try:
        value = json.loads(path.read_text(encoding="utf-8"))["pi"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DemoError(f"the π job has no merged estimate in {path}: {exc}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DemoError(f"the π job's merged estimate is not a number: {value!r}")
    return float(value)


@dataclass(frozen=True)
class AttemptSeen:
    job_id: str
    task_index: int
    comparison: bool  # judged two results instead of running the task
    finished: bool = False  # the server took the report


class WorkerDiary:
    """What one contributor's worker did, as its events told its owner: a listener for
    `agent.events.subscribe`, called on the agent's loop."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.attempts: dict[str, AttemptSeen] = {}

    def __call__(self, event: WorkerEvent) -> None:
        if event.kind not in (TASK_STARTED, TASK_FINISHED) or not event.attempt_id:
            return
        self.attempts[event.attempt_id] = AttemptSeen(
            event.job_id, event.task_index, event.comparison, event.kind == TASK_FINISHED
        )


async def paid_attempts(
    contributors: Iterable[tuple[ClientSession, WorkerDiary]], job_id: str
) -> list[tuple[str, AttemptSeen, bool]]:
    """(owner, attempt, paid) of every attempt of the job each contributor's worker ran, from
    the worker's own events and the owner's own earnings."""
    found = []
    for session, diary in contributors:
        # The latest payouts (up to 200) come whatever the days asked; the demo has fewer.
        earnings = await session.account.GetEarnings(account_pb2.GetEarningsRequest())
        paid = {p.attempt_id for p in earnings.payouts if p.job_id == job_id}
        for attempt_id, seen in diary.attempts.items():
            if seen.job_id == job_id:
                found.append((diary.owner, seen, attempt_id in paid))
    return found


async def merged_by(
    contributors: Iterable[tuple[ClientSession, WorkerDiary]], job_id: str
) -> list[str]:
    """The owners whose nodes ran the job's aggregate and were paid for it (their results
    agreed: docs/REWARDS.md)."""
    attempts = await paid_attempts(contributors, job_id)
    return sorted(
        {
            owner
            for owner, seen, paid in attempts
            if paid and seen.task_index == -1 and not seen.comparison
        }
    )


@dataclass
class CheckedTask:
    """One task of a replicated job, as the demo shows it."""

    index: int
    state: str
    verification: str  # the Task.verification word: verified, unverified, checking or ""
    estimate: float | None = None  # from the task's result.json
    agreed: list[str] = field(default_factory=list)  # owners whose results were accepted
    compared_by: list[str] = field(default_factory=list)  # owners whose nodes compared them
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "state": self.state,
            "verification": self.verification,
            "estimate": self.estimate,
            "agreed": list(self.agreed),
            "compared_by": list(self.compared_by),
            "error": self.error,
        }


@dataclass
class CheckedJob:
    """The replicated job's summary: its cost and each task's verification."""

    example: str  # examples/<name>
    job_id: str
    job_state: str
    tasks_total: int
    tasks_done: int
    replicas: int
    compare_command: list[str]
    cost_ucpt: int
    refunded_ucpt: int
    tasks: list[CheckedTask]

    @property
    def tasks_verified(self) -> int:
        return sum(1 for task in self.tasks if task.verification == "verified")

    def to_dict(self) -> dict[str, Any]:
        return {
            "example": self.example,
            "job_id": self.job_id,
            "job_state": self.job_state,
            "tasks_total": self.tasks_total,
            "tasks_done": self.tasks_done,
            "tasks_verified": self.tasks_verified,
            "replicas": self.replicas,
            "compare_command": list(self.compare_command),
            "cost_ucpt": self.cost_ucpt,
            "refunded_ucpt": self.refunded_ucpt,
            "tasks": [task.to_dict() for task in self.tasks],
        }


async def check_job(
    submitter: ClientSession,
    job: job_pb2.Job,
    example: Example,
    contributors: Iterable[tuple[ClientSession, WorkerDiary]],
    workdir: Path,
) -> CheckedJob:
    """How each task of the ended job was verified: the submitter's view of its tasks and
    results, joined with each contributor's own worker diary and paid attempts."""
    detail = await submitter.jobs.GetJob(
        job_pb2.GetJobRequest(job_id=job.job_id, include_tasks=True)
    )
    saved = await download_results(submitter, job.job_id, workdir / "results")
    folders = {task.index: task.path for task in saved.tasks if task.result_digest and task.path}
    agreed: dict[int, set[str]] = {}
    compared: dict[int, set[str]] = {}
    for owner, seen, paid in await paid_attempts(contributors, job.job_id):
        if seen.comparison and seen.finished:
            compared.setdefault(seen.task_index, set()).add(owner)
        elif not seen.comparison and paid:
            # Only results that agreed with the accepted one are paid (docs/REWARDS.md).
            agreed.setdefault(seen.task_index, set()).add(owner)
    tasks = []
    for task in sorted(detail.tasks, key=lambda t: t.index):
        folder = folders.get(task.index)
        tasks.append(
            CheckedTask(
                index=task.index,
                state=task_state_name(task.state),
                verification=task.verification,
                estimate=await asyncio.to_thread(_estimate, folder) if folder else None,
                agreed=sorted(agreed.get(task.index, ())),
                compared_by=sorted(compared.get(task.index, ())),
                error=task.error,
            )
        )
    job = detail.job
    return CheckedJob(
        example=example.label,
        job_id=job.job_id,
        job_state=job_state_name(job.state),
        tasks_total=job.tasks_total,
        tasks_done=job.tasks_done,
        replicas=job.replicas,
        compare_command=list(job.compare_command),
        cost_ucpt=job.cost_ucpt,
        refunded_ucpt=job.refunded_ucpt,
        tasks=tasks,
    )


def _estimate(folder: Path) -> float | None:
    """The estimate in a Monte Carlo result's result.json, or None when it has none."""
    try:
        value = json.loads((folder / "result.json").read_text(encoding="utf-8"))["estimate"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return float(value) if isinstance(value, int | float) else None
