"""Crashes lose nothing: a worker SIGKILLed mid-task lets its lease expire and another worker
finishes the task (paid once); a server SIGKILLed mid-job restarts on the same data dir and
the job finishes with every result and every CPT accounted for."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal

import psutil
import pytest

from proto.hivemind.v1 import account_pb2, common_pb2
from tests.kit.admin import admin_json
from tests.kit.client_cli import worker_command
from tests.kit.network import (
    download_results,
    job_detail,
    signup_grant,
    submit,
    wait_for_job,
    write_package,
)
from tests.kit.paths import REPO_ROOT
from tests.kit.waiting import wait_until


@pytest.fixture
def server_settings():
    # Short leases so a dead worker's task is requeued within seconds.
    return {"lease_ttl_s": 3, "heartbeat_interval_s": 1, "sweep_interval_s": 0.2}


async def test_killed_worker_lease_expires_and_another_finishes(server, network, tmp_path):
    alice = await network.person(server.address, "alice")
    bob = await network.person(server.address, "bob")
    carol = await network.person(server.address, "carol", register=True)
    grant = await signup_grant(alice)
    package = write_package(
        tmp_path / "slow",
        """
        import os, time
        time.sleep(4)
        open(os.path.join(os.environ["HIVEMIND_OUTPUT"], "answer.txt"), "w").write("42")
        """,
    )
    job = await submit(alice, package, tasks=1, max_attempts=3)

    # bob's worker is a real `hivemind worker run` process, using bob's stored login.
    argv, env = worker_command(bob.home, server.address)
    log_path = tmp_path / "bob-worker.log"
    with open(log_path, "wb") as log_file:
        bob_worker = await asyncio.create_subprocess_exec(
            *argv, env=env, cwd=REPO_ROOT, stdout=log_file, stderr=log_file
        )
    try:

        async def running() -> bool:
            detail = await job_detail(alice, job.job_id)
            return detail.tasks[0].state == common_pb2.TASK_STATE_RUNNING

        await wait_until(running, timeout=30, what="bob's worker to run the task")
        orphans = psutil.Process(bob_worker.pid).children(recursive=True)
        bob_worker.send_signal(signal.SIGKILL)
        await bob_worker.wait()
    finally:
        if bob_worker.returncode is None:
            bob_worker.kill()
            await bob_worker.wait()
    # A killed worker's task process is an orphan nobody reports for; end it here so the
    # test leaves nothing behind (on a real machine it would end with its timeout).
    for orphan in orphans:
        with contextlib.suppress(psutil.NoSuchProcess):
            orphan.kill()

    carol_worker = network.start_worker(carol)
    job = await wait_for_job(alice, job.job_id, timeout=60)
    assert job.state == common_pb2.JOB_STATE_DONE, log_path.read_text()[-2000:]
    detail = await job_detail(alice, job.job_id)
    assert detail.tasks[0].attempts == 2
    assert detail.tasks[0].node_id == carol_worker.node_id

    await download_results(alice, job.job_id, tmp_path / "results")
    assert (tmp_path / "results" / "0" / "answer.txt").read_text() == "42"
    # Paid once, to carol; bob's expired attempt earned nothing.
    bob_balance, carol_balance = await bob.balance(), await carol.balance()
    alice_balance = await alice.balance()
    assert bob_balance.balance_ucpt == grant
    assert carol_balance.balance_ucpt == grant + job.cost_ucpt
    assert job.cost_ucpt > 0
    total = alice_balance.balance_ucpt + bob_balance.balance_ucpt + carol_balance.balance_ucpt
    assert total == 3 * grant
    earnings = await carol.session.account.GetEarnings(account_pb2.GetEarningsRequest(days=1))
    assert len(earnings.payouts) == 1


async def test_server_killed_mid_job_loses_nothing(server_process, network, tmp_path):
    data_dir = tmp_path / "server-data"
    data_dir.mkdir()
    (data_dir / "server.toml").write_text(
        "[server]\nlease_ttl_s = 20\nheartbeat_interval_s = 1\nsweep_interval_s = 0.2\n"
    )
    proc = await server_process(data_dir=data_dir)
    alice = await network.person(proc.address, "alice")
    bob = await network.person(proc.address, "bob")
    grant = await signup_grant(alice)
    bob.settings.update_contributor(cores=1)
    network.start_worker(bob)
    tasks = 6
    package = write_package(
        tmp_path / "steps",
        """
        import json, os, time
        index = int(os.environ["HIVEMIND_TASK_INDEX"])
        time.sleep(0.7)
        with open(os.path.join(os.environ["HIVEMIND_OUTPUT"], "square.json"), "w") as f:
            json.dump({"index": index, "square": index * index}, f)
        """,
    )
    job = await submit(alice, package, tasks=tasks, max_attempts=5)

    async def some_done() -> bool:
        return (await job_detail(alice, job.job_id)).job.tasks_done >= 2

    await wait_until(some_done, timeout=60, what="the first results")
    await proc.kill()  # SIGKILL: no graceful shutdown, as in a crash
    # Down longer than the client session's own retries: the worker's loops must carry on,
    # and a result finished meanwhile waits on disk until the server is back.
    await asyncio.sleep(5.0)
    await proc.start()  # same data dir, same port: workers and clients reconnect

    job = await wait_for_job(alice, job.job_id, timeout=120)
    assert job.state == common_pb2.JOB_STATE_DONE, proc.log()[-3000:]
    assert job.tasks_done == tasks
    await download_results(alice, job.job_id, tmp_path / "results")
    for index in range(tasks):
        result = json.loads((tmp_path / "results" / str(index) / "square.json").read_text())
        assert result == {"index": index, "square": index * index}

    alice_balance, bob_balance = await alice.balance(), await bob.balance()
    assert alice_balance.escrow_ucpt == 0
    assert bob_balance.balance_ucpt - grant == job.cost_ucpt  # every task paid exactly once
    assert alice_balance.balance_ucpt + bob_balance.balance_ucpt == 2 * grant
    report = await asyncio.to_thread(admin_json, data_dir, "check-ledger")
    assert report["ok"], report["problems"]
    assert report["total_in_accounts"]["ucpt"] == report["total_granted"]["ucpt"] == 2 * grant


async def test_result_kept_on_disk_until_the_server_acknowledges(server_process, network, tmp_path):
    data_dir = tmp_path / "server-data"
    data_dir.mkdir()
    (data_dir / "server.toml").write_text(
        "[server]\nlease_ttl_s = 60\nheartbeat_interval_s = 1\nsweep_interval_s = 0.2\n"
    )
    proc = await server_process(data_dir=data_dir)
    alice = await network.person(proc.address, "alice")
    bob = await network.person(proc.address, "bob")
    grant = await signup_grant(alice)
    first_run = network.start_worker(bob)
    started = []
    first_run.events.subscribe(lambda e: started.append(e) if e.kind == "task_started" else None)
    package = write_package(
        tmp_path / "one",
        """
        import os, time
        time.sleep(1.5)
        open(os.path.join(os.environ["HIVEMIND_OUTPUT"], "answer.txt"), "w").write("kept")
        """,
    )
    job = await submit(alice, package, tasks=1)
    await wait_until(lambda: started, what="the task to start")
    await proc.kill()

    # The task finishes while the server is down: its report waits in the worker's cache.
    pending = first_run.cache_dir / "pending"
    await wait_until(lambda: list(pending.glob("*.json")), timeout=30, what="a kept report")
    first_run.request_stop(drain_timeout_s=0)
    await wait_until(lambda: first_run.stopping and not first_run.held, timeout=30, what="stop")
    assert len(list(pending.glob("*.json"))) == 1  # still there after the worker stopped

    await proc.start()
    second_run = network.start_worker(bob)  # same home: same node, and it sends the report
    job = await wait_for_job(alice, job.job_id, timeout=60)
    assert job.state == common_pb2.JOB_STATE_DONE
    assert second_run.node_id == first_run.node_id
    await download_results(alice, job.job_id, tmp_path / "results")
    assert (tmp_path / "results" / "0" / "answer.txt").read_text() == "kept"
    await wait_until(lambda: not list(pending.glob("*.json")), what="the report to be dropped")
    assert (await bob.balance()).balance_ucpt == grant + job.cost_ucpt
