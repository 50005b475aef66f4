"""Reading jobs: one job, a page of jobs, a job's tasks and results.

A user sees only their own jobs (admins see all); someone else's job is reported as not
found, so job ids of other users cannot be probed. The async functions at the end are what
the servicer calls (each read in one transaction on the database thread).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from dataclasses import dataclass, replace

from sqlalchemy import Connection, Select, and_, func, or_, select

from server.context import ServerContext
from server.errors import InvalidArgument, NotFound, PermissionDenied
from server.jobs.access import Caller
from server.jobs.models import TASK_IN_FLIGHT_STATES, JobView, TaskView
from server.jobs.rounds import RoundView, load_rounds, round_views
from server.store.schema import jobs, result_checks, tasks, users

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
# GetResults answers in one message; beyond this many bytes of logs, later logs are cut.
RESULTS_LOG_BUDGET = 3 * 1024 * 1024


def _running_counts(conn: Connection, job_ids: list[str]) -> dict[str, int]:
    if not job_ids:
        return {}
    rows = conn.execute(
        select(tasks.c.job_id, func.count())
        .where(tasks.c.state.in_(TASK_IN_FLIGHT_STATES), tasks.c.job_id.in_(job_ids))
        .group_by(tasks.c.job_id)
    ).all()
    return {job_id: int(count) for job_id, count in rows}


def _views(conn: Connection, rows: list) -> list[JobView]:
    running = _running_counts(conn, [row.id for row in rows])
    return [JobView.from_row(row, row.username, running.get(row.id, 0)) for row in rows]


def _job_select() -> Select:
    return select(jobs, users.c.username).join(users, users.c.id == jobs.c.owner_id)


def load_job(conn: Connection, job_id: str) -> JobView | None:
    """The job, whoever owns it (for domain code; callers check access)."""
    row = conn.execute(_job_select().where(jobs.c.id == job_id)).first()
    return _views(conn, [row])[0] if row else None


def job_for(conn: Connection, caller: Caller, job_id: str) -> JobView:
    """The job if the caller may see it (owner or admin), else NotFound."""
    job = load_job(conn, job_id) if job_id else None
    if job is None or (job.owner_id != caller.user_id and not caller.is_admin):
        raise NotFound(f"no job {job_id!r}")
    return job


def job_tasks(
    conn: Connection,
    job_id: str,
    with_logs: bool = False,
    since: float | None = None,
    round_index: int | None = None,
) -> list[TaskView]:
    """The job's tasks (of one round when given), by round and index: a round's aggregate
    (index -1) comes before its tasks."""
    query = select(tasks).where(tasks.c.job_id == job_id).order_by(tasks.c.round, tasks.c.idx)
    if since is not None:
        query = query.where(tasks.c.updated_at >= since)
    if round_index is not None:
        query = query.where(tasks.c.round == round_index)
    views = [TaskView.from_row(row, with_logs) for row in conn.execute(query)]
    return _with_verification(conn, job_id, views) if views else views


def job_task_page(conn: Connection, job_id: str, offset: int, limit: int) -> list[TaskView]:
    """A page of the job's tasks by round and index (what a screen shows of a big job)."""
    if offset < 0 or limit < 1:
        raise InvalidArgument("a page starts at 0 and holds at least one task")
    query = (
        select(tasks)
        .where(tasks.c.job_id == job_id)
        .order_by(tasks.c.round, tasks.c.idx)
        .offset(offset)
        .limit(min(limit, MAX_PAGE_SIZE))
    )
    views = [TaskView.from_row(row) for row in conn.execute(query)]
    return _with_verification(conn, job_id, views, [view.task_id for view in views])


def task_view(
    conn: Connection, job_id: str, index: int, round_index: int = 0, with_log: bool = False
) -> TaskView:
    """One task of the job by round and index (-1: the round's aggregate), with how its
    result was checked; NotFound if none."""
    row = conn.execute(
        select(tasks).where(
            tasks.c.job_id == job_id, tasks.c.round == round_index, tasks.c.idx == index
        )
    ).first()
    if row is None:
        where = f" in round {round_index}" if round_index else ""
        raise NotFound(f"job {job_id} has no task {index}{where}")
    view = TaskView.from_row(row, with_log)
    return _with_verification(conn, job_id, [view], [view.task_id])[0]


def _with_verification(
    conn: Connection, job_id: str, views: list[TaskView], task_ids: list[str] | None = None
) -> list[TaskView]:
    """How each task's accepted result was checked (its result_checks row): verified by a
    quorum or a spot check, taken unverified, or still being checked. With `task_ids`, only
    those tasks are looked up (a page of a big job)."""
    if not views:
        return views
    accepted_query = (
        select(tasks.c.id, result_checks.c.status)
        .join(result_checks, result_checks.c.attempt_id == tasks.c.accepted_attempt_id)
        .where(tasks.c.job_id == job_id)
    )
    checking_query = select(result_checks.c.task_id).where(
        result_checks.c.job_id == job_id, result_checks.c.status == "pending"
    )
    if task_ids is not None:
        accepted_query = accepted_query.where(tasks.c.id.in_(task_ids))
        checking_query = checking_query.where(result_checks.c.task_id.in_(task_ids))
    accepted = dict(conn.execute(accepted_query).all())
    checking = set(conn.execute(checking_query).scalars())
    words = {"valid": "verified", "unverified": "unverified"}
    return [
        replace(view, verification=words.get(accepted.get(view.task_id, ""), ""))
        if view.task_id in accepted
        else replace(view, verification="checking")
        if view.task_id in checking and view.state not in ("failed", "cancelled")
        else view
        for view in views
    ]


@dataclass(frozen=True)
class JobPage:
    jobs: list[JobView]
    next_page_token: str


def _encode_token(created_at: float, job_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at!r}|{job_id}".encode()).decode()


def _decode_token(token: str) -> tuple[float, str]:
    try:
        created, _, job_id = base64.urlsafe_b64decode(token.encode()).decode().partition("|")
        return float(created), job_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidArgument("invalid page token (start again from the first page)") from None


def list_jobs(
    conn: Connection, caller: Caller, page_size: int, page_token: str, all_users: bool
) -> JobPage:
    """The caller's jobs, newest first; `all_users` (admins only) lists everyone's."""
    if page_size < 0:
        raise InvalidArgument("page size must not be negative")
    size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    query = _job_select()
    if all_users:
        if not caller.is_admin:
            raise PermissionDenied("listing every user's jobs needs the admin role")
    else:
        query = query.where(jobs.c.owner_id == caller.user_id)
    if page_token:
        created_at, job_id = _decode_token(page_token)
        query = query.where(
            or_(
                jobs.c.created_at < created_at,
                and_(jobs.c.created_at == created_at, jobs.c.id < job_id),
            )
        )
    rows = conn.execute(
        query.order_by(jobs.c.created_at.desc(), jobs.c.id.desc()).limit(size + 1)
    ).all()
    views = _views(conn, rows[:size])
    token = _encode_token(rows[size - 1].created_at, rows[size - 1].id) if len(rows) > size else ""
    return JobPage(views, token)


@dataclass(frozen=True)
class JobDetail:
    job: JobView
    tasks: list[TaskView]  # when asked for
    rounds: list[RoundView]  # a job with rounds: every round so far


async def get_job(
    ctx: ServerContext, caller: Caller, job_id: str, include_tasks: bool = False
) -> JobDetail:
    def read(conn: Connection) -> tuple[JobView, list[TaskView], list]:
        job = job_for(conn, caller, job_id)
        rounds = load_rounds(conn, job_id) if job.has_rounds else []
        return job, job_tasks(conn, job_id) if include_tasks else [], rounds

    job, task_views, round_rows = await ctx.db.run(read)
    # The metrics are read from the stored aggregate outputs, off the event loop.
    views = []
    if round_rows:
        views = await asyncio.to_thread(round_views, round_rows, ctx.artifacts.path_for)
    return JobDetail(job, task_views, views)


async def list_my_jobs(
    ctx: ServerContext, caller: Caller, page_size: int, page_token: str, all_users: bool
) -> JobPage:
    return await ctx.db.run(list_jobs, caller, page_size, page_token, all_users)


@dataclass(frozen=True)
class JobResults:
    job: JobView
    tasks: list[TaskView]  # with logs; of a job with rounds, its current round's


async def job_results(ctx: ServerContext, caller: Caller, job_id: str) -> JobResults:
    def read(conn: Connection) -> JobResults:
        job = job_for(conn, caller, job_id)
        # A job with rounds: the round it is in (or ended in), whose aggregate's output is,
        # once the last round is done, the job's result.
        in_round = job.current_round if job.has_rounds else None
        views = job_tasks(conn, job_id, with_logs=True, round_index=in_round)
        return JobResults(job, _within_log_budget(views))

    return await ctx.db.run(read)


def _within_log_budget(views: list[TaskView]) -> list[TaskView]:
    budget = RESULTS_LOG_BUDGET
    kept: list[TaskView] = []
    for view in views:
        size = len(view.log)
        if size > budget:
            note = "[log left out: the answer is too large; download the results instead]"
            view = TaskView(**{**view.__dict__, "log": note})
            size = len(note)
        budget -= size
        kept.append(view)
    return kept
