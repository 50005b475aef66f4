"""A job as its owner looks into it (the dashboard's job pages): the job with a page of its
tasks, and one task with every attempt at it (which node ran it, how it ended, how its result
was checked, what it was paid) and its log.

An attempt compares two results instead of running the task when its job has a compare
command (server/validation/comparisons.py); it is listed too, as a comparison.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from server.context import ServerContext
from server.jobs.access import Caller
from server.jobs.models import JobView, TaskView
from server.jobs.queries import job_for, job_task_page, task_view
from server.jobs.rounds import RoundView, load_rounds, round_views
from server.store.schema import attempts, nodes, payouts, result_checks

TASKS_PER_PAGE = 100


@dataclass(frozen=True)
class JobTaskPage:
    job: JobView
    tasks: list[TaskView]  # by round and index, from `offset`
    offset: int
    limit: int
    rounds: list[RoundView] = field(default_factory=list)  # a job with rounds: each so far

    @property
    def tasks_pending(self) -> int:
        job = self.job
        ended = job.tasks_done + job.tasks_failed + job.tasks_cancelled
        return max(job.tasks_total - ended - job.tasks_running, 0)


async def job_task_page_for(
    ctx: ServerContext, caller: Caller, job_id: str, offset: int = 0, limit: int = TASKS_PER_PAGE
) -> JobTaskPage:
    """NotFound unless the caller may see the job (its owner, or an admin)."""

    def read(conn: Connection) -> tuple[JobTaskPage, list]:
        job = job_for(conn, caller, job_id)
        page = JobTaskPage(job, job_task_page(conn, job_id, offset, limit), offset, limit)
        return page, load_rounds(conn, job_id) if job.has_rounds else []

    page, round_rows = await ctx.db.run(read)
    if not round_rows:
        return page
    # Each round's metrics come from its stored aggregate output: read off the event loop.
    views = await asyncio.to_thread(round_views, round_rows, ctx.artifacts.path_for)
    return JobTaskPage(page.job, page.tasks, offset, limit, views)


@dataclass(frozen=True)
class AttemptView:
    attempt_id: str
    node_id: str
    node_name: str
    state: str  # leased running done failed expired cancelled
    leased_at: float
    started_at: float | None
    finished_at: float | None
    exit_code: int | None
    error: str
    result_digest: str
    result_size: int
    wall_seconds: float
    check: str  # the result's check: pending valid unverified invalid inconclusive discarded
    paid_ucpt: int
    comparison: bool


@dataclass(frozen=True)
class TaskDetail:
    job: JobView
    task: TaskView  # with its log
    attempts: list[AttemptView]  # oldest first


def task_attempts(conn: Connection, task_id: str) -> list[AttemptView]:
    rows = conn.execute(
        select(
            attempts,
            nodes.c.name.label("node_name"),
            result_checks.c.status.label("check_status"),
            payouts.c.amount_ucpt.label("paid"),
        )
        .select_from(
            attempts.outerjoin(nodes, nodes.c.id == attempts.c.node_id)
            .outerjoin(result_checks, result_checks.c.attempt_id == attempts.c.id)
            .outerjoin(payouts, payouts.c.attempt_id == attempts.c.id)
        )
        .where(attempts.c.task_id == task_id)
        .order_by(attempts.c.leased_at, attempts.c.id)
    ).all()
    return [
        AttemptView(
            attempt_id=row.id,
            node_id=row.node_id,
            node_name=row.node_name or "",
            state=row.state,
            leased_at=float(row.leased_at),
            started_at=row.started_at,
            finished_at=row.finished_at,
            exit_code=row.exit_code,
            error=row.error or "",
            result_digest=row.result_digest or "",
            result_size=int(row.result_size or 0),
            wall_seconds=float(row.wall_seconds or 0.0),
            check=row.check_status or "",
            paid_ucpt=int(row.paid or 0),
            comparison=bool(row.comparison_id),
        )
        for row in rows
    ]


def read_task_detail(
    conn: Connection, caller: Caller, job_id: str, index: int, round_index: int = 0
) -> TaskDetail:
    """NotFound unless the caller may see the job (its owner, or an admin) and it has the task."""
    job = job_for(conn, caller, job_id)
    task = task_view(conn, job_id, index, round_index, with_log=True)
    return TaskDetail(job, task, task_attempts(conn, task.task_id))


async def task_detail(
    ctx: ServerContext, caller: Caller, job_id: str, index: int, round_index: int = 0
) -> TaskDetail:
    return await ctx.db.run(read_task_detail, caller, job_id, index, round_index)
