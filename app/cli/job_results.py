"""`hivemind job results` and `hivemind job logs`: what a job's tasks produced.

Each done task's result zip is downloaded (by BitTorrent when the server offers it, else
over gRPC, resumable; SHA-256 verified either way), checked like any
archive from someone else's machine, and unpacked into `DIR/<task index>/` beside the
task's `log.txt`. A task that failed gets its `log.txt` and an `error.txt`.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from app.cli.common import open_session, open_settings
from app.cli.output import (
    CommandError,
    command,
    emit,
    progress,
    say,
    warn,
)
from app.services.jobs.states import job_state_name, task_state_name
from app.services.torrent.fetch import TorrentFetcher, fetch_or_download, open_torrents
from app.services.unpack import UnsafeArchive, safe_extract
from proto.hivemind.v1 import job_pb2

DOWNLOADS_DIR = ".hivemind-downloads"
LOG_FILE = "log.txt"
ERROR_FILE = "error.txt"


def _place_task_dir(out: Path, index: int, staged: Path) -> Path:
    """Moves a fully prepared `staged` folder to `out/<index>`, replacing an earlier copy,
    so an interrupted run never leaves a half-written task folder behind."""
    final = out / str(index)
    if final.exists():
        shutil.rmtree(final)
    staged.rename(final)
    return final


def _write_text(folder: Path, name: str, text: str) -> str:
    target = folder / name
    if target.exists():
        # The task wrote a file of that name itself: keep theirs, put ours beside it.
        target = folder / f"hivemind-{name}"
    target.write_text(text, encoding="utf-8")
    return target.name


def _unpack_task(
    out: Path, result: job_pb2.TaskResult, state: str, zip_path: Path | None
) -> dict[str, Any]:
    """Builds `out/<index>/` for one task (blocking: run in a thread)."""
    staged = out / f".{result.index}.partial"
    if staged.exists():
        shutil.rmtree(staged)
    files: list[str] = []
    if zip_path is not None:
        written = safe_extract(zip_path, staged)
        files = sorted(p.relative_to(staged).as_posix() for p in written)
    else:
        staged.mkdir(parents=True)
    files.append(_write_text(staged, LOG_FILE, result.log))
    if result.error:
        files.append(_write_text(staged, ERROR_FILE, result.error + "\n"))
    final = _place_task_dir(out, result.index, staged)
    return {
        "index": result.index,
        "state": state,
        "path": str(final),
        "files": files,
        "result_digest": result.result_digest,
        "result_size": result.result_size,
        "error": result.error,
    }


@contextlib.asynccontextmanager
async def _result_torrents(args: Any, session: Any) -> AsyncIterator[TorrentFetcher | None]:
    """Results come by BitTorrent when the server offers it (issue 4), else over gRPC; a
    session of the CLI's own, apart from a worker's that may run on this machine."""
    torrents = await open_torrents(
        open_settings(args), session.server, enabled=not args.no_bittorrent, area="cli"
    )
    try:
        yield torrents
    finally:
        if torrents is not None:
            await torrents.close()


@command
async def results(args: Any) -> int:
    out: Path = args.out.expanduser()
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out {out} is a file, not a folder")
    async with open_session(args) as session, _result_torrents(args, session) as torrents:
        response = await session.jobs.GetResults(job_pb2.GetResultsRequest(job_id=args.job_id))
        await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
        downloads = out / DOWNLOADS_DIR
        summary: list[dict[str, Any]] = []
        problems = 0
        with progress(args) as bars:
            for result in sorted(response.results, key=lambda r: r.index):
                state = task_state_name(result.state)
                if state not in ("done", "failed"):
                    summary.append({"index": result.index, "state": state, "path": ""})
                    continue
                zip_path = None
                if state == "done" and result.result_digest:
                    zip_path = await fetch_or_download(
                        torrents,
                        session.artifacts,
                        result.result_digest,
                        downloads / f"{result.result_digest}.zip",
                        progress=bars.bytes_task(f"task {result.index}"),
                    )
                try:
                    entry = await asyncio.to_thread(_unpack_task, out, result, state, zip_path)
                except UnsafeArchive as exc:
                    problems += 1
                    warn(f"task {result.index}: result not unpacked: {exc}")
                    entry = {"index": result.index, "state": state, "path": "", "error": str(exc)}
                summary.append(entry)
    with contextlib.suppress(OSError):
        await asyncio.to_thread(shutil.rmtree, downloads)
    job = response.job
    report = {
        "job_id": job.job_id,
        "state": job_state_name(job.state),
        "out_dir": str(out),
        "tasks_total": job.tasks_total,
        "tasks_saved": sum(1 for t in summary if t.get("path")),
        "tasks": summary,
    }

    def human(obj: dict[str, Any]) -> None:
        say(f"saved {obj['tasks_saved']} of {obj['tasks_total']} tasks into {out}")
        waiting = [t["index"] for t in summary if t["state"] not in ("done", "failed")]
        if waiting:
            say(f"not finished yet: {len(waiting)} task(s); run this again later")

    emit(args, report, human)
    if problems:
        print(f"error: {problems} task result(s) could not be unpacked safely", file=sys.stderr)
        return 1
    return 0


@command
async def logs(args: Any) -> int:
    async with open_session(args) as session:
        response = await session.jobs.GetResults(job_pb2.GetResultsRequest(job_id=args.job_id))
    chosen = sorted(response.results, key=lambda r: r.index)
    if args.task is not None:
        chosen = [r for r in chosen if r.index == args.task]
        if not chosen:
            last = len(response.results) - 1
            raise CommandError(f"job {args.job_id} has no task {args.task} (tasks 0..{last})")
    entries = [
        {"index": r.index, "state": task_state_name(r.state), "log": r.log, "error": r.error}
        for r in chosen
    ]

    def human(obj: dict[str, Any]) -> None:
        for entry in entries:
            say(f"== task {entry['index']} ({entry['state']}) ==")
            if entry["log"]:
                say(entry["log"].rstrip("\n"))
            if entry["error"]:
                say(f"error: {entry['error']}")

    emit(args, {"job_id": args.job_id, "tasks": entries}, human)
    return 0
