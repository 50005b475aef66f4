"""A submitter's jobs: the list, a job with its tasks (live), a task with its attempts and
log, a task's result to download, and cancelling. Someone else's job is not found (404),
exactly as over gRPC; an admin sees every job."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from common.units import format_ucpt
from server.errors import NotFound
from server.jobs import detail, lifecycle, queries
from server.jobs.models import TaskView
from server.web.site import page, site_of, visitor_of
from server.web.visitors import act, signed_in

JOBS_PER_PAGE = 50


def _index(request: web.Request) -> int:
    text = request.match_info["index"]
    if not text.lstrip("-").isdigit() or len(text) > 9:
        raise NotFound(f"no task {text!r}")
    return int(text)


def _round(request: web.Request) -> int:
    text = request.query.get("round", "0")
    if not text.isdigit() or len(text) > 6:
        raise NotFound(f"no round {text!r}")
    return int(text)


def _offset(request: web.Request) -> int:
    text = request.query.get("from", "0")
    return int(text) if text.isdigit() and len(text) <= 9 else 0


async def _list_values(request: web.Request, all_users: bool) -> dict[str, Any]:
    visitor = visitor_of(request)
    token = request.query.get("page", "")
    listing = await queries.list_my_jobs(
        site_of(request).ctx, visitor.caller, JOBS_PER_PAGE, token, all_users
    )
    return {"jobs": listing.jobs, "next_page": listing.next_page_token, "page_token": token}


@signed_in
async def my_jobs(request: web.Request) -> web.Response:
    return page(request, "jobs.html", **await _list_values(request, False))


@signed_in
async def my_jobs_live(request: web.Request) -> web.Response:
    return page(request, "jobs_live.html", **await _list_values(request, False))


async def _job_values(request: web.Request) -> dict[str, Any]:
    job_page = await detail.job_task_page_for(
        site_of(request).ctx,
        visitor_of(request).caller,
        request.match_info["job_id"],
        _offset(request),
    )
    return {"page": job_page, "job": job_page.job}


@signed_in
async def job(request: web.Request) -> web.Response:
    return page(request, "job.html", **await _job_values(request))


@signed_in
async def job_live(request: web.Request) -> web.Response:
    return page(request, "job_live.html", **await _job_values(request))


@signed_in
async def cancel(request: web.Request) -> web.Response:
    job_id = request.match_info["job_id"]
    visitor = visitor_of(request)

    async def cancel_now() -> str:
        job = await lifecycle.cancel_job(site_of(request).ctx, visitor.caller, job_id)
        return str(
            visitor.translator.gettext(
                "Job cancelled; %(cpt)s CPT of its budget went back to its owner.",
                cpt=format_ucpt(job.refunded_ucpt),
            )
        )

    return await act(request, f"/jobs/{job_id}", cancel_now)


@signed_in
async def task(request: web.Request) -> web.Response:
    found = await detail.task_detail(
        site_of(request).ctx,
        visitor_of(request).caller,
        request.match_info["job_id"],
        _index(request),
        _round(request),
    )
    return page(request, "task.html", detail=found, job=found.job, task=found.task)


@signed_in
async def task_result(request: web.Request) -> web.StreamResponse:
    """The task's result zip, streamed from the artifact store as gRPC's Download does."""
    site = site_of(request)
    caller = visitor_of(request).caller
    found = await detail.task_detail(
        site.ctx, caller, request.match_info["job_id"], _index(request)
    )
    digest = found.task.result_digest
    if found.task.state != "done" or not digest:
        raise NotFound(f"task {found.task.index} has no accepted result yet")
    record, chunks = await site.ctx.artifacts.download(caller, digest)
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/zip",
            "Content-Disposition": (
                f'attachment; filename="{_file_name(found.job.job_id, found.task)}"'
            ),
            "Content-Length": str(record.size),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
        }
    )
    await response.prepare(request)
    async for data in chunks:
        await response.write(data)
    await response.write_eof()
    return response


@signed_in
async def task_log(request: web.Request) -> web.Response:
    found = await detail.task_detail(
        site_of(request).ctx,
        visitor_of(request).caller,
        request.match_info["job_id"],
        _index(request),
        _round(request),
    )
    return web.Response(
        text=found.task.log,
        content_type="text/plain",
        charset="utf-8",
        headers={
            "Content-Disposition": (
                f'inline; filename="{_file_name(found.job.job_id, found.task, "log.txt")}"'
            )
        },
    )


def _file_name(job_id: str, task: TaskView, suffix: str = "result.zip") -> str:
    # Ids are ours (letters, digits, '-', '_'): safe inside a quoted header value.
    what = "aggregate" if task.aggregate else f"task-{task.index}"
    return f"{job_id}-{f'round-{task.round}-' if task.round else ''}{what}-{suffix}"


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/jobs", my_jobs)
    router.add_get("/jobs/live", my_jobs_live)
    router.add_get("/jobs/{job_id}", job)
    router.add_get("/jobs/{job_id}/live", job_live)
    router.add_post("/jobs/{job_id}/cancel", cancel)
    router.add_get("/jobs/{job_id}/tasks/{index}", task)
    router.add_get("/jobs/{job_id}/tasks/{index}/result", task_result)
    router.add_get("/jobs/{job_id}/tasks/{index}/log", task_log)
