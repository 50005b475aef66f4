"""An idle worker waits on the server for work (a long-poll of LeaseTasks) instead of asking
every few seconds: a job submitted while it waits starts at once. Against a server that
answers at once (one that predates long-polls, here one told to wait 0 s), it keeps working
by asking again every poll interval, as before."""

from __future__ import annotations

import asyncio
import time

from app.services.worker import events as ev
from proto.hivemind.v1 import common_pb2
from tests.kit.network import submit, wait_for_job, write_package

CODE = """
import os, pathlib
pathlib.Path(os.environ["HIVEMIND_OUTPUT"], "ok.txt").write_text("ok")
"""


async def idle_worker_then_job(network, server, tmp_path, poll_s: float) -> float:
    """Seconds from submitting a job to its task starting, on a worker idle for a while
    that would otherwise ask for work every `poll_s` seconds."""
    alice = await network.person(server.address, "alice")
    bob = await network.person(server.address, "bob")
    agent = network.start_worker(bob, lease_poll_s=poll_s)
    started = asyncio.Event()
    agent.events.subscribe(lambda e: started.set() if e.kind == ev.TASK_STARTED else None)
    while not agent.node_id:
        await asyncio.sleep(0.05)
    await asyncio.sleep(2.0)  # idle: the worker's lease call is waiting (or it polls)
    submitted = time.monotonic()
    job = await submit(alice, write_package(tmp_path / "pkg", CODE), tasks=1)
    await asyncio.wait_for(started.wait(), 30)
    delay = time.monotonic() - submitted
    assert (await wait_for_job(alice, job.job_id)).state == common_pb2.JOB_STATE_DONE
    return delay


async def test_a_job_submitted_while_a_worker_waits_starts_at_once(network, server, tmp_path):
    # Polling every 30 s, it would likely wait far longer.
    assert await idle_worker_then_job(network, server, tmp_path, poll_s=30.0) < 1.5


async def test_a_server_that_answers_at_once_is_polled_as_before(network, make_server, tmp_path):
    server = await make_server(lease_wait_max_s=0)
    assert await idle_worker_then_job(network, server, tmp_path, poll_s=1.0) < 10
