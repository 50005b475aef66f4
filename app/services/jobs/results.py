"""A job's results on the submitter's disk, the one results path of the CLI, the desktop app
and the demo.

Each done task's result zip is downloaded (by BitTorrent when a fetcher is given and the
server offers it, else over gRPC, resumable; SHA-256 verified either way), checked like any
archive from someone else's machine, and unpacked into `<out>/<task index>/` beside the
task's `log.txt`. A task that failed gets its `log.txt` and an `error.txt`. A task folder
appears whole or not at all: it is prepared beside its place and moved in.

A job with rounds has one result: the output of its last round's aggregate, saved into
`<out>/result/` the same way (with the log and error of the aggregate that ran last, when
the job failed there); the tasks of its rounds are not saved (`hivemind job logs` shows them).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.services.client.session import ClientSession
from app.services.jobs.states import task_state_name
from app.services.torrent.fetch import TorrentFetcher, fetch_or_download
from app.services.unpack import UnsafeArchive, safe_extract
from proto.hivemind.v1 import job_pb2

DOWNLOADS_DIR = ".hivemind-downloads"
RESULT_DIR = "result"  # a job with rounds: its last aggregate's output
LOG_FILE = "log.txt"
ERROR_FILE = "error.txt"
# A label ("task 3") -> the callback for that download's (bytes done, bytes in all).
DownloadProgress = Callable[[str], Callable[[int, int], None]]


@dataclass(frozen=True)
class SavedTask:
    """One task's share of the download."""

    index: int
    state: str  # a task_state_name word
    path: Path | None = None  # the task's folder; None when nothing was saved
    files: tuple[str, ...] = ()  # what the folder holds, relative to it
    result_digest: str = ""
    result_size: int = 0
    error: str = ""  # the task's own error, or why its result was not unpacked
    refused: bool = False  # its result archive was unsafe, so it was not unpacked
    aggregate: bool = False  # a round's aggregate: its output is the job's result
    round: int = 0


@dataclass(frozen=True)
class SavedResults:
    job: job_pb2.Job
    out: Path
    tasks: tuple[SavedTask, ...]

    @property
    def saved(self) -> int:
        """How many tasks have a folder under `out`."""
        return sum(1 for task in self.tasks if task.path is not None)

    @property
    def refused(self) -> list[SavedTask]:
        return [task for task in self.tasks if task.refused]


async def download_results(
    session: ClientSession,
    job_id: str,
    out: Path,
    *,
    torrents: TorrentFetcher | None = None,
    progress: DownloadProgress | None = None,
) -> SavedResults:
    """Saves every ended task of the job under `out` (folders of an earlier download are
    replaced); tasks still running are listed and skipped. An unsafe result archive is not
    unpacked (its task says why) and does not stop the others."""
    out = Path(out)
    response = await session.jobs.GetResults(job_pb2.GetResultsRequest(job_id=job_id))
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    downloads = out / DOWNLOADS_DIR
    tasks: list[SavedTask] = []
    results = sorted(response.results, key=lambda r: r.index)
    if response.job.aggregate_command:
        results = [result for result in results if result.aggregate]
    for result in results:
        state = task_state_name(result.state)
        if state not in ("done", "failed"):
            tasks.append(SavedTask(result.index, state, aggregate=result.aggregate))
            continue
        zip_path = None
        if state == "done" and result.result_digest:
            zip_path = await fetch_or_download(
                torrents,
                session.artifacts,
                result.result_digest,
                downloads / f"{result.result_digest}.zip",
                progress=progress(f"task {result.index}") if progress else None,
            )
        try:
            tasks.append(await asyncio.to_thread(_unpack_task, out, result, state, zip_path))
        except UnsafeArchive as exc:
            tasks.append(
                SavedTask(
                    result.index, state, error=str(exc), refused=True, aggregate=result.aggregate
                )
            )
    with contextlib.suppress(OSError):
        await asyncio.to_thread(shutil.rmtree, downloads)
    return SavedResults(response.job, out, tuple(tasks))


def _unpack_task(
    out: Path, result: job_pb2.TaskResult, state: str, zip_path: Path | None
) -> SavedTask:
    """Builds `out/<index>/` for one task, `out/result/` for an aggregate (blocking: run in a
    thread)."""
    name = RESULT_DIR if result.aggregate else str(result.index)
    staged = out / f".{name}.partial"
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
    final = _place_task_dir(out, name, staged)
    return SavedTask(
        index=result.index,
        state=state,
        path=final,
        files=tuple(files),
        result_digest=result.result_digest,
        result_size=result.result_size,
        error=result.error,
        aggregate=result.aggregate,
        round=result.round,
    )


def _place_task_dir(out: Path, name: str, staged: Path) -> Path:
    """Moves a fully prepared `staged` folder to `out/<name>`, replacing an earlier copy,
    so an interrupted run never leaves a half-written task folder behind."""
    final = out / name
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
