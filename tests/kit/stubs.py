"""A test as a raw gRPC client of the server: the service stubs (`Stubs`, what the `stubs`
fixture gives), a node's credential, and one call per step: upload and download artifacts,
register a node, lease, complete or fail attempts, submit a job, read a balance; plus the job
packages to upload (zip bytes with a fixed timestamp, so the same entries give the same
digest) and the answer to a refused call or a heartbeat."""

from __future__ import annotations

import hashlib
import io
import stat
import zipfile
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import grpc

from proto.hivemind.v1 import (
    account_pb2,
    account_pb2_grpc,
    artifact_pb2,
    artifact_pb2_grpc,
    common_pb2,
    job_pb2,
    job_pb2_grpc,
    node_pb2,
    node_pb2_grpc,
)

Metadata = tuple[tuple[str, str], ...]
MANIFEST = b'name = "test"\n'
CHUNK = 64 * 1024
FIXED_TIME = (2024, 1, 1, 0, 0, 0)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_zip(entries: dict[str, bytes], *, symlinks: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            # A fixed timestamp: the same entries make the same bytes (and digest).
            entry = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            archive.writestr(entry, data, compress_type=zipfile.ZIP_DEFLATED)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()


def make_package(extra: dict[str, bytes] | None = None) -> bytes:
    return make_zip({"hivemind.toml": MANIFEST, "main.py": b"print('hi')\n", **(extra or {})})


class Stubs:
    """The services' stubs on one channel; `address` is the server's (where a test may open
    more channels, e.g. from other source addresses: tests/kit/loopback_networks.py)."""

    def __init__(self, channel: grpc.aio.Channel, address: str = "") -> None:
        self.address = address
        self.jobs = job_pb2_grpc.JobServiceStub(channel)
        self.nodes = node_pb2_grpc.NodeServiceStub(channel)
        self.artifacts = artifact_pb2_grpc.ArtifactServiceStub(channel)
        self.account = account_pb2_grpc.AccountServiceStub(channel)


async def upload(
    stubs: Stubs,
    metadata: Metadata,
    data: bytes,
    kind: int = common_pb2.ARTIFACT_KIND_PACKAGE,
    *,
    name: str = "file",
    digest: str | None = None,
    size: int | None = None,
) -> artifact_pb2.ArtifactInfo:
    async def chunks() -> Any:
        yield artifact_pb2.UploadChunk(
            header=artifact_pb2.UploadHeader(
                kind=kind,
                size=len(data) if size is None else size,
                sha256=digest or sha256(data),
                name=name,
            )
        )
        for start in range(0, len(data), CHUNK):
            yield artifact_pb2.UploadChunk(data=data[start : start + CHUNK])

    return await stubs.artifacts.Upload(chunks(), metadata=metadata)


async def download(stubs: Stubs, metadata: Metadata, digest: str, offset: int = 0) -> bytes:
    parts = []
    async for chunk in stubs.artifacts.Download(
        artifact_pb2.DownloadRequest(digest=digest, offset=offset), metadata=metadata
    ):
        parts.append(chunk.data)
    return b"".join(parts)


@dataclass
class Node:
    node_id: str
    metadata: Metadata


async def register_node(
    stubs: Stubs, user_metadata: Metadata, name: str = "box", runtimes: tuple[str, ...] = ()
) -> Node:
    reply = await stubs.nodes.RegisterNode(
        node_pb2.RegisterNodeRequest(
            name=name,
            hardware=node_pb2.Hardware(cores=8, memory_mb=16384, disk_mb=100_000),
            runtimes=list(runtimes),
            executors=["process"],
        ),
        metadata=user_metadata,
        # A machine's first call opens its connection (through a relay when it dials from a
        # network of its own: tests/kit/loopback_networks.py): a connection attempt that
        # fails is tried again, as a worker would, rather than failing the test.
        wait_for_ready=True,
        timeout=60,
    )
    credential = f"Node {reply.node_id}.{reply.node_secret}"
    return Node(reply.node_id, (("authorization", credential),))


async def lease(stubs: Stubs, node: Node, max_tasks: int = 1, cores: int = 8) -> list:
    reply = await stubs.nodes.LeaseTasks(
        node_pb2.LeaseTasksRequest(
            free_cores=cores, free_memory_mb=16384, free_disk_mb=100_000, max_tasks=max_tasks
        ),
        metadata=node.metadata,
    )
    return list(reply.leases)


async def complete(
    stubs: Stubs, node: Node, attempt_ids: list[str], wall_seconds: float = 0.0, **kw: Any
) -> list[node_pb2.AttemptAck]:
    reply = await stubs.nodes.CompleteAttempts(
        node_pb2.CompleteAttemptsRequest(
            completions=[
                node_pb2.Completion(
                    attempt_id=attempt_id,
                    stats=node_pb2.AttemptStats(wall_seconds=wall_seconds),
                    **kw,
                )
                for attempt_id in attempt_ids
            ]
        ),
        metadata=node.metadata,
    )
    return list(reply.acks)


async def fail(
    stubs: Stubs, node: Node, attempt_ids: list[str], error: str = "boom"
) -> list[node_pb2.AttemptAck]:
    reply = await stubs.nodes.FailAttempts(
        node_pb2.FailAttemptsRequest(
            failures=[node_pb2.Failure(attempt_id=a, error=error, exit_code=1) for a in attempt_ids]
        ),
        metadata=node.metadata,
    )
    return list(reply.acks)


async def balance(stubs: Stubs, metadata: Metadata) -> int:
    """What the user holds outside escrow: CPT and starter credit together."""
    reply = await stubs.account.GetBalance(account_pb2.GetBalanceRequest(), metadata=metadata)
    return reply.balance_ucpt + reply.starter_ucpt


def job_request(package_digest: str, **overrides: Any) -> job_pb2.SubmitJobRequest:
    resources = overrides.pop(
        "resources", common_pb2.Resources(cores=1, memory_mb=64, timeout_s=60)
    )
    fields: dict[str, Any] = {
        "name": "test job",
        "runtime": "python-3.11",
        "command": ["python3", "main.py"],
        "package_digest": package_digest,
        "task_count": 1,
        "resources": resources,
    }
    fields.update(overrides)
    return job_pb2.SubmitJobRequest(**fields)


async def submit(
    stubs: Stubs, metadata: Metadata, package_digest: str, **overrides: Any
) -> job_pb2.Job:
    return await stubs.jobs.SubmitJob(job_request(package_digest, **overrides), metadata=metadata)


async def get_job(stubs: Stubs, metadata: Metadata, job_id: str, tasks: bool = False) -> Any:
    return await stubs.jobs.GetJob(
        job_pb2.GetJobRequest(job_id=job_id, include_tasks=tasks), metadata=metadata
    )


async def rpc_error(call: Awaitable[Any]) -> grpc.aio.AioRpcError:
    """The error a call was refused with; fails the test when the call succeeds."""
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error
    raise AssertionError("the call succeeded")


async def heartbeat(address: str, node_id: str, secret: str) -> grpc.StatusCode:
    """What the server at `address` says to a heartbeat with this node credential: OK, or
    the code it refused it with (UNAUTHENTICATED for a secret it no longer takes)."""
    metadata = (("authorization", f"Node {node_id}.{secret}"),)
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            await node_pb2_grpc.NodeServiceStub(channel).Heartbeat(
                node_pb2.HeartbeatRequest(), metadata=metadata
            )
        except grpc.aio.AioRpcError as error:
            return error.code()
    return grpc.StatusCode.OK
