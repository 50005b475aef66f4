"""A worker's comparison attempt on real artifacts, with the attempt reports going to a
recording fake (`ComparisonBench`): alice's package (with a compare command), two results
uploaded by bob's node to a real server on 127.0.0.1, and carol's node (the comparer), which
downloads them with its own node credential after being granted read access in the server's
database, as the server does when it leases a comparison. Used by the process executor's
tests (tests/worker) and the Docker runtime's (tests/docker)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import grpc

from app.services.client.session import ClientError
from app.services.client.transfer import upload_file
from app.services.executors.base import Executor
from app.services.executors.process.executor import ProcessExecutor
from app.services.jobs.package import build_package_zip
from app.services.worker import events as ev
from app.services.worker.attempt import run_attempt
from app.services.worker.held import AttemptDeps, HeldAttempt
from app.services.worker.results import PendingReports, pack_output
from proto.hivemind.v1 import common_pb2, node_pb2
from server.jobs.access import grant_reads
from tests.kit.network import Network, write_package

# The job's compare command: equal within 1e-6 (relative) -> 0, different -> 1, cannot
# compare -> 3. It also writes to /output (never kept) and, with --try-write, tries to
# change result a (which must be read-only).
COMPARE_PY = """\
import json, os, pathlib, sys

a = pathlib.Path(os.environ["HIVEMIND_RESULTS_A"])
b = pathlib.Path(os.environ["HIVEMIND_RESULTS_B"])
print("results at", a, b, "input:", repr(os.environ["HIVEMIND_INPUT"]))
pathlib.Path(os.environ["HIVEMIND_OUTPUT"], "scratch.txt").write_text("not kept")
if "--try-write" in sys.argv:
    try:
        (a / "value.json").write_text("{}")
        print("wrote to results a")
    except OSError as exc:
        print(f"cannot write to {a}: {exc.strerror}")
files_a = sorted(p.name for p in a.iterdir())
files_b = sorted(p.name for p in b.iterdir())
print("files a:", files_a, "files b:", files_b)
if not files_a and not files_b:
    sys.exit(0)
if not files_a or not files_b:
    print("one replica wrote nothing")
    sys.exit(1)
try:
    va = json.loads((a / "value.json").read_text())["value"]
    vb = json.loads((b / "value.json").read_text())["value"]
except (OSError, ValueError, KeyError) as exc:
    print(f"cannot compare: {exc!r}")
    sys.exit(3)
print(f"value a={va} b={vb}")
sys.exit(0 if abs(va - vb) <= 1e-6 * max(1.0, abs(va)) else 1)
"""
COMPARE = ["python3", "compare.py"]


class RecordingNodeService:
    """A recording fake of NodeService's attempt calls (the server does not lease comparisons
    yet): accepts every start and report, and keeps what the worker sent. While `down`, report
    calls fail as an unreachable server does and the worker is told to stop (`abandon`)."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.completions: list[node_pb2.Completion] = []
        self.failures: list[node_pb2.Failure] = []
        self.down = False
        self.abandon: asyncio.Event | None = None

    async def StartAttempts(self, request: node_pb2.StartAttemptsRequest) -> node_pb2.AttemptAcks:
        self.started.extend(request.attempt_ids)
        return node_pb2.AttemptAcks(
            acks=[node_pb2.AttemptAck(attempt_id=a, accepted=True) for a in request.attempt_ids]
        )

    def _unreachable(self) -> None:
        if self.down:
            if self.abandon is not None:
                self.abandon.set()  # the worker is killed while the server is away
            raise ClientError(grpc.StatusCode.UNAVAILABLE, "server restarting")

    async def CompleteAttempts(
        self, request: node_pb2.CompleteAttemptsRequest
    ) -> node_pb2.AttemptAcks:
        self._unreachable()
        self.completions.extend(request.completions)
        return node_pb2.AttemptAcks(
            acks=[
                node_pb2.AttemptAck(attempt_id=c.attempt_id, accepted=True, payout_ucpt=1000)
                for c in request.completions
            ]
        )

    async def FailAttempts(self, request: node_pb2.FailAttemptsRequest) -> node_pb2.AttemptAcks:
        self._unreachable()
        self.failures.extend(request.failures)
        return node_pb2.AttemptAcks(
            acks=[
                node_pb2.AttemptAck(attempt_id=f.attempt_id, accepted=True)
                for f in request.failures
            ]
        )


class ComparisonBench:
    """Alice's package, results of bob's node, carol's node comparing them (see the module
    docstring). `await bench.compare(...)` runs one comparison attempt on carol's worker."""

    def __init__(self, server: Any, network: Network, root: Path) -> None:
        self.server = server
        self.network = network
        self.root = root
        self.package_digest = ""

    async def open(self) -> ComparisonBench:
        address = self.server.address
        alice = await self.network.person(address, "alice")
        bob = await self.network.person(address, "bob")
        carol = await self.network.person(address, "carol")
        self.replica_node = await _register_node(bob, "bob-node")
        self.comparer_id, self.comparer = await _register_node_with_id(carol, "carol-node")
        folder = write_package(self.root / "job", "print('the task itself')\n")
        (folder / "compare.py").write_text(COMPARE_PY)
        archive = build_package_zip(folder, self.root / "package.zip")
        info = await upload_file(alice.session.artifacts, archive, common_pb2.ARTIFACT_KIND_PACKAGE)
        self.package_digest = info.digest
        return self

    async def result(self, files: dict[str, str | bytes]) -> tuple[str, int]:
        """Uploads a replica's result (its /output holding `files`) as bob's node does."""
        output = self.root / f"output-{uuid.uuid4().hex[:8]}"
        output.mkdir()
        for name, content in files.items():
            path = output / name
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
        zip_path = output.with_suffix(".zip")
        pack_output(output, zip_path)
        return await self.raw_result(zip_path)

    async def raw_result(self, path: Path) -> tuple[str, int]:
        info = await upload_file(self.replica_node.artifacts, path, common_pb2.ARTIFACT_KIND_RESULT)
        return info.digest, info.size

    async def lease(
        self,
        a: tuple[str, int],
        b: tuple[str, int],
        command: list[str] | None = None,
        timeout_s: int = 30,
    ) -> node_pb2.TaskLease:
        """A comparison lease for carol's node; grants its reads as the server would."""
        grants = [(d, self.comparer_id) for d in (self.package_digest, a[0], b[0]) if d]
        await self.server.ctx.db.run(grant_reads, grants)
        return node_pb2.TaskLease(
            attempt_id=f"att-{uuid.uuid4().hex[:12]}",
            task_id="task-1",
            job_id="job-float",
            task_index=4,
            runtime="python-3.11",
            command=command or COMPARE,
            package_digest=self.package_digest,
            resources=common_pb2.Resources(cores=1, memory_mb=128, timeout_s=timeout_s),
            comparison=node_pb2.ResultComparison(
                result_a_digest=a[0], result_a_size=a[1], result_b_digest=b[0], result_b_size=b[1]
            ),
        )

    def deps(self, executor: Executor, nodes: RecordingNodeService) -> AttemptDeps:
        cache = self.root / "carol-cache"
        deps = AttemptDeps(
            node=lambda: SimpleNamespace(artifacts=self.comparer.artifacts, nodes=nodes),
            executor=executor,
            events=ev.WorkerEvents(),
            cache_dir=cache,
            pending=PendingReports(cache / "pending"),
            cpu_percent=lambda: 100,
            abandon=asyncio.Event(),
            allowed=asyncio.Event(),
        )
        deps.allowed.set()
        nodes.abandon = deps.abandon
        return deps

    async def compare(
        self, lease: node_pb2.TaskLease, executor: Executor | None = None
    ) -> tuple[RecordingNodeService, AttemptDeps]:
        nodes = RecordingNodeService()
        deps = self.deps(executor or ProcessExecutor(), nodes)
        await run_attempt(HeldAttempt(lease, cores=1, memory_mb=128), deps)
        return nodes, deps


async def _register_node_with_id(person: Any, name: str) -> tuple[str, Any]:
    reply = await person.session.nodes.RegisterNode(
        node_pb2.RegisterNodeRequest(
            name=name, hardware=node_pb2.Hardware(cores=2, memory_mb=2048), executors=["process"]
        )
    )
    return reply.node_id, person.session.as_node(reply.node_id, reply.node_secret)


async def _register_node(person: Any, name: str) -> Any:
    return (await _register_node_with_id(person, name))[1]
