"""Submitting a job: the package (zipped when it is a folder) and the inputs uploaded, then
one SubmitJob that carries every setting of the job spec (hivemind.toml with whatever the
caller changed on top). The one submit path of the CLI, the desktop app and the demo.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from app.services.client.session import ClientSession
from app.services.client.transfer import upload_file
from app.services.jobs.package import JobPackage, JobSpec, archive_for_upload
from proto.hivemind.v1 import common_pb2, job_pb2

Progress = Callable[[int, int], None]  # (bytes sent, bytes of the file)
# Called before each file is uploaded with its label ("package", or the input's file name),
# the bytes of the files uploaded before it and the bytes of all files; returns the callback
# for that file's own bytes. A bar per file and one bar over all files both fit.
UploadProgress = Callable[[str, int, int], Progress]


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
        rounds=spec.rounds,
        aggregate_command=spec.aggregate_command,
        min_results=spec.min_results,
        round_deadline_s=spec.round_deadline_s,
        idempotency_key=f"{key_prefix}:{uuid.uuid4()}",
    )


async def submit_package(
    session: ClientSession,
    package: JobPackage,
    spec: JobSpec | None = None,
    inputs: Sequence[Path] = (),
    *,
    key_prefix: str,
    scratch: Path | None = None,
    progress: UploadProgress | None = None,
    warn: Callable[[str], None] | None = None,
) -> job_pb2.Job:
    """Uploads `package` (a folder is zipped deterministically in a temporary folder under
    `scratch`, the system's temporary folder by default) and `inputs` (one task each), then
    submits the job `spec` describes (default: the package's own). `key_prefix` names the
    caller in the idempotency key; `warn` hears what was left out of the zip."""
    spec = spec or package.spec
    paths = [Path(p) for p in inputs]
    if scratch is not None:
        await asyncio.to_thread(scratch.mkdir, parents=True, exist_ok=True)
    workdir = Path(
        await asyncio.to_thread(tempfile.mkdtemp, prefix="hivemind-submit-", dir=scratch)
    )
    try:
        archive = await asyncio.to_thread(archive_for_upload, package, workdir, warn)
        # (file, progress label, artifact name, kind): the package first, then each input.
        files = [(archive, "package", f"{spec.name}.zip", common_pb2.ARTIFACT_KIND_PACKAGE)]
        files += [(path, path.name, path.name, common_pb2.ARTIFACT_KIND_INPUT) for path in paths]
        sizes = await asyncio.to_thread(lambda: [file[0].stat().st_size for file in files])
        total, before = sum(sizes), 0
        digests = []
        for (path, label, name, kind), size in zip(files, sizes, strict=True):
            shown = progress(label, before, total) if progress else None
            info = await upload_file(session.artifacts, path, kind, name=name, progress=shown)
            digests.append(info.digest)
            before += size
    finally:
        await asyncio.to_thread(shutil.rmtree, workdir, True)
    package_digest, *input_digests = digests
    task_inputs = [
        job_pb2.TaskInput(digest=digest, name=path.name)
        for digest, path in zip(input_digests, paths, strict=True)
    ]
    return await session.jobs.SubmitJob(
        submit_request(spec, package_digest, task_inputs, key_prefix=key_prefix)
    )
