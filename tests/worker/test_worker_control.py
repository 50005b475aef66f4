"""What a contributor and a submitter notice while tasks run: a cancelled job stops its task
and refunds, a timeout fails the task, a stopped worker hands its task back, a changed
slider applies at once, a policy pause suspends the task, the node credential is reused (and a
refused one recovered with the login)."""

from __future__ import annotations

import asyncio

import psutil
import pytest

from app.services.policy import PolicyEngine
from app.services.worker import events as ev
from app.services.worker.agent import WorkerAgent
from proto.hivemind.v1 import common_pb2, job_pb2
from tests.kit.network import job_detail, signup_grant, submit, wait_for_job, write_package
from tests.kit.waiting import wait_until

# A task that says where it runs, then sleeps: long enough to be caught running.
SLEEPER = """
import os, time
open(os.path.join(os.environ["HIVEMIND_OUTPUT"], "pid"), "w").write(str(os.getpid()))
print("sleeping", flush=True)
time.sleep(60)
"""


@pytest.fixture
def server_settings():
    return {"heartbeat_interval_s": 1, "sweep_interval_s": 0.2}


def events_of(agent: WorkerAgent) -> list[ev.WorkerEvent]:
    seen: list[ev.WorkerEvent] = []
    agent.events.subscribe(seen.append)
    return seen


def task_pid(agent: WorkerAgent) -> int | None:
    """The pid the running task wrote into its output folder, once it has."""
    for attempt_id in agent.held:
        path = agent.cache_dir / "work" / attempt_id / "output" / "pid"
        if path.is_file() and path.read_text():
            return int(path.read_text())
    return None


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def test_cancel_stops_the_running_task_and_refunds(server, network, tmp_path):
    alice = await network.person(server.address, "alice")
    bob = await network.person(server.address, "bob")
    grant = await signup_grant(alice)
    worker = network.start_worker(bob)
    seen = events_of(worker)
    job = await submit(alice, write_package(tmp_path / "sleeper", SLEEPER), tasks=1)

    await wait_until(lambda: task_pid(worker), what="the task to run")
    pid = task_pid(worker)
    await alice.session.jobs.CancelJob(job_pb2.CancelJobRequest(job_id=job.job_id))

    # The next heartbeat carries the cancellation; the task's process is gone soon after.
    await wait_until(lambda: gone(pid), timeout=10, what="the task to stop")
    job = await wait_for_job(alice, job.job_id)
    assert job.state == common_pb2.JOB_STATE_CANCELLED
    await wait_until(lambda: not worker.held, what="the worker to let go of the attempt")
    assert any(e.kind == ev.TASK_FAILED and e.message == "cancelled" for e in seen)
    alice_balance = await alice.balance()
    assert alice_balance.balance_ucpt == grant  # the whole escrow came back
    assert alice_balance.escrow_ucpt == 0
    assert (await bob.balance()).balance_ucpt == grant


async def test_timeout_kills_the_task_and_fails_it(server, network, tmp_path):
    alice = await network.person(server.address, "alice")
    bob = await network.person(server.address, "bob")
    grant = await signup_grant(alice)
    network.start_worker(bob)
    package = write_package(tmp_path / "sleeper", SLEEPER)
    job = await submit(alice, package, tasks=1, timeout_s=1, max_attempts=1)

    job = await wait_for_job(alice, job.job_id)
    assert job.state == common_pb2.JOB_STATE_FAILED
    detail = await job_detail(alice, job.job_id)
    assert "timed out after 1 s" in detail.tasks[0].error
    assert detail.tasks[0].state == common_pb2.TASK_STATE_FAILED
    alice_balance, bob_balance = await alice.balance(), await bob.balance()
    assert alice_balance.escrow_ucpt == 0
    assert alice_balance.balance_ucpt + bob_balance.balance_ucpt == 2 * grant


async def test_stopped_worker_hands_the_task_back(server, network, tmp_path):
    alice = await network.person(server.address, "alice")
    bob = await network.person(server.address, "bob")
    carol = await network.person(server.address, "carol")
    grant = await signup_grant(alice)
    quitter = network.start_worker(bob)
    package = write_package(
        tmp_path / "short",
        """
        import os, time
        open(os.path.join(os.environ["HIVEMIND_OUTPUT"], "pid"), "w").write(str(os.getpid()))
        time.sleep(3)
        open(os.path.join(os.environ["HIVEMIND_OUTPUT"], "done.txt"), "w").write("done")
        """,
    )
    job = await submit(alice, package, tasks=1, max_attempts=3)
    await wait_until(lambda: task_pid(quitter), what="the task to run")
    pid = task_pid(quitter)

    quitter.request_stop(drain_timeout_s=0)  # stop now: do not wait for the task
    await wait_until(lambda: gone(pid), timeout=5, what="the task to stop")

    # The worker reports the handed-back attempt just after its process is gone.
    async def back_in_queue() -> bool:
        detail = await job_detail(alice, job.job_id)
        return detail.tasks[0].state == common_pb2.TASK_STATE_PENDING

    await wait_until(back_in_queue, timeout=10, what="the task to be handed back")
    detail = await job_detail(alice, job.job_id)
    assert detail.tasks[0].state == common_pb2.TASK_STATE_PENDING
    assert detail.tasks[0].attempts == 1

    network.start_worker(carol)
    job = await wait_for_job(alice, job.job_id)
    assert job.state == common_pb2.JOB_STATE_DONE
    assert (await bob.balance()).balance_ucpt == grant  # the stopped attempt earns nothing
    assert (await carol.balance()).balance_ucpt == grant + job.cost_ucpt


async def test_changed_core_limit_applies_without_restart(server, network, tmp_path):
    alice = await network.person(server.address, "alice")
    bob = await network.person(server.address, "bob")
    bob.settings.update_contributor(cores=1)
    worker = network.start_worker(bob)
    package = write_package(tmp_path / "nap", "import time\ntime.sleep(2)\n", tasks=4)
    job = await submit(alice, package, tasks=4)
    await wait_until(lambda: worker.held, what="a first task")
    await asyncio.sleep(0.6)  # a few lease rounds
    assert len(worker.held) == 1  # one core lent: one task at a time

    bob.settings.update_contributor(cores=2)
    await wait_until(lambda: len(worker.held) == 2, timeout=5, what="a second parallel task")
    job = await wait_for_job(alice, job.job_id)
    assert job.tasks_done == 4


async def test_policy_pause_suspends_tasks_and_leasing(server, network, tmp_path):
    alice = await network.person(server.address, "alice")
    bob = await network.person(server.address, "bob")
    bob.settings.update_contributor(cores=1)
    policy = PolicyEngine(bob.settings)  # the real engine; a manual pause is real
    worker = network.start_worker(bob, policy=policy)
    seen = events_of(worker)
    package = write_package(
        tmp_path / "counter",
        """
        import os, time
        open(os.path.join(os.environ["HIVEMIND_OUTPUT"], "pid"), "w").write(str(os.getpid()))
        time.sleep(1.5)
        """,
        tasks=2,
    )
    job = await submit(alice, package, tasks=2)
    await wait_until(lambda: task_pid(worker), what="the first task")
    pid = task_pid(worker)

    policy.pause()  # the contributor pauses sharing from the tray
    await wait_until(
        lambda: psutil.Process(pid).status() == psutil.STATUS_STOPPED,
        timeout=5,
        what="the task to be suspended",
    )
    await asyncio.sleep(2.0)  # longer than the task needs when running
    detail = await job_detail(alice, job.job_id)
    assert detail.job.tasks_done == 0  # suspended, not finished
    assert [t.state for t in detail.tasks].count(common_pb2.TASK_STATE_PENDING) == 1
    assert any(e.kind == ev.PAUSED and e.message == "manual pause" for e in seen)
    assert worker.paused_reason == "manual pause"

    policy.resume()
    job = await wait_for_job(alice, job.job_id)
    assert job.state == common_pb2.JOB_STATE_DONE
    assert any(e.kind == ev.RESUMED for e in seen)


async def test_node_credential_is_reused_recovered_and_replaced_when_unknown(server, network):
    bob = await network.person(server.address, "bob")
    first = WorkerAgent(bob.session, bob.settings, _executor(), bob.credentials)
    node_id = await first.register()
    stored = bob.credentials.load_node(server.address)
    assert stored is not None and stored.node_id == node_id

    again = WorkerAgent(bob.session, bob.settings, _executor(), bob.credentials)
    assert await again.register() == node_id  # the next start is the same node

    # A secret the server refuses (a rotation whose reply was lost before this start, or
    # rotated behind this machine's back): bob's login takes the node back.
    bob.credentials.save_node(server.address, node_id, "not-the-secret")
    recovered = WorkerAgent(bob.session, bob.settings, _executor(), bob.credentials)
    assert await recovered.register() == node_id
    now = bob.credentials.load_node(server.address)
    assert now.node_id == node_id and now.secret != "not-the-secret"

    # A node the server does not know any more (its data wiped, the node removed): only
    # then does the machine register as a new node.
    bob.credentials.save_node(server.address, "node-the-server-forgot", "s3cret")
    fresh = WorkerAgent(bob.session, bob.settings, _executor(), bob.credentials)
    new_id = await fresh.register()
    assert new_id not in (node_id, "node-the-server-forgot")
    assert bob.credentials.load_node(server.address).node_id == new_id


def _executor():
    from app.services.executors.process.executor import ProcessExecutor

    return ProcessExecutor()
