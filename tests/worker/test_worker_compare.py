"""Comparisons on the worker (issue 6): a lease carrying `comparison` runs the job's compare
command on two replicas' results and reports its verdict.

The artifacts are real: alice's package (with compare.py) and two results uploaded by bob's
node go to a real server on 127.0.0.1, and carol's node (the comparer) downloads them with its
own node credential after being granted read access in the server's database, as the server
does when it leases a comparison. StartAttempts/CompleteAttempts/FailAttempts go to
`RecordingNodeService`, a recording fake: the server side that leases comparisons is being
written at the same time and does not lease them yet. (The bench: tests/kit/comparison_bench.py.)
"""

from __future__ import annotations

from app.services.executors.base import ExecutionResult
from app.services.executors.process.executor import ProcessExecutor
from app.services.worker import events as ev
from app.services.worker.attempt import run_attempt
from app.services.worker.compare import verdict_report
from app.services.worker.held import AttemptDeps, HeldAttempt
from app.services.worker.report import deliver
from proto.hivemind.v1 import node_pb2
from tests.kit.comparison_bench import ComparisonBench, RecordingNodeService


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
