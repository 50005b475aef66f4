"""Protobuf <-> domain values for jobs, nodes and artifacts (the edges only, no logic)."""

from __future__ import annotations

from proto.hivemind.v1 import artifact_pb2, common_pb2, job_pb2, node_pb2
from server.jobs.access import Caller
from server.jobs.artifacts import ArtifactRecord
from server.jobs.events import JobUpdate
from server.jobs.models import PRIORITY_UNIT, JobView, TaskView
from server.jobs.rounds import RoundView
from server.jobs.spec import JobRequest, TaskInputRequest
from server.nodes.registry import Beat, Hardware
from server.rpc.auth import Principal
from server.scheduling.leases import Lease, LeaseRequest
from server.validation.attempts import Ack, AttemptStats, Completion, Failure

JOB_STATES = {
    "submitting": common_pb2.JOB_STATE_PENDING,  # its tasks are still being created
    "pending": common_pb2.JOB_STATE_PENDING,
    "running": common_pb2.JOB_STATE_RUNNING,
    "done": common_pb2.JOB_STATE_DONE,
    "failed": common_pb2.JOB_STATE_FAILED,
    "cancelled": common_pb2.JOB_STATE_CANCELLED,
}
TASK_STATES = {
    "pending": common_pb2.TASK_STATE_PENDING,
    "leased": common_pb2.TASK_STATE_LEASED,
    "running": common_pb2.TASK_STATE_RUNNING,
    "done": common_pb2.TASK_STATE_DONE,
    "failed": common_pb2.TASK_STATE_FAILED,
    "cancelled": common_pb2.TASK_STATE_CANCELLED,
}
ARTIFACT_KINDS = {
    "package": common_pb2.ARTIFACT_KIND_PACKAGE,
    "input": common_pb2.ARTIFACT_KIND_INPUT,
    "result": common_pb2.ARTIFACT_KIND_RESULT,
    "runtime": common_pb2.ARTIFACT_KIND_RUNTIME,
}
KIND_NAMES = {value: name for name, value in ARTIFACT_KINDS.items()}
ROUND_STATES = {
    "running": job_pb2.ROUND_STATE_RUNNING,
    "aggregating": job_pb2.ROUND_STATE_AGGREGATING,
    "done": job_pb2.ROUND_STATE_DONE,
    "failed": job_pb2.ROUND_STATE_FAILED,
    "cancelled": job_pb2.ROUND_STATE_CANCELLED,
}


def caller_of(principal: Principal) -> Caller:
    return Caller(
        user_id=principal.user_id,
        node_id=principal.node_id,
        is_admin=principal.is_admin,
        replica=principal.kind == "replica",
    )


def job_request(request: job_pb2.SubmitJobRequest) -> JobRequest:
    res = request.resources
    return JobRequest(
        name=request.name,
        runtime=request.runtime,
        command=list(request.command),
        package_digest=request.package_digest,
        task_count=request.task_count,
        inputs=[TaskInputRequest(item.digest, item.name) for item in request.inputs],
        cores=res.cores,
        memory_mb=res.memory_mb,
        disk_mb=res.disk_mb,
        gpus=res.gpus,
        timeout_s=res.timeout_s,
        max_attempts=request.max_attempts,
        replicas=request.replicas,
        priority=request.priority,
        max_cost_ucpt=request.max_cost_ucpt,
        idempotency_key=request.idempotency_key,
        compare_command=list(request.compare_command),
        compare_timeout_s=request.compare_timeout_s,
        rounds=request.rounds,
        aggregate_command=list(request.aggregate_command),
        min_results=request.min_results,
        round_deadline_s=request.round_deadline_s,
    )


def job_to_proto(job: JobView) -> job_pb2.Job:
    return job_pb2.Job(
        job_id=job.job_id,
        name=job.name,
        state=JOB_STATES.get(job.state, common_pb2.JOB_STATE_UNSPECIFIED),
        runtime=job.runtime,
        command=job.command,
        tasks_total=job.tasks_total,
        tasks_done=job.tasks_done,
        tasks_failed=job.tasks_failed,
        tasks_running=job.tasks_running,
        tasks_cancelled=job.tasks_cancelled,
        resources=common_pb2.Resources(
            cores=job.cores,
            memory_mb=job.memory_mb,
            disk_mb=job.disk_mb,
            gpus=job.gpus,
            timeout_s=job.timeout_s,
        ),
        max_attempts=job.max_attempts,
        replicas=job.replicas,
        priority=job.priority_permille / PRIORITY_UNIT,
        max_cost_ucpt=job.max_cost_ucpt,
        cost_ucpt=job.cost_ucpt,
        refunded_ucpt=job.refunded_ucpt,
        created_at=int(job.created_at),
        finished_at=int(job.finished_at or 0),
        owner=job.owner,
        package_digest=job.package_digest,
        compare_command=job.compare_command,
        compare_timeout_s=job.compare_timeout_s,
        rounds=job.rounds,
        aggregate_command=job.aggregate_command,
        min_results=job.min_results,
        round_deadline_s=job.round_deadline_s,
        current_round=job.current_round,
        round_tasks=job.round_tasks,
    )


def round_to_proto(view: RoundView) -> job_pb2.Round:
    return job_pb2.Round(
        round=view.round,
        state=ROUND_STATES.get(view.state, job_pb2.ROUND_STATE_UNSPECIFIED),
        tasks_accepted=view.tasks_accepted,
        model_digest=view.model_digest,
        result_digest=view.result_digest,
        result_size=view.result_size,
        metrics=view.metrics,
        started_at=int(view.started_at),
        closed_at=int(view.closed_at or 0),
        ended_at=int(view.ended_at or 0),
        error=view.error,
    )


def _task_fields(task: TaskView) -> dict[str, object]:
    """What a task's summary and its result both say of it."""
    return {
        "index": task.index,
        "state": TASK_STATES.get(task.state, common_pb2.TASK_STATE_UNSPECIFIED),
        "error": task.error,
        "input_name": task.input_name,
        "result_digest": task.result_digest,
        "result_size": task.result_size,
        "round": task.round,
        "aggregate": task.aggregate,
    }


def task_to_proto(task: TaskView) -> job_pb2.Task:
    return job_pb2.Task(
        task_id=task.task_id,
        attempts=task.attempts,
        node_id=task.node_id,
        cost_ucpt=task.cost_ucpt,
        verification=task.verification,
        **_task_fields(task),
    )


def task_result_to_proto(task: TaskView) -> job_pb2.TaskResult:
    return job_pb2.TaskResult(log=task.log, **_task_fields(task))


def job_event_to_proto(update: JobUpdate) -> job_pb2.JobEvent:
    return job_pb2.JobEvent(
        job=job_to_proto(update.job),
        changed_tasks=[task_to_proto(task) for task in update.changed_tasks],
        message=update.message,
    )


def hardware_from_proto(hardware: node_pb2.Hardware) -> Hardware:
    return Hardware(
        cores=hardware.cores,
        memory_mb=hardware.memory_mb,
        disk_mb=hardware.disk_mb,
        gpus=hardware.gpus,
        os=hardware.os,
        arch=hardware.arch,
        cpu_model=hardware.cpu_model,
        benchmark_score=hardware.benchmark_score,
        hostname=hardware.hostname,
    )


def beat_from_proto(request: node_pb2.HeartbeatRequest) -> Beat:
    usage = request.usage
    return Beat(
        usage={
            "cpu_percent": usage.cpu_percent,
            "memory_used_mb": usage.memory_used_mb,
            "hivemind_cpu_percent": usage.hivemind_cpu_percent,
            "hivemind_memory_mb": usage.hivemind_memory_mb,
            "free_cores": usage.free_cores,
            "free_memory_mb": usage.free_memory_mb,
            "free_gpus": usage.free_gpus,
            "pause_reason": request.pause_reason,
        },
        running_attempt_ids=list(request.running_attempt_ids),
        paused=request.paused,
        pause_reason=request.pause_reason,
        seeding_digests=list(request.seeding_digests),
        bt_endpoint=request.bt_endpoint,
    )


def lease_request(request: node_pb2.LeaseTasksRequest) -> LeaseRequest:
    return LeaseRequest(
        free_cores=request.free_cores,
        free_memory_mb=request.free_memory_mb,
        free_disk_mb=request.free_disk_mb,
        free_gpus=request.free_gpus,
        max_tasks=request.max_tasks,
        runtimes=list(request.runtimes),
    )


def lease_to_proto(lease: Lease) -> node_pb2.TaskLease:
    return node_pb2.TaskLease(
        attempt_id=lease.attempt_id,
        task_id=lease.task_id,
        job_id=lease.job_id,
        task_index=lease.task_index,
        runtime=lease.runtime,
        command=lease.command,
        package_digest=lease.package_digest,
        input_digest=lease.input_digest,
        input_name=lease.input_name,
        resources=common_pb2.Resources(
            cores=lease.cores,
            memory_mb=lease.memory_mb,
            disk_mb=lease.disk_mb,
            gpus=lease.gpus,
            timeout_s=lease.timeout_s,
        ),
        lease_deadline=int(lease.lease_deadline),
        runtime_image=lease.runtime_image,
        runtime_archive_digest=lease.runtime_archive_digest,
        package_size=lease.package_size,
        input_size=lease.input_size,
        comparison=(
            node_pb2.ResultComparison(
                result_a_digest=lease.comparison[0],
                result_a_size=lease.comparison[1],
                result_b_digest=lease.comparison[2],
                result_b_size=lease.comparison[3],
            )
            if lease.comparison
            else None
        ),
        round=lease.round,
        rounds=lease.rounds,
        model_digest=lease.model_digest,
        model_size=lease.model_size,
        aggregate=(
            node_pb2.AggregateInputs(
                outputs=[
                    node_pb2.RoundOutput(
                        task_index=output.task_index, digest=output.digest, size=output.size
                    )
                    for output in lease.aggregate_outputs
                ]
            )
            if lease.aggregate_outputs is not None
            else None
        ),
    )


def _stats(stats: node_pb2.AttemptStats) -> AttemptStats:
    return AttemptStats(stats.cpu_seconds, stats.wall_seconds, stats.peak_memory_mb)


def completions_from_proto(request: node_pb2.CompleteAttemptsRequest) -> list[Completion]:
    return [
        Completion(
            attempt_id=item.attempt_id,
            result_digest=item.result_digest,
            result_size=item.result_size,
            exit_code=item.exit_code,
            log=item.log,
            stats=_stats(item.stats),
        )
        for item in request.completions
    ]


def failures_from_proto(request: node_pb2.FailAttemptsRequest) -> list[Failure]:
    return [
        Failure(
            attempt_id=item.attempt_id,
            error=item.error,
            exit_code=item.exit_code,
            log=item.log,
            stats=_stats(item.stats),
        )
        for item in request.failures
    ]


def acks_to_proto(acks: list[Ack]) -> node_pb2.AttemptAcks:
    return node_pb2.AttemptAcks(
        acks=[
            node_pb2.AttemptAck(
                attempt_id=ack.attempt_id,
                accepted=ack.accepted,
                error=ack.error,
                payout_ucpt=ack.payout_ucpt,
            )
            for ack in acks
        ]
    )


def artifact_to_proto(record: ArtifactRecord | None, digest: str = "") -> artifact_pb2.ArtifactInfo:
    if record is None:
        return artifact_pb2.ArtifactInfo(digest=digest, exists=False)
    return artifact_pb2.ArtifactInfo(
        digest=record.digest,
        size=record.size,
        kind=ARTIFACT_KINDS.get(record.kind, common_pb2.ARTIFACT_KIND_UNSPECIFIED),
        exists=True,
        name=record.name,
    )
