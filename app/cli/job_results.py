"""`hivemind job results` and `hivemind job logs`: what a job's tasks produced.

`results` saves them with app/services/jobs/results.py (into `DIR/<task index>/`, or for a
job with rounds its result into `DIR/result/`), by BitTorrent when the server offers it,
through a torrent session of the CLI's own.
"""

from __future__ import annotations

import contextlib
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
from app.services.jobs.results import RESULT_DIR, SavedTask, download_results
from app.services.jobs.states import job_state_name, task_state_name
from app.services.torrent.fetch import TorrentFetcher, open_torrents
from proto.hivemind.v1 import job_pb2


@contextlib.asynccontextmanager
async def _result_torrents(args: Any, session: Any) -> AsyncIterator[TorrentFetcher | None]:
    """A BitTorrent session of the CLI's own (apart from a worker's that may run on this
    machine), or None when the settings or --no-bittorrent turn it off."""
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
        with progress(args) as bars:
            saved = await download_results(
                session, args.job_id, out, torrents=torrents, progress=bars.bytes_task
            )
    for task in saved.refused:
        warn(f"task {task.index}: result not unpacked: {task.error}")
    job = saved.job
    report = {
        "job_id": job.job_id,
        "state": job_state_name(job.state),
        "out_dir": str(out),
        "tasks_total": job.tasks_total,
        "tasks_saved": saved.saved,
        "tasks": [_task_fields(task) for task in saved.tasks],
    }

    if job.aggregate_command:
        report["result_dir"] = next(
            (t["path"] for t in report["tasks"] if t["path"] and t["state"] == "done"), ""
        )

    def human(obj: dict[str, Any]) -> None:
        if job.aggregate_command:
            say(_result_line(job, obj, out))
            return
        say(f"saved {obj['tasks_saved']} of {obj['tasks_total']} tasks into {out}")
        waiting = [t["index"] for t in obj["tasks"] if t["state"] not in ("done", "failed")]
        if waiting:
            say(f"not finished yet: {len(waiting)} task(s); run this again later")

    emit(args, report, human)
    if saved.refused:
        problems = len(saved.refused)
        print(f"error: {problems} task result(s) could not be unpacked safely", file=sys.stderr)
        return 1
    return 0


def _result_line(job: job_pb2.Job, obj: dict[str, Any], out: Path) -> str:
    """What `results` says of a job with rounds, whose result is its last aggregate's."""
    where = f"round {job.current_round + 1} of {job.rounds}"
    if obj["result_dir"]:
        return f"saved the job's result (the output of {where}'s aggregate) into {out / RESULT_DIR}"
    state = job_state_name(job.state)
    if state in ("failed", "cancelled"):
        return f"job {job.job_id} {state} in {where}: no result; see `hivemind job logs`"
    return f"the job's result is not ready yet ({where} runs); run this again later"


def _task_fields(task: SavedTask) -> dict[str, Any]:
    if task.refused:
        return {"index": task.index, "state": task.state, "path": "", "error": task.error}
    if task.path is None:
        return {"index": task.index, "state": task.state, "path": ""}
    return {
        "index": task.index,
        "aggregate": task.aggregate,
        "round": task.round,
        "state": task.state,
        "path": str(task.path),
        "files": list(task.files),
        "result_digest": task.result_digest,
        "result_size": task.result_size,
        "error": task.error,
    }


@command
async def logs(args: Any) -> int:
    async with open_session(args) as session:
        response = await session.jobs.GetResults(job_pb2.GetResultsRequest(job_id=args.job_id))
    chosen = sorted(response.results, key=lambda r: r.index)
    if args.task is not None:
        chosen = [r for r in chosen if r.index == args.task]
        if not chosen:
            last = max((r.index for r in response.results), default=-1)
            raise CommandError(f"job {args.job_id} has no task {args.task} (tasks 0..{last})")
    rounds = bool(response.job.aggregate_command)
    entries = [
        {
            "index": r.index,
            # A job with rounds: which round, and whether it is the round's aggregate.
            **({"round": r.round, "aggregate": r.aggregate} if rounds else {}),
            "state": task_state_name(r.state),
            "log": r.log,
            "error": r.error,
        }
        for r in chosen
    ]

    def human(obj: dict[str, Any]) -> None:
        for entry in entries:
            what = "the aggregate" if entry.get("aggregate") else f"task {entry['index']}"
            where = f"round {entry['round'] + 1}, " if rounds else ""
            say(f"== {where}{what} ({entry['state']}) ==")
            if entry["log"]:
                say(entry["log"].rstrip("\n"))
            if entry["error"]:
                say(f"error: {entry['error']}")

    emit(args, {"job_id": args.job_id, "tasks": entries}, human)
    return 0
