"""Comparisons on the worker (issue 6): a lease carrying `comparison` runs the job's compare
command on two replicas' results and reports its verdict.

The artifacts are real: alice's package (with compare.py) and two results uploaded by bob's
node go to a real server on 127.0.0.1, and carol's node (the comparer) downloads them with its
own node credential after being granted read access in the server's database, as the server
does when it leases a comparison. StartAttempts/CompleteAttempts/FailAttempts go to
`RecordingNodeService`, a recording fake: the server side that leases comparisons is being
written at the same time and does not lease them yet.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import grpc

from app.services.client.session import ClientError
from app.services.client.transfer import upload_file
from app.services.executors.base import ExecutionResult, Executor
from app.services.executors.process.executor import ProcessExecutor
from app.services.jobs.package import build_package_zip
from app.services.worker import events as ev
from app.services.worker.attempt import run_attempt
from app.services.worker.compare import verdict_report
from app.services.worker.held import AttemptDeps, HeldAttempt
from app.services.worker.report import deliver
from app.services.worker.results import PendingReports, pack_output
from proto.hivemind.v1 import common_pb2, node_pb2
from server.jobs.access import grant_reads
from tests.worker.helpers import Network, write_package

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


def _events(deps: AttemptDeps, kind: str) -> list[ev.WorkerEvent]:
    return [e for e in deps.events.recent if e.kind == kind]


async def test_equivalent_results_complete_with_exit_0_and_no_result(server, network, tmp_path):
    bench = await ComparisonBench(server, network, tmp_path).open()
    a = await bench.result({"value.json": '{"value": 0.30000000000000004}'})
    b = await bench.result({"value.json": '{"value": 0.3}'})
    lease = await bench.lease(a, b)
    assert a != b  # the digests differ: that is why the server asked for a comparison

    nodes, deps = await bench.compare(lease)

    assert nodes.started == [lease.attempt_id]
    assert nodes.failures == []
    (completion,) = nodes.completions
    assert completion.attempt_id == lease.attempt_id
    assert completion.exit_code == 0
    assert completion.result_digest == "" and completion.result_size == 0
    assert "value a=0.30000000000000004 b=0.3" in completion.log
    assert "input: ''" in completion.log  # a comparison has no input
    assert completion.stats.wall_seconds > 0  # the comparer is paid for its time
    # /output was not packed, nothing waits on disk, the work dir is gone.
    results_root = deps.results_root
    assert not results_root.exists() or list(results_root.iterdir()) == []
    assert deps.pending.load_all() == []
    assert not (deps.work_root / lease.attempt_id).exists()
    (finished,) = _events(deps, ev.TASK_FINISHED)
    assert finished.comparison and finished.message == "results equivalent"


async def test_different_results_complete_with_exit_1(server, network, tmp_path):
    bench = await ComparisonBench(server, network, tmp_path).open()
    a = await bench.result({"value.json": '{"value": 1.0}'})
    b = await bench.result({"value.json": '{"value": 1.5}'})

    nodes, deps = await bench.compare(await bench.lease(a, b))

    assert nodes.failures == []
    (completion,) = nodes.completions
    assert completion.exit_code == 1  # a verdict, not a failure
    assert completion.result_digest == ""
    assert "value a=1.0 b=1.5" in completion.log
    (started,) = _events(deps, ev.TASK_STARTED)
    assert started.comparison
    assert started.task_text == "comparing results of job job-float task 4"
    (finished,) = _events(deps, ev.TASK_FINISHED)
    assert finished.message == "results differ"
    (payout,) = _events(deps, ev.PAYOUT)
    assert payout.task_text == "comparing results of job job-float task 4"


async def test_compare_command_crash_fails_the_attempt(server, network, tmp_path):
    bench = await ComparisonBench(server, network, tmp_path).open()
    a = await bench.result({"value.json": '{"value": 1.0}'})
    b = await bench.result({"value.json": '{"other": 1.0}'})

    nodes, deps = await bench.compare(await bench.lease(a, b))

    assert nodes.completions == []
    (failure,) = nodes.failures
    assert failure.exit_code == 3
    assert failure.error == "compare command: exited with code 3"
    assert "cannot compare: KeyError('value')" in failure.log
    (failed,) = _events(deps, ev.TASK_FAILED)
    assert failed.comparison and failed.message == failure.error


async def test_empty_result_digest_is_an_empty_folder(server, network, tmp_path):
    bench = await ComparisonBench(server, network, tmp_path).open()
    b = await bench.result({"value.json": '{"value": 2.0}'})

    nodes, _ = await bench.compare(await bench.lease(("", 0), b))
    (completion,) = nodes.completions
    assert completion.exit_code == 1
    assert "files a: [] files b: ['value.json']" in completion.log
    assert "one replica wrote nothing" in completion.log

    nodes, _ = await bench.compare(await bench.lease(("", 0), ("", 0)))
    (completion,) = nodes.completions
    assert completion.exit_code == 0
    assert "files a: [] files b: []" in completion.log


async def test_comparison_past_its_timeout_fails(server, network, tmp_path):
    bench = await ComparisonBench(server, network, tmp_path).open()
    a = await bench.result({"value.json": '{"value": 1.0}'})
    b = await bench.result({"value.json": '{"value": 1.0}'})
    slow = ["python3", "-c", "import time; time.sleep(30)"]

    nodes, _ = await bench.compare(await bench.lease(a, b, command=slow, timeout_s=1))

    assert nodes.completions == []
    (failure,) = nodes.failures
    assert failure.error == "compare command: timed out after 1 s"


async def test_corrupt_result_archive_fails_before_starting(server, network, tmp_path):
    bench = await ComparisonBench(server, network, tmp_path).open()
    a = await bench.result({"value.json": '{"value": 1.0}'})
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"this is not a zip archive")
    b = await bench.raw_result(garbage)

    nodes, deps = await bench.compare(await bench.lease(a, b))

    assert nodes.started == []  # it never ran
    assert nodes.completions == []
    (failure,) = nodes.failures
    assert failure.error.startswith("cannot prepare the task: not a valid zip archive")
    assert not (deps.work_root / failure.attempt_id).exists()  # nothing half-unpacked is left


async def test_verdict_kept_on_disk_survives_a_worker_restart(server, network, tmp_path):
    bench = await ComparisonBench(server, network, tmp_path).open()
    a = await bench.result({"value.json": '{"value": 1.0}'})
    b = await bench.result({"value.json": '{"value": 9.0}'})
    lease = await bench.lease(a, b)
    nodes = RecordingNodeService()
    nodes.down = True  # the report cannot be delivered, then the worker is stopped
    deps = bench.deps(ProcessExecutor(), nodes)

    await run_attempt(HeldAttempt(lease, cores=1, memory_mb=128), deps)
    assert nodes.completions == [] and nodes.failures == []

    # The next start of the worker finds the verdict on disk and sends it (as
    # WorkerAgent._resend_pending does).
    restarted = RecordingNodeService()
    deps = bench.deps(ProcessExecutor(), restarted)
    (kept,) = deps.pending.load_all()
    assert (kept.ok, kept.exit_code, kept.comparison, kept.result_zip) == (True, 1, True, "")
    await deliver(kept, deps)

    assert restarted.failures == []
    (completion,) = restarted.completions
    assert completion.attempt_id == lease.attempt_id
    assert completion.exit_code == 1 and completion.result_digest == ""
    assert deps.pending.load_all() == []
    (finished,) = _events(deps, ev.TASK_FINISHED)
    assert finished.comparison and finished.message == "results differ"


def test_exit_1_after_a_kill_is_a_failure_not_a_verdict():
    lease = node_pb2.TaskLease(attempt_id="att-1", job_id="job-1", task_index=0)
    lease.comparison.SetInParent()
    # A compare command that traps SIGTERM may exit with 1 when killed at its memory limit.
    killed = ExecutionResult(
        exit_code=1, error="killed: out of memory (limit 64 MB)", killed_by="memory"
    )
    report = verdict_report(lease, killed)
    assert not report.ok
    assert report.error == "compare command: killed: out of memory (limit 64 MB)"
    plain = verdict_report(lease, ExecutionResult(exit_code=1, error="exited with code 1"))
    assert (plain.ok, plain.exit_code, plain.error) == (True, 1, "")
