"""GPU jobs on a real server through real node RPCs: leased only to a node lending a free
GPU, paid for their GPU time, and saying why they wait while no online node lends one."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from proto.hivemind.v1 import common_pb2, job_pb2, node_pb2
from server.ledger.rewards import reward_for, worst_case_cost_ucpt
from server.store.schema import payouts
from server.validation.way_out import NO_FREE_GPU
from tests.kit.simulated_nodes import sim_node, submit_job
from tests.kit.stubs import (
    Stubs,
    balance,
    complete,
    get_job,
    make_package,
    register_node,
    sha256,
    submit,
    upload,
)

pytestmark = pytest.mark.db

CPT = 1_000_000
GPU_JOB = common_pb2.Resources(cores=1, memory_mb=64, timeout_s=600, gpus=1)


async def lease_with(stubs: Stubs, node, free_gpus: int) -> list:
    reply = await stubs.nodes.LeaseTasks(
        node_pb2.LeaseTasksRequest(
            free_cores=8,
            free_memory_mb=16384,
            free_disk_mb=100_000,
            max_tasks=4,
            free_gpus=free_gpus,
        ),
        metadata=node.metadata,
    )
    return list(reply.leases)


async def beat(stubs: Stubs, node, free_gpus: int) -> None:
    usage = node_pb2.Usage(free_cores=8, free_memory_mb=16384, free_gpus=free_gpus)
    await stubs.nodes.Heartbeat(node_pb2.HeartbeatRequest(usage=usage), metadata=node.metadata)


def test_gpu_time_is_paid_at_the_gpu_hour_rate():
    hour = 3_600_000
    reward = reward_for(
        base_ucpt_per_core_hour=10 * CPT,
        core_ms=2 * hour,  # 2 cores for an hour
        priority_permille=1000,
        base_ucpt_per_gpu_hour=100 * CPT,
        gpu_ms=hour,
    )
    assert (reward.base_ucpt, reward.gpu_ms) == (120 * CPT, hour)
    worst = {"tasks": 1, "replicas": 1, "cores": 2, "timeout_s": 3600, "priority_permille": 1000}
    bonuses = {"performance_bonus_permille": 0, "stability_bonus_permille": 0}
    rates = {"base_ucpt_per_core_hour": 10 * CPT, "base_ucpt_per_gpu_hour": 100 * CPT}
    assert worst_case_cost_ucpt(**worst, **bonuses, **rates) == 20 * CPT  # no GPUs asked
    assert worst_case_cost_ucpt(**worst, **bonuses, **rates, gpus=1) == 120 * CPT
    with pytest.raises(ValueError):
        reward_for(base_ucpt_per_core_hour=1, core_ms=1, priority_permille=1, gpu_ms=-1)


async def test_a_gpu_job_waits_for_a_free_gpu_says_so_and_pays_gpu_time(
    server, user_session, stubs
):
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    carol = await user_session(server, "carol")
    package = await upload(stubs, alice.metadata, make_package())
    job = await submit(stubs, alice.metadata, package.digest, resources=GPU_JOB, task_count=2)
    settings = server.settings
    rate = settings.base_ucpt_per_core_hour + settings.base_ucpt_per_gpu_hour
    estimate = await stubs.jobs.EstimateCost(
        job_pb2.EstimateCostRequest(resources=GPU_JOB, tasks=2), metadata=alice.metadata
    )
    assert job.max_cost_ucpt == estimate.worst_case_ucpt >= rate * 600 // 3600

    assert (await get_job(stubs, alice.metadata, job.job_id)).waiting == NO_FREE_GPU  # no node
    cpu_node = await register_node(stubs, bob.metadata, "cpu-box")
    await beat(stubs, cpu_node, free_gpus=0)
    assert (await get_job(stubs, alice.metadata, job.job_id)).waiting == NO_FREE_GPU
    assert await lease_with(stubs, cpu_node, free_gpus=0) == []  # never to a node without

    gpu_node = await register_node(stubs, carol.metadata, "gpu-box")
    await beat(stubs, gpu_node, free_gpus=1)
    assert (await get_job(stubs, alice.metadata, job.job_id)).waiting == ""
    [leased] = await lease_with(stubs, gpu_node, free_gpus=1)  # one GPU: one of the two
    assert leased.resources.gpus == 1
    await beat(stubs, gpu_node, free_gpus=0)
    # Its one GPU is busy with this job: the other task waits its turn, without a reason.
    assert (await get_job(stubs, alice.metadata, job.job_id)).waiting == ""

    before = await balance(stubs, carol.metadata)
    await asyncio.sleep(0.3)  # paid time is at most what the server saw pass since the lease
    [ack] = await complete(stubs, gpu_node, [leased.attempt_id], wall_seconds=36.0)
    assert ack.accepted
    earned = await balance(stubs, carol.metadata) - before
    payout = await server.ctx.db.run(
        lambda conn: conn.execute(
            select(payouts).where(payouts.c.attempt_id == leased.attempt_id)
        ).one()
    )
    # The core's time and the GPU's, at their hourly rates, before the bonuses.
    assert 300 <= payout.core_ms < 36_000
    assert payout.base_ucpt == rate * payout.core_ms // 3_600_000
    assert earned == payout.amount_ucpt >= payout.base_ucpt
    [second] = await lease_with(stubs, gpu_node, free_gpus=1)
    [ack] = await complete(stubs, gpu_node, [second.attempt_id])
    assert ack.accepted
    done = (await get_job(stubs, alice.metadata, job.job_id)).job
    assert done.state == common_pb2.JOB_STATE_DONE and done.cost_ucpt == earned


async def test_a_gpu_jobs_results_are_compared_by_a_node_without_a_gpu(server, user_session, stubs):
    alice = await user_session(server, "alice")
    hana, ivo, kai = [await user_session(server, n) for n in ("hana", "ivo", "kai")]
    await submit_job(
        stubs,
        alice,
        task_count=1,
        replicas=2,
        compare_command=["python3", "compare.py"],
        resources=GPU_JOB,
    )
    for owner, output in ((hana, b"0.5000001"), (ivo, b"0.5000002")):  # digests differ
        sim = await sim_node(stubs, owner, f"{owner.username}-gpu")
        [leased] = await lease_with(sim.stubs, sim.node, free_gpus=1)
        await upload(sim.stubs, sim.node.metadata, output, common_pb2.ARTIFACT_KIND_RESULT)
        completion = node_pb2.Completion(
            attempt_id=leased.attempt_id, result_digest=sha256(output), result_size=len(output)
        )
        await sim.stubs.nodes.CompleteAttempts(
            node_pb2.CompleteAttemptsRequest(completions=[completion]),
            metadata=sim.node.metadata,
        )
    judge = await sim_node(stubs, kai, "kai-cpu")
    [comparison] = await lease_with(judge.stubs, judge.node, free_gpus=0)
    assert comparison.HasField("comparison")
    assert comparison.resources.gpus == 0  # its container gets no GPU
