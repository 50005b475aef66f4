"""A task's life in the Docker executor, against the real dockerd: results, logs, deadline,
cancel, pause and resume, and the cleanup of a crashed worker's leftovers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import docker
import pytest

from app.services.executors.docker.config import LABEL_ATTEMPT, LABEL_INSTANCE, LABEL_TASK
from app.services.executors.docker.executor import DockerExecutor

pytestmark = pytest.mark.docker


async def test_output_files_come_back_and_environment_is_set(executor, make_spec):
    spec = make_spec(
        """
        import json, os
        with open(os.environ["HIVEMIND_INPUT"]) as handle:
            words = handle.read().split()
        result = {
            "words": len(words),
            "task": int(os.environ["HIVEMIND_TASK_INDEX"]),
            "input": os.environ["HIVEMIND_INPUT"],
            "task_dir": os.environ["HIVEMIND_TASK_DIR"],
            "cwd": os.getcwd(),
        }
        os.makedirs("/output/nested")
        with open(os.path.join(os.environ["HIVEMIND_OUTPUT"], "nested", "counts.json"), "w") as f:
            json.dump(result, f)
        print("done")
        """,
        input_text="the quick brown fox jumps",
    )
    result = await executor.run(spec, asyncio.Event())
    assert result.ok, result.error
    assert result.exit_code == 0
    saved = json.loads((spec.output_dir / "nested" / "counts.json").read_text())
    assert saved == {
        "words": 5,
        "task": spec.task_index,
        "input": "/input/words.txt",
        "task_dir": "/task",
        "cwd": "/task",
    }
    assert result.log == "done\n"
    assert result.wall_seconds > 0


async def test_failing_task_reports_its_exit_code_and_stderr(executor, make_spec):
    spec = make_spec("import sys\nprint('bad input', file=sys.stderr)\nsys.exit(3)\n")
    result = await executor.run(spec, asyncio.Event())
    assert not result.ok
    assert result.exit_code == 3
    assert result.error == "exited with code 3"
    assert "bad input" in result.log


async def test_log_streams_while_running_and_is_capped(executor, make_spec):
    spec = make_spec(
        """
        import time
        print("first line", flush=True)
        time.sleep(1.5)
        for i in range(5000):
            print("line", i)
        """,
        log_limit=1000,
    )
    live: list[str] = []
    first_seen = asyncio.Event()

    def on_log(text: str) -> None:
        live.append(text)
        if "first line" in "".join(live):
            first_seen.set()

    run = asyncio.create_task(executor.run(spec, asyncio.Event(), on_log=on_log))
    await asyncio.wait_for(first_seen.wait(), timeout=10)
    assert not run.done()  # the first line arrived while the task was still running
    result = await run
    assert result.ok, result.error
    assert result.log.startswith("first line\n")
    assert result.log.rstrip().endswith("line 4999")
    assert "bytes of log dropped" in result.log
    assert len(result.log.encode()) < 1100


async def test_task_past_its_timeout_is_killed_and_removed(executor, make_spec, containers_of):
    spec = make_spec("import time\nprint('sleeping', flush=True)\ntime.sleep(60)\n", timeout_s=2)
    started = time.monotonic()
    result = await executor.run(spec, asyncio.Event())
    assert time.monotonic() - started < 6
    assert result.timed_out
    assert result.error == "timed out after 2 s"
    assert "sleeping" in result.log
    assert containers_of(f"{LABEL_ATTEMPT}={spec.attempt_id}") == []


async def test_cancel_stops_within_two_seconds_and_removes(executor, make_spec, containers_of):
    spec = make_spec("import time\nprint('ready', flush=True)\ntime.sleep(60)\n")
    cancel = asyncio.Event()
    ready = asyncio.Event()
    run = asyncio.create_task(
        executor.run(spec, cancel, on_log=lambda text: "ready" in text and ready.set())
    )
    await asyncio.wait_for(ready.wait(), timeout=10)
    cancel.set()
    cancelled_at = time.monotonic()
    result = await asyncio.wait_for(run, timeout=5)
    assert time.monotonic() - cancelled_at < 2.0
    assert result.cancelled
    assert result.error == "cancelled"
    assert containers_of(f"{LABEL_ATTEMPT}={spec.attempt_id}") == []


async def test_cancel_reaches_a_paused_task(executor, make_spec, containers_of):
    spec = make_spec("import time\nprint('ready', flush=True)\ntime.sleep(60)\n")
    cancel = asyncio.Event()
    ready = asyncio.Event()
    run = asyncio.create_task(
        executor.run(spec, cancel, on_log=lambda text: "ready" in text and ready.set())
    )
    await asyncio.wait_for(ready.wait(), timeout=10)
    await executor.pause(spec.attempt_id)
    cancel.set()
    cancelled_at = time.monotonic()
    result = await asyncio.wait_for(run, timeout=5)
    assert time.monotonic() - cancelled_at < 2.0
    assert result.cancelled
    assert containers_of(f"{LABEL_ATTEMPT}={spec.attempt_id}") == []


async def test_log_survives_long_silences(runtime_image, instance, make_spec):
    # A silent task must not lose its log, even with a client whose request timeout is far
    # shorter than the silence (the executor reattaches if a stream ends while it runs).
    client = docker.from_env(timeout=1)
    executor = DockerExecutor(instance=instance, client=client)
    spec = make_spec("import time\nprint('before', flush=True)\ntime.sleep(2.5)\nprint('after')\n")
    try:
        result = await executor.run(spec, asyncio.Event())
    finally:
        client.close()
    assert result.ok, result.error
    assert result.log == "before\nafter\n"


def _container_cpu_seconds(docker_client, container) -> float:
    stats = docker_client.api.stats(container.id, stream=False, one_shot=True)
    return stats["cpu_stats"]["cpu_usage"]["total_usage"] / 1e9


async def test_paused_task_uses_no_cpu_then_resumes_and_finishes(
    executor, make_spec, containers_of, docker_client
):
    spec = make_spec(
        """
        import time
        print("working", flush=True)
        start = time.process_time()
        while time.process_time() - start < 0.4:  # 0.4 s of CPU, however long that takes
            pass
        print("finished")
        """,
        timeout_s=3,
    )
    working = asyncio.Event()
    run = asyncio.create_task(
        executor.run(spec, asyncio.Event(), on_log=lambda text: "working" in text and working.set())
    )
    await asyncio.wait_for(working.wait(), timeout=10)
    (container,) = containers_of(f"{LABEL_ATTEMPT}={spec.attempt_id}")

    await executor.pause(spec.attempt_id)
    container.reload()
    assert container.status == "paused"
    before = await asyncio.to_thread(_container_cpu_seconds, docker_client, container)
    await asyncio.sleep(3.5)  # longer than the 3 s deadline: pausing must not spend it
    after = await asyncio.to_thread(_container_cpu_seconds, docker_client, container)
    assert after - before < 0.02
    assert not run.done()

    await executor.resume(spec.attempt_id)
    result = await asyncio.wait_for(run, timeout=15)
    assert result.ok, result.error
    assert "finished" in result.log
    assert 0.35 < result.cpu_seconds < 1.0
    assert result.wall_seconds < 3.0  # paused time is not charged
    assert containers_of(f"{LABEL_ATTEMPT}={spec.attempt_id}") == []


async def test_leftovers_of_this_worker_are_removed_at_start(
    runtime_image, docker_client, instance, containers_of
):
    labels = {LABEL_TASK: "1", LABEL_INSTANCE: instance, LABEL_ATTEMPT: "crashed"}
    running = docker_client.containers.run(
        runtime_image, ["sleep", "60"], labels=labels, detach=True, network_mode="none"
    )
    created = docker_client.containers.create(
        runtime_image, ["sleep", "60"], labels=labels, network_mode="none"
    )
    paused = docker_client.containers.run(
        runtime_image, ["sleep", "60"], labels=labels, detach=True, network_mode="none"
    )
    paused.pause()
    others = {**labels, LABEL_INSTANCE: f"{instance}-other"}
    other = docker_client.containers.create(runtime_image, ["true"], labels=others)
    try:
        removed = await DockerExecutor(instance=instance).cleanup_leftovers()
        assert removed == 3
        assert containers_of(f"{LABEL_INSTANCE}={instance}") == []
        assert [c.id for c in containers_of(f"{LABEL_INSTANCE}={instance}-other")] == [other.id]
    finally:
        for container in (running, created, paused, other):
            with contextlib.suppress(Exception):
                container.remove(force=True)


async def test_unknown_runtime_and_missing_image_are_clear_errors(
    executor, make_spec, runtime_image, instance, instance_containers
):
    result = await executor.run(make_spec("print(1)", runtime="cobol-85"), asyncio.Event())
    assert result.error == "unknown runtime 'cobol-85' (this worker has: python-3.11)"
    assert result.exit_code is None

    lacking = DockerExecutor(instance=instance, runtime_images={"python-3.11": "hivemind/absent:0"})
    result = await lacking.run(make_spec("print(1)"), asyncio.Event())
    assert result.error == "runtime image hivemind/absent:0 is not present on this machine"
    assert lacking.runtimes() == []
    assert executor.runtimes() == ["python-3.11"]

    result = await executor.run(make_spec("print(1)", memory_mb=4), asyncio.Event())
    assert result.error == "memory must be at least 16 MB (got 4)"
    assert instance_containers() == []


async def test_available_says_yes_with_a_daemon(executor):
    status = await executor.available()
    assert status and status.reason == ""
