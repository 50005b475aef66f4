"""The process executor with real child processes: output, environment, limits, cancel,
pause. No sandbox is involved, so these run everywhere Python does."""

from __future__ import annotations

import asyncio
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from app.services.executors.base import TaskSpec
from app.services.executors.process.executor import NO_SANDBOX_WARNING, ProcessExecutor


def make_spec(tmp_path: Path, code: str, **overrides) -> TaskSpec:
    work = tmp_path / "work"
    package = work / "package"
    package.mkdir(parents=True)
    (package / "main.py").write_text(textwrap.dedent(code))
    fields = dict(
        attempt_id="at-test",
        job_id="job-test",
        task_index=5,
        runtime="python-3.11",
        command=["python3", "main.py"],
        package_dir=package,
        output_dir=work / "output",
        work_dir=work,
        timeout_s=30,
        memory_mb=512,
    )
    fields.update(overrides)
    return TaskSpec(**fields)


async def run(spec: TaskSpec, cancel: asyncio.Event | None = None, **kwargs):
    executor = ProcessExecutor(**kwargs)
    return await executor.run(spec, cancel or asyncio.Event())


async def test_task_sees_its_files_and_writes_output(tmp_path, monkeypatch):
    input_file = tmp_path / "words.txt"
    input_file.write_text("one two three")
    spec = make_spec(
        tmp_path,
        """
        import os, sys
        data = open(os.environ["HIVEMIND_INPUT"]).read()
        out = os.path.join(os.environ["HIVEMIND_OUTPUT"], "answer.txt")
        open(out, "w").write(f"{os.environ['HIVEMIND_TASK_INDEX']}:{len(data.split())}")
        print("package at", os.environ["HIVEMIND_TASK_DIR"])
        print("python is", sys.executable)
        print("secret:", os.environ.get("HIVEMIND_TEST_SECRET", "absent"))
        """,
        input_path=input_file,
    )
    monkeypatch.setenv("HIVEMIND_TEST_SECRET", "do-not-leak")
    result = await run(spec)
    assert result.ok, result.error
    assert (spec.output_dir / "answer.txt").read_text() == "5:3"
    assert f"package at {spec.package_dir}" in result.log
    # `python3` in the command is the interpreter running HiveMind (venv, frozen or not).
    assert f"python is {sys.executable}" in result.log
    # The worker's own environment (tokens, credentials) does not reach the task.
    assert "secret: absent" in result.log
    assert result.wall_seconds > 0


async def test_failing_task_reports_exit_code_and_log(tmp_path):
    spec = make_spec(
        tmp_path,
        """
        import sys
        print("about to fail", file=sys.stderr)
        sys.exit(3)
        """,
    )
    result = await run(spec)
    assert not result.ok
    assert result.exit_code == 3
    assert result.error == "exited with code 3"
    assert "about to fail" in result.log


async def test_unknown_program_is_a_clear_error(tmp_path):
    spec = make_spec(tmp_path, "pass", command=["no-such-program-hivemind"])
    result = await run(spec)
    assert not result.ok
    assert result.error.startswith("cannot start no-such-program-hivemind")


async def test_timeout_kills_the_whole_group(tmp_path):
    spec = make_spec(
        tmp_path,
        """
        import os, subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        open(os.path.join(os.environ["HIVEMIND_OUTPUT"], "child.pid"), "w").write(str(child.pid))
        print("started child", flush=True)
        time.sleep(60)
        """,
        timeout_s=1,
    )
    result = await run(spec)
    assert result.timed_out
    assert result.error == "timed out after 1 s"
    assert "started child" in result.log
    child_pid = int((spec.output_dir / "child.pid").read_text())
    # The grandchild went down with the task: nothing keeps running after a timeout.
    for _ in range(20):
        if not psutil.pid_exists(child_pid) or psutil.Process(child_pid).status() == "zombie":
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the task's child survived the timeout")


async def test_cancel_stops_the_task_quickly(tmp_path):
    spec = make_spec(
        tmp_path,
        """
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a stubborn task: needs SIGKILL
        print("running", flush=True)
        time.sleep(60)
        """,
    )
    cancel = asyncio.Event()
    task = asyncio.create_task(run(spec, cancel))
    await asyncio.sleep(0.5)
    cancel.set()
    stopped_at = time.monotonic()
    result = await asyncio.wait_for(task, timeout=5)
    assert time.monotonic() - stopped_at < 2.0
    assert result.cancelled
    assert not result.ok
    assert result.error == "cancelled"


async def test_memory_limit_kills_the_task(tmp_path):
    spec = make_spec(
        tmp_path,
        """
        import time
        hog = bytearray(300 * 1024 * 1024)
        time.sleep(10)
        """,
        memory_mb=100,
    )
    result = await run(spec)
    assert not result.ok
    assert result.error == "killed: out of memory (limit 100 MB)"
    assert result.peak_memory_mb >= 100


async def test_disk_limit_kills_the_task(tmp_path):
    spec = make_spec(
        tmp_path,
        """
        import os, time
        path = os.path.join(os.environ["HIVEMIND_OUTPUT"], "big.bin")
        with open(path, "wb") as f:
            for _ in range(30):
                f.write(b"x" * 1024 * 1024)
                f.flush()
        time.sleep(10)
        """,
        disk_mb=10,
    )
    result = await run(spec, disk_check_interval_s=0.2)
    assert result.error == "killed: disk limit exceeded (10 MB)"


async def test_measures_cpu_time(tmp_path):
    spec = make_spec(
        tmp_path,
        """
        import time
        end = time.process_time() + 0.5
        while time.process_time() < end:
            pass
        """,
    )
    result = await run(spec)
    assert result.ok
    assert result.cpu_seconds >= 0.4
    assert result.wall_seconds >= result.cpu_seconds * 0.9


async def test_log_is_capped_head_and_tail(tmp_path):
    spec = make_spec(
        tmp_path,
        """
        print("FIRST LINE")
        for i in range(20000):
            print("filler line", i)
        print("LAST LINE")
        """,
        log_limit=4096,
    )
    result = await run(spec)
    assert result.ok
    assert result.log.startswith("FIRST LINE")
    assert result.log.rstrip().endswith("LAST LINE")
    assert "bytes of log dropped" in result.log
    assert len(result.log) < 4096 + 200


async def test_pause_stops_the_clock_and_the_cpu(tmp_path):
    spec = make_spec(
        tmp_path,
        """
        import time
        end = time.process_time() + 0.5
        while time.process_time() < end:
            pass
        print("finished")
        """,
        timeout_s=3,
    )
    executor = ProcessExecutor()
    started = time.monotonic()
    task = asyncio.create_task(executor.run(spec, asyncio.Event()))
    while spec.attempt_id not in executor._running:  # spawned (in a thread) yet?
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    await executor.pause(spec.attempt_id)
    proc = psutil.Process(executor._running[spec.attempt_id].proc.pid)
    await asyncio.sleep(0.2)
    assert proc.status() == psutil.STATUS_STOPPED
    cpu_before = sum(proc.cpu_times()[:2])
    await asyncio.sleep(3.5)  # longer than the task's whole timeout
    assert sum(proc.cpu_times()[:2]) == pytest.approx(cpu_before, abs=0.02)
    await executor.resume(spec.attempt_id)
    result = await asyncio.wait_for(task, 30)
    # Paused time is neither timed (no timeout) nor charged (wall time excludes it).
    assert result.ok, result.error
    assert "finished" in result.log
    assert result.wall_seconds < (time.monotonic() - started) - 3.5


def test_warns_once_that_there_is_no_sandbox(caplog):
    import app.services.executors.process.executor as process

    process._warned = False
    with caplog.at_level("WARNING"):
        ProcessExecutor()
        ProcessExecutor()
    assert [r.getMessage() for r in caplog.records].count(NO_SANDBOX_WARNING) == 1
    assert "python-3.11" in ProcessExecutor().runtimes()
