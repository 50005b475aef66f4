"""One leased attempt from lease to acknowledgement: fetch and unpack the package, fetch the
input, tell the server it started, run it, pack /output, upload the result, report it.
A comparison lease (judging whether two replicas' results agree) fetches two results instead
of the input and reports the compare command's verdict instead of a result; its specifics are
in `compare`. A task of a job with rounds also fetches the round's model, and the round's
aggregate every accepted output of the round (`rounds`).

Runs on the worker's loop; file work goes to threads. Logs carry `attempt=… job=… task=…`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

from app.services.client.session import ClientError
from app.services.client.transfer import TransferError, download_artifact
from app.services.executors.base import ExecutionResult, TaskSpec
from app.services.unpack import UnsafeArchive, make_read_only, remove_tree, safe_extract
from app.services.worker import events as ev
from app.services.worker.compare import (
    RESULT_ZIP_SUFFIX,
    RESULTS_CACHE_KIND,
    is_comparison,
    place_results,
    verdict_report,
)
from app.services.worker.held import AttemptDeps, HeldAttempt
from app.services.worker.report import RETRYABLE, deliver, hand_back, sleep_unless
from app.services.worker.results import OutputTooLarge, PendingReport, pack_output
from app.services.worker.rounds import place_round
from app.services.worker.runtime_fetch import RuntimeUnavailable
from common.digests import is_digest
from proto.hivemind.v1 import node_pb2

log = logging.getLogger("app.services.worker.agent")

PREPARE_PATIENCE_S = 60.0  # how long a download waits for an unreachable server
STOPPED_ERROR = "worker stopped before the task finished; it will run elsewhere"


async def run_attempt(held: HeldAttempt, deps: AttemptDeps) -> None:
    """Drives one attempt to its end; never raises (errors are reported and logged)."""
    lease = held.lease
    work_dir = deps.work_root / lease.attempt_id
    try:
        spec = await _prepare_with_retries(held, deps, work_dir)
        if spec is None:
            return
        await _wait_allowed(held, deps)
        if held.cancel.is_set():
            await _report_cancelled(held, deps)
            return
        if not await _start(held, deps):
            return
        held.stage = "running"
        deps.events.emit(ev.TASK_STARTED, **_ids(lease))

        def on_log(text: str) -> None:
            deps.events.emit(ev.TASK_LOG, message=text, **_ids(lease))

        result = await deps.executor.run(spec, held.cancel, on_log)
        held.stage = "reporting"
        if result.cancelled or held.cancel.is_set():
            await _report_cancelled(held, deps, result)
            return
        if is_comparison(lease):
            await deliver(verdict_report(lease, result), deps)  # its /output is not kept
            return
        await _report_result(held, deps, spec, result)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # our bug: say it, fail the attempt, keep the worker alive
        log.exception("%s unexpected error", held.tag)
        deps.events.emit(ev.ERROR, message=f"task {lease.task_index}: {exc}", **_ids(lease))
        if held.stage != "reporting":
            try:
                await _report_failure(held, deps, f"worker error: {exc}")
            except Exception:  # then the lease expires and the task runs elsewhere
                log.exception("%s could not report the error", held.tag)
    finally:
        await asyncio.to_thread(remove_tree, work_dir)


async def _prepare_with_retries(
    held: HeldAttempt, deps: AttemptDeps, work_dir: Path
) -> TaskSpec | None:
    """The task's files in place, or None when the attempt was reported failed or given up.
    A server that is restarting is waited for a while: the lease outlives a short outage."""
    give_up_at = time.monotonic() + PREPARE_PATIENCE_S
    retries = 0
    while True:
        try:
            return await _prepare(held, deps, work_dir)
        except (UnsafeArchive, TransferError, RuntimeUnavailable, OSError, ValueError) as exc:
            await _report_failure(held, deps, f"cannot prepare the task: {exc}")
            return None
        except ClientError as exc:
            if exc.code not in RETRYABLE:
                await _report_failure(held, deps, f"cannot fetch the task's files: {exc.message}")
                return None
            stopping = held.cancel.is_set() or deps.abandon.is_set()
            if stopping or time.monotonic() > give_up_at:
                # The lease expires on the server and the task runs again elsewhere.
                log.warning("%s download failed, giving the task up: %s", held.tag, exc.message)
                return None
            retries += 1
            log.info("%s download interrupted (%s); retrying", held.tag, exc.message)
            await sleep_unless(held.cancel, min(5.0, 0.5 * 2**retries))


def _ids(lease: node_pb2.TaskLease) -> dict[str, Any]:
    return {
        "attempt_id": lease.attempt_id,
        "job_id": lease.job_id,
        "task_index": lease.task_index,
        "comparison": is_comparison(lease),
    }


async def _prepare(held: HeldAttempt, deps: AttemptDeps, work_dir: Path) -> TaskSpec:
    lease = held.lease
    await asyncio.to_thread(remove_tree, work_dir)
    await asyncio.to_thread(work_dir.mkdir, parents=True)
    started = time.monotonic()
    runtime_image = lease.runtime_image
    if deps.runtimes is not None:
        runtime_image = await deps.runtimes.ensure(lease, deps.node().artifacts)
    package_zip = await _cached(deps, "packages", lease.package_digest, ".zip")
    package_dir = work_dir / "package"
    await asyncio.to_thread(safe_extract, package_zip, package_dir)
    await asyncio.to_thread(make_read_only, package_dir)
    input_path = None
    results_dirs = None
    disk_mb = lease.resources.disk_mb or 1024

    async def fetch_result(digest: str) -> Path:
        return await _cached(deps, RESULTS_CACHE_KIND, digest, RESULT_ZIP_SUFFIX)

    # A round's model, and an aggregate's outputs; the cap bounds what the task writes.
    placed_round = await place_round(lease, work_dir, fetch_result, held.tag)
    disk_mb += placed_round.disk_mb
    if is_comparison(lease):
        placed = await place_results(lease.comparison, work_dir, fetch_result, held.tag)
        results_dirs = placed.dirs
        disk_mb += placed.disk_mb  # the cap bounds what the command writes, not its results
    elif lease.input_digest:
        cached = await _cached(deps, "inputs", lease.input_digest, "")
        input_path = work_dir / "input" / _input_file_name(lease.input_name)
        await asyncio.to_thread(_place_input, cached, input_path)
    output_dir = work_dir / "output"
    await asyncio.to_thread(output_dir.mkdir)
    log.info("%s prepared in %.2fs", held.tag, time.monotonic() - started)
    resources = lease.resources
    return TaskSpec(
        attempt_id=lease.attempt_id,
        job_id=lease.job_id,
        task_index=lease.task_index,
        runtime=lease.runtime,
        command=list(lease.command),
        package_dir=package_dir,
        output_dir=output_dir,
        work_dir=work_dir,
        input_path=input_path,
        runtime_image=runtime_image,
        cores=max(1, resources.cores),
        cpu_percent=deps.cpu_percent(),
        memory_mb=resources.memory_mb or 256,
        disk_mb=disk_mb,
        gpus=resources.gpus,
        timeout_s=resources.timeout_s or 3600,
        results_dirs=results_dirs,
        model_dir=placed_round.model_dir,
        round_outputs_dir=placed_round.outputs_dir,
        round=lease.round,
        rounds=max(1, lease.rounds),
    )


def _input_file_name(name: str) -> str:
    # Only the last component: a submitter's input name must not place a file elsewhere.
    base = os.path.basename(name.replace("\\", "/"))
    return base if base not in ("", ".", "..") else "input"


def _place_input(cached: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(cached, target)  # no copy of a large input; the cached file is read-only
    except OSError:
        shutil.copyfile(cached, target)
    os.chmod(target, 0o444)


async def _cached(deps: AttemptDeps, kind: str, digest: str, suffix: str) -> Path:
    """The artifact `digest` from the local cache, downloaded (and verified) when missing.
    One download per digest at a time: concurrent attempts of one job share it."""
    if not is_digest(digest.lower()):
        raise ValueError(f"the server sent a malformed digest {digest!r}")
    digest = digest.lower()
    path = deps.cache_dir / kind / f"{digest}{suffix}"
    lock, users = deps.download_locks.get(digest, (asyncio.Lock(), 0))
    deps.download_locks[digest] = (lock, users + 1)
    try:
        async with lock:
            fetched = None
            if deps.torrents is not None and not await asyncio.to_thread(path.exists):
                fetched = await deps.torrents.fetch(deps.node().artifacts, digest, path)
            if fetched is None:
                await download_artifact(deps.node().artifacts, digest, path)
            await asyncio.to_thread(os.utime, path)  # recently used: evicted last
    finally:
        lock, users = deps.download_locks[digest]
        if users <= 1:
            del deps.download_locks[digest]  # a long-running worker sees many digests
        else:
            deps.download_locks[digest] = (lock, users - 1)
    return path


async def _start(held: HeldAttempt, deps: AttemptDeps) -> bool:
    """Tells the server the task starts; False when it declines (or stays unreachable)."""
    request = node_pb2.StartAttemptsRequest(attempt_ids=[held.lease.attempt_id])
    give_up_at = time.monotonic() + PREPARE_PATIENCE_S
    retries = 0
    while True:
        try:
            acks = await deps.node().nodes.StartAttempts(request)
            break
        except ClientError as exc:
            retryable = exc.code in RETRYABLE and not held.cancel.is_set()
            if not retryable or time.monotonic() > give_up_at or deps.abandon.is_set():
                log.warning("%s start not confirmed (%s); giving it up", held.tag, exc.message)
                return False
            retries += 1
            await sleep_unless(held.cancel, min(5.0, 0.5 * 2**retries))
    for ack in acks.acks:
        if ack.attempt_id == held.lease.attempt_id and not ack.accepted:
            log.info("%s server declined the start: %s", held.tag, ack.error)
            return False
    return True


async def _report_result(
    held: HeldAttempt, deps: AttemptDeps, spec: TaskSpec, result: ExecutionResult
) -> None:
    lease = held.lease
    report = PendingReport(
        attempt_id=lease.attempt_id,
        job_id=lease.job_id,
        task_index=lease.task_index,
        ok=result.ok,
        exit_code=result.exit_code if result.exit_code is not None else -1,
        log=result.log,
        error=result.error if not result.ok else "",
        cpu_seconds=result.cpu_seconds,
        wall_seconds=result.wall_seconds,
        peak_memory_mb=result.peak_memory_mb,
    )
    if report.ok:
        zip_path = deps.results_root / f"{lease.attempt_id}.zip"
        try:
            files = await asyncio.to_thread(pack_output, spec.output_dir, zip_path)
        except OutputTooLarge as exc:
            report.ok, report.error = False, str(exc)
        except OSError as exc:
            report.ok, report.error = False, f"cannot pack the task's output: {exc}"
        else:
            report.result_zip = str(zip_path) if files else ""
    elif not report.error:
        report.error = f"exited with code {report.exit_code}"
    await deliver(report, deps)


async def _report_failure(held: HeldAttempt, deps: AttemptDeps, error: str) -> None:
    lease = held.lease
    log.warning("%s failed: %s", held.tag, error)
    report = PendingReport(
        attempt_id=lease.attempt_id,
        job_id=lease.job_id,
        task_index=lease.task_index,
        ok=False,
        exit_code=-1,
        error=error,
        comparison=is_comparison(lease),
    )
    await deliver(report, deps)


async def _report_cancelled(
    held: HeldAttempt, deps: AttemptDeps, result: ExecutionResult | None = None
) -> None:
    if held.cancel_reason == "server":
        # The server asked for it (job cancelled or lease lost): nothing to report.
        log.info("%s cancelled by the server", held.tag)
        deps.events.emit(ev.TASK_FAILED, message="cancelled", **_ids(held.lease))
        return
    lease = held.lease
    # The worker stops: a task goes back to the queue as a return, not a failure.
    if held.cancel_reason == "stop" and not is_comparison(lease) and await hand_back(lease, deps):
        return
    report = PendingReport(
        attempt_id=lease.attempt_id,
        job_id=lease.job_id,
        task_index=lease.task_index,
        ok=False,
        exit_code=result.exit_code if result and result.exit_code is not None else -1,
        error=STOPPED_ERROR,
        log=result.log if result else "",
        wall_seconds=result.wall_seconds if result else 0.0,
        cpu_seconds=result.cpu_seconds if result else 0.0,
        comparison=is_comparison(lease),
    )
    await deliver(report, deps)


async def _wait_allowed(held: HeldAttempt, deps: AttemptDeps) -> None:
    """Holds a prepared task while the worker is paused (its lease is still renewed)."""
    if deps.allowed.is_set():
        return
    log.info("%s waiting: the worker is paused", held.tag)
    cancelled = asyncio.ensure_future(held.cancel.wait())
    allowed = asyncio.ensure_future(deps.allowed.wait())
    try:
        await asyncio.wait([cancelled, allowed], return_when=asyncio.FIRST_COMPLETED)
    finally:
        cancelled.cancel()
        allowed.cancel()
