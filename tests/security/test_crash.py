"""The server SIGKILLed several times in the middle of a replicated job (a real subprocess,
real workers' RPCs over gRPC): the job completes with the right results, no attempt is paid
twice, and the ledger still holds exactly what was granted."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import pytest

from proto.hivemind.v1 import common_pb2, job_pb2, node_pb2
from server.ledger import audit
from server.store.db import Database
from tests.kit.accounts import register_user
from tests.kit.auditor import query
from tests.kit.simulated_nodes import SimNode, assert_results_correct, sim_node, submit_job
from tests.kit.stubs import Stubs, sha256, upload

pytestmark = pytest.mark.db

TRANSIENT = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 500),
]
TASKS = 30


async def retried(call: Callable[[], Awaitable[Any]]) -> Any:
    """What a real worker does while the server is away: the same request again."""
    while True:
        try:
            return await call()
        except grpc.aio.AioRpcError as error:
            if error.code() not in TRANSIENT:
                raise
            await asyncio.sleep(0.1)


async def worker(stubs: Stubs, sim: SimNode, done: asyncio.Event, leasing: asyncio.Event) -> None:
    stubs = sim.stubs  # the machine's own channel, from its own address
    request = node_pb2.LeaseTasksRequest(free_cores=8, free_memory_mb=16384, max_tasks=1)
    while not done.is_set():
        await leasing.wait()
        reply = await retried(
            lambda: stubs.nodes.LeaseTasks(request, metadata=sim.node.metadata, timeout=5)
        )
        completions = []
        for lease in reply.leases:
            data = sim.output(lease.task_index)
            await retried(
                lambda data=data: upload(
                    stubs, sim.node.metadata, data, common_pb2.ARTIFACT_KIND_RESULT
                )
            )
            completions.append(
                node_pb2.Completion(
                    attempt_id=lease.attempt_id,
                    result_digest=sha256(data),
                    result_size=len(data),
                    stats=node_pb2.AttemptStats(wall_seconds=0.5),
                )
            )
        if completions:
            report = node_pb2.CompleteAttemptsRequest(completions=completions)
            # A lease lost to the restart may be refused (expired); the task was requeued.
            await retried(
                lambda report=report: stubs.nodes.CompleteAttempts(
                    report, metadata=sim.node.metadata, timeout=5
                )
            )
        await asyncio.sleep(0.1)


@pytest.fixture
def short_leases() -> dict[str, str]:
    """The server's environment: leases lost with a killed server come back to the queue
    within seconds."""
    return {"HIVEMIND_SERVER_LEASE_TTL_S": "3", "HIVEMIND_SERVER_SWEEP_INTERVAL_S": "0.5"}


async def test_server_killed_mid_job_completes_and_pays_each_attempt_once(
    server_process, short_leases
):
    proc = await server_process(env=short_leases)
    db_file = proc.data_dir / "hivemind.db"
    async with grpc.aio.insecure_channel(proc.address, options=CHANNEL_OPTIONS) as channel:
        stubs = Stubs(channel, proc.address)
        alice = await register_user(proc.address, "alice")
        sims = [
            await sim_node(stubs, await register_user(proc.address, name), f"{name}-box")
            for name in ("hana", "ivo", "jun")
        ]
        job = await submit_job(stubs, alice, task_count=TASKS, replicas=2)
        done = asyncio.Event()
        # Workers hold new leases while the test decides to kill, so a slow, loaded machine
        # cannot let them finish the job between the milestone and the kill; what they have
        # in flight still meets the kill.
        leasing = asyncio.Event()
        leasing.set()
        workers = [asyncio.create_task(worker(stubs, sim, done, leasing)) for sim in sims]
        kills_mid_job = 0

        async def tasks_done() -> int:
            reply = await retried(
                lambda: stubs.jobs.GetJob(
                    job_pb2.GetJobRequest(job_id=job.job_id), metadata=alice.metadata, timeout=5
                )
            )
            return reply.job.tasks_done

        try:
            # Killed at three points of the job's progress (a little random each run).
            for share in (0.2, 0.45, 0.7):
                milestone = int(TASKS * (share + random.uniform(-0.05, 0.05)))
                while await tasks_done() < milestone:
                    await asyncio.sleep(0.02)
                leasing.clear()
                kills_mid_job += await tasks_done() < TASKS
                await proc.kill()
                await proc.start()
                leasing.set()
            detail = None
            for _ in range(600):
                detail = await retried(
                    lambda: stubs.jobs.GetJob(
                        job_pb2.GetJobRequest(job_id=job.job_id, include_tasks=True),
                        metadata=alice.metadata,
                        timeout=5,
                    )
                )
                if detail.job.state == common_pb2.JOB_STATE_DONE:
                    break
                await asyncio.sleep(0.1)
        finally:
            done.set()
            leasing.set()
            await asyncio.gather(*workers, return_exceptions=True)
    assert kills_mid_job == 3, "a kill came after the job ended"
    assert detail is not None and detail.job.state == common_pb2.JOB_STATE_DONE
    assert_results_correct(detail)
    await proc.stop()

    # No attempt paid twice, only agreeing results paid, at most two per task.
    twice = query(
        db_file,
        "SELECT attempt_id FROM ledger_transactions WHERE reason = 'payout'"
        " GROUP BY attempt_id HAVING count(*) > 1",
    )
    assert twice == []
    unpaid_kind = query(
        db_file,
        "SELECT p.attempt_id FROM payouts p JOIN result_checks r ON r.attempt_id = p.attempt_id"
        " WHERE r.status != 'valid'",
    )
    assert unpaid_kind == []
    per_task = query(
        db_file,
        "SELECT a.task_id, count(*) FROM payouts p JOIN attempts a ON a.id = p.attempt_id"
        " GROUP BY a.task_id",
    )
    assert len(per_task) == TASKS and {count for _, count in per_task} == {2}
    assert (
        query(db_file, "SELECT count(*) FROM payouts")[0][0]
        == query(db_file, "SELECT count(*) FROM ledger_transactions WHERE reason = 'payout'")[0][0]
    )
    database = Database.for_data_dir(proc.data_dir, proc.settings.database_url or None)
    try:
        report = database.transaction_sync(audit.check_ledger)
    finally:
        database.close()
    assert report.ok, report.problems  # every account's entries add up; total == granted
    assert report.total_granted_ucpt == report.total_in_accounts_ucpt == 4 * 100 * 1_000_000
