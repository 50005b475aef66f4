"""`hivemind worker run` as a contributor types it: real subprocesses against a real server."""

from __future__ import annotations

import asyncio
import json
import signal

import pytest

from proto.hivemind.v1 import common_pb2
from tests.kit.client_cli import worker_command
from tests.kit.network import job_detail, signup_grant, submit, wait_for_job, write_package
from tests.kit.paths import REPO_ROOT
from tests.kit.waiting import wait_until


@pytest.fixture
def server_settings():
    return {"heartbeat_interval_s": 1}


async def run_cli(argv, env, timeout=60.0) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv,
        env=env,
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode, out.decode(), err.decode()


async def test_worker_runs_jobs_then_exits_when_idle(server, network, tmp_path):
    alice = await network.person(server.address, "alice")
    bob = await network.person(server.address, "bob")
    grant = await signup_grant(alice)
    package = write_package(
        tmp_path / "hello",
        """
        import os
        path = os.path.join(os.environ["HIVEMIND_OUTPUT"], "hello.txt")
        open(path, "w").write("hello from task " + os.environ["HIVEMIND_TASK_INDEX"])
        """,
    )
    job = await submit(alice, package, tasks=3)
    argv, env = worker_command(bob.home, server.address, "--exit-when-idle", "1.5", "--json")

    code, out, err = await run_cli(argv, env)
    assert code == 0, err[-2000:]
    assert "tasks run WITHOUT a sandbox" in err  # the process executor says what it is
    summary = json.loads(out)
    assert summary["tasks_done"] == 3
    assert summary["tasks_failed"] == 0
    assert summary["executor"] == "process"
    job = await wait_for_job(alice, job.job_id, timeout=5)
    assert job.state == common_pb2.JOB_STATE_DONE
    assert summary["earned_ucpt"] == job.cost_ucpt
    assert (await bob.balance()).balance_ucpt == grant + job.cost_ucpt
    # Logs are grep-able by attempt, job and task.
    assert f"job={job.job_id} task=2" in err


async def test_sigterm_lets_the_running_task_finish(server, network, tmp_path):
    alice = await network.person(server.address, "alice")
    bob = await network.person(server.address, "bob")
    package = write_package(
        tmp_path / "nap",
        """
        import os, time
        time.sleep(2)
        open(os.path.join(os.environ["HIVEMIND_OUTPUT"], "done.txt"), "w").write("done")
        """,
    )
    job = await submit(alice, package, tasks=1)
    argv, env = worker_command(bob.home, server.address, "--json")
    proc = await asyncio.create_subprocess_exec(
        *argv,
        env=env,
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )

    async def running() -> bool:
        detail = await job_detail(alice, job.job_id)
        return detail.tasks[0].state == common_pb2.TASK_STATE_RUNNING

    await wait_until(running, timeout=30, what="the task to run")
    proc.send_signal(signal.SIGTERM)  # as a service manager stops it
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert json.loads(out)["tasks_done"] == 1  # finished, not abandoned
    job = await wait_for_job(alice, job.job_id, timeout=5)
    assert job.state == common_pb2.JOB_STATE_DONE


async def test_not_logged_in_says_how_to_log_in(server, tmp_path):
    argv, env = worker_command(tmp_path / "nobody", server.address)
    code, _out, err = await run_cli(argv, env)
    assert code != 0
    assert "hivemind account login" in err
    assert len(err.strip().splitlines()[-1]) < 300
    assert "Traceback" not in err


async def test_docker_unreachable_points_to_the_process_executor(server, network, tmp_path):
    bob = await network.person(server.address, "bob")
    argv, env = worker_command(bob.home, server.address)
    argv[argv.index("process")] = "docker"
    env["DOCKER_HOST"] = f"unix://{tmp_path}/no-docker-here.sock"  # a daemon that is not there
    code, _out, err = await run_cli(argv, env)
    assert code == 1
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: cannot reach the Docker daemon")
    assert "--executor process" in last


async def test_once_with_max_tasks_runs_one_batch_then_exits(server, network, tmp_path):
    alice = await network.person(server.address, "alice")
    bob = await network.person(server.address, "bob")
    package = write_package(tmp_path / "quick", "print('quick')\n")
    job = await submit(alice, package, tasks=3)
    argv, env = worker_command(bob.home, server.address, "--once", "--max-tasks", "1", "--json")

    code, out, err = await run_cli(argv, env)
    assert code == 0, err[-2000:]
    assert json.loads(out)["tasks_done"] == 1
    detail = await job_detail(alice, job.job_id)
    assert detail.job.tasks_done == 1
    states = sorted(common_pb2.TaskState.Name(t.state) for t in detail.tasks)
    assert states == ["TASK_STATE_DONE", "TASK_STATE_PENDING", "TASK_STATE_PENDING"]
