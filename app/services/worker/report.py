"""Reporting an attempt's outcome: upload the packed result, then CompleteAttempts or
FailAttempts, until the server acknowledges. The report is kept on disk (PendingReports) until
then, so a worker that crashes or loses the server mid-report sends it again at its next start.

Runs on the worker's loop; logs carry `attempt=… job=… task=…`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import grpc

from app.services.aio import wait_event
from app.services.client.session import ClientError
from app.services.client.transfer import TransferError, upload_file
from app.services.worker import events as ev
from app.services.worker.held import AttemptDeps
from app.services.worker.results import PendingReport
from proto.hivemind.v1 import common_pb2, node_pb2

log = logging.getLogger("app.services.worker.agent")

# Errors worth retrying: the server is away or restarting.
RETRYABLE = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.CANCELLED,
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.INTERNAL,
}
# A server that is up but fails (a bug) is given a few tries, not forever: the attempt would
# otherwise hold its cores until the worker stops.
FAILING_SERVER = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL}
FAILING_SERVER_TRIES = 5


async def deliver(report: PendingReport, deps: AttemptDeps) -> node_pb2.AttemptAck | None:
    """Uploads the result (if any) and reports the attempt until the server acknowledges it.
    The report stays on disk until then, so a restarted worker sends it again."""
    tag = f"attempt={report.attempt_id} job={report.job_id} task={report.task_index}"
    await asyncio.to_thread(deps.pending.save, report)
    retries = 0
    while True:
        try:
            if report.ok and report.result_zip and not report.result_digest:
                await _upload_result(report, deps)
            ack = await _send_report(report, deps)
        except ClientError as exc:
            retries += 1
            gave_up = exc.code in FAILING_SERVER and retries >= FAILING_SERVER_TRIES
            if exc.code in RETRYABLE and not gave_up and not deps.abandon.is_set():
                if retries == 1 or retries % 10 == 0:
                    log.warning("%s report not delivered yet (%s); retrying", tag, exc.message)
                await sleep_unless(deps.abandon, min(15.0, 0.5 * 2 ** min(retries, 5)))
                continue
            if exc.code in RETRYABLE and not gave_up:
                log.warning("%s report kept on disk for the next start", tag)
                return None
            log.error("%s report refused: %s", tag, exc.message)
            deps.events.emit(
                ev.ERROR,
                message=f"report refused: {exc.message}",
                status=exc.code.name,
                reason=exc.reason,
                **_ids_of(report),
            )
            await asyncio.to_thread(deps.pending.remove, report)
            return None
        except (TransferError, OSError) as exc:
            # The packed result is unreadable or corrupt: report a failure instead.
            report.ok, report.error = False, f"cannot upload the result: {exc}"
            report.result_zip = ""
            await asyncio.to_thread(deps.pending.save, report)
            continue
        await asyncio.to_thread(deps.pending.remove, report)
        _announce(report, ack, deps, tag)
        return ack


RETURN_REASON = "this computer stopped sharing"


async def hand_back(lease: node_pb2.TaskLease, deps: AttemptDeps) -> bool:
    """Returns an attempt to the server unfinished (ReturnAttempts): its task goes back to the
    queue and runs elsewhere, and the server counts no failure. False when the server could
    not be told (an older server without ReturnAttempts, none answering, a refusal): the
    caller then reports the attempt stopped, as a failure, as before."""
    tag = f"attempt={lease.attempt_id} job={lease.job_id} task={lease.task_index}"
    request = node_pb2.ReturnAttemptsRequest(attempt_ids=[lease.attempt_id], reason=RETURN_REASON)
    try:
        reply = await deps.node().nodes.ReturnAttempts(request, timeout=10)
    except ClientError as exc:
        log.warning("%s not handed back (%s); reporting it stopped", tag, exc.message)
        return False
    ack = next((ack for ack in reply.acks if ack.attempt_id == lease.attempt_id), None)
    if ack is None or not ack.accepted:
        log.warning("%s not handed back (%s)", tag, ack.error if ack else "no answer")
        return False
    log.info("%s handed back: it runs elsewhere", tag)
    deps.events.emit(
        ev.TASK_RETURNED,
        message=RETURN_REASON,
        attempt_id=lease.attempt_id,
        job_id=lease.job_id,
        task_index=lease.task_index,
    )
    return True


async def _upload_result(report: PendingReport, deps: AttemptDeps) -> None:
    name = f"result-{report.job_id}-{report.task_index}.zip"
    if deps.torrents is not None:
        # The server pulls a large result from this node's swarm (it spares the upload over
        # gRPC); None = upload it over gRPC.
        info = await deps.torrents.offer_result(deps.node().artifacts, report.result_zip, name)
        if info is not None:
            report.result_digest, report.result_size = info.digest, info.size
            await asyncio.to_thread(deps.pending.save, report)
            return
    try:
        info = await upload_file(
            deps.node().artifacts,
            report.result_zip,
            common_pb2.ARTIFACT_KIND_RESULT,
            name=name,
        )
    except ClientError as exc:
        if exc.code in RETRYABLE:
            raise
        # Too large, over quota: the task failed as far as the submitter can tell.
        report.ok, report.error = False, f"result upload refused: {exc.message}"
        return
    report.result_digest, report.result_size = info.digest, info.size
    await asyncio.to_thread(deps.pending.save, report)


async def _send_report(report: PendingReport, deps: AttemptDeps) -> node_pb2.AttemptAck:
    stats = node_pb2.AttemptStats(
        cpu_seconds=report.cpu_seconds,
        wall_seconds=report.wall_seconds,
        peak_memory_mb=report.peak_memory_mb,
    )
    nodes = deps.node().nodes
    if report.ok:
        completion = node_pb2.Completion(
            attempt_id=report.attempt_id,
            result_digest=report.result_digest,
            result_size=report.result_size,
            exit_code=report.exit_code,
            log=report.log,
            stats=stats,
        )
        acks = await nodes.CompleteAttempts(
            node_pb2.CompleteAttemptsRequest(completions=[completion])
        )
    else:
        failure = node_pb2.Failure(
            attempt_id=report.attempt_id,
            error=report.error,
            exit_code=report.exit_code,
            log=report.log,
            stats=stats,
        )
        acks = await nodes.FailAttempts(node_pb2.FailAttemptsRequest(failures=[failure]))
    for ack in acks.acks:
        if ack.attempt_id == report.attempt_id:
            return ack
    return node_pb2.AttemptAck(attempt_id=report.attempt_id, accepted=False, error="no ack")


def _announce(report: PendingReport, ack: node_pb2.AttemptAck, deps: AttemptDeps, tag: str) -> None:
    ids = _ids_of(report)
    if report.ok and ack.accepted:
        verdict = ""
        if report.comparison:
            # A completed comparison's exit code is its verdict: it carries no result.
            verdict = "results equivalent" if report.exit_code == 0 else "results differ"
            log.info("%s compared: %s", tag, verdict)
        log.info("%s done payout_ucpt=%d", tag, ack.payout_ucpt)
        deps.events.emit(ev.TASK_FINISHED, message=verdict, **ids)
        if ack.payout_ucpt:
            deps.events.emit(ev.PAYOUT, payout_ucpt=ack.payout_ucpt, **ids)
    elif report.ok:
        log.warning("%s result not accepted: %s", tag, ack.error)
        deps.events.emit(ev.TASK_FAILED, message=f"result not accepted: {ack.error}", **ids)
    else:
        log.info("%s reported failed: %s", tag, report.error)
        deps.events.emit(ev.TASK_FAILED, message=report.error, **ids)


def _ids_of(report: PendingReport) -> dict[str, Any]:
    return {
        "attempt_id": report.attempt_id,
        "job_id": report.job_id,
        "task_index": report.task_index,
        "comparison": report.comparison,
    }


async def sleep_unless(event: asyncio.Event, seconds: float) -> None:
    await wait_event(event, seconds)
