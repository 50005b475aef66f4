"""The SubmitJob message for a job spec (hivemind.toml with flags on top): one place that
maps every setting, used by the CLI, the demo and the desktop app."""

from __future__ import annotations

import uuid

from app.services.jobs.package import JobSpec
from proto.hivemind.v1 import common_pb2, job_pb2


def submit_request(
    spec: JobSpec,
    package_digest: str,
    inputs: list[job_pb2.TaskInput] | None = None,
    *,
    key_prefix: str = "submit",
) -> job_pb2.SubmitJobRequest:
    """Every setting of `spec`, the uploaded package and inputs, and a fresh idempotency key
    (one per call: a retried call cannot submit, and escrow, twice)."""
    inputs = list(inputs or [])
    return job_pb2.SubmitJobRequest(
        name=spec.name,
        runtime=spec.runtime,
        command=spec.command,
        package_digest=package_digest,
        task_count=0 if inputs else spec.tasks,
        inputs=inputs,
        resources=common_pb2.Resources(
            cores=spec.cores,
            memory_mb=spec.memory_mb,
            disk_mb=spec.disk_mb,
            gpus=spec.gpus,
            timeout_s=spec.timeout_s,
        ),
        max_attempts=spec.max_attempts,
        replicas=spec.replicas,
        priority=spec.priority,
        max_cost_ucpt=spec.max_cost_ucpt,
        compare_command=spec.compare_command,
        compare_timeout_s=spec.compare_timeout_s or 0,
        idempotency_key=f"{key_prefix}:{uuid.uuid4()}",
    )
