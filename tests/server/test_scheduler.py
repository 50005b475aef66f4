"""Leases, retries, expiry and fairness, through real node RPCs against a real server."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from sqlalchemy import func, select

from proto.hivemind.v1 import admin_pb2, admin_pb2_grpc, common_pb2, node_pb2
from server.ledger import journal as ledger
from server.store.schema import payouts
from tests.kit import loopback_networks
from tests.kit.stubs import (
    Node,
    Stubs,
    balance,
    complete,
    fail,
    get_job,
    lease,
    make_package,
    register_node,
    submit,
    upload,
)

pytestmark = pytest.mark.db

CPT = 1_000_000


@pytest.fixture
def server_settings() -> dict:
    # Short leases and a fast sweep, so expiry happens within a test.
    return {"lease_ttl_s": 1, "sweep_interval_s": 0.1, "node_offline_after_s": 3600}


@pytest.fixture
async def stubs(grpc_channel: grpc.aio.Channel) -> Stubs:
    return Stubs(grpc_channel)


async def _job(stubs: Stubs, metadata: tuple, **overrides) -> object:
    info = await upload(stubs, metadata, make_package())
    return await submit(stubs, metadata, info.digest, **overrides)


async def _payout_rows(server) -> int:
    return await server.ctx.db.run(
        lambda conn: conn.execute(select(func.count()).select_from(payouts)).scalar()
    )


async def _renew(stubs: Stubs, node: Node, attempt_ids: list[str]) -> list[str]:
    beat = await stubs.nodes.Heartbeat(
        node_pb2.HeartbeatRequest(running_attempt_ids=attempt_ids), metadata=node.metadata
    )
    return list(beat.cancel_attempt_ids)


async def test_a_node_cannot_complete_another_nodes_attempt(server, user_session, stubs):
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    mallory = await user_session(server, "mallory")
    await _job(stubs, alice.metadata)
    honest = await register_node(stubs, bob.metadata)
    thief = await register_node(stubs, mallory.metadata)
    [leased] = await lease(stubs, honest)
    [ack] = await complete(stubs, thief, [leased.attempt_id], wall_seconds=60)
    assert not ack.accepted
    assert ack.error == f"attempt {leased.attempt_id} is leased to another node"
    [ack] = await fail(stubs, thief, [leased.attempt_id])
    assert not ack.accepted and "another node" in ack.error
    started = await stubs.nodes.StartAttempts(
        node_pb2.StartAttemptsRequest(attempt_ids=[leased.attempt_id, "att-unknown"]),
        metadata=thief.metadata,
    )
    assert [a.accepted for a in started.acks] == [False, False]
    assert started.acks[1].error == "unknown attempt att-unknown"
    assert await balance(stubs, mallory.metadata) == 100 * CPT
    # The rightful node still completes it.
    [ack] = await complete(stubs, honest, [leased.attempt_id])
    assert ack.accepted


async def test_a_user_token_cannot_act_as_a_node(server, user_session, stubs):
    alice = await user_session(server, "alice")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stubs.nodes.LeaseTasks(
            node_pb2.LeaseTasksRequest(free_cores=1, free_memory_mb=100, max_tasks=1),
            metadata=alice.metadata,
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_expired_lease_is_requeued_and_paid_once_to_the_finisher(server, user_session, stubs):
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    carol = await user_session(server, "carol")
    job = await _job(stubs, alice.metadata)
    slow = await register_node(stubs, bob.metadata, name="slow")
    fast = await register_node(stubs, carol.metadata, name="fast")
    [first] = await lease(stubs, slow)
    assert await lease(stubs, fast) == []  # leased, so not offered twice

    # The slow node never renews: its lease (1 s) expires and the sweep requeues the task.
    second = []
    for _ in range(50):
        await asyncio.sleep(0.1)
        second = await lease(stubs, fast)
        if second:
            break
    assert [item.task_id for item in second] == [first.task_id]
    assert second[0].attempt_id != first.attempt_id

    # The slow node learns its lease is gone, and its late result is refused.
    assert await _renew(stubs, slow, [first.attempt_id]) == [first.attempt_id]
    [late] = await complete(stubs, slow, [first.attempt_id], wall_seconds=1)
    assert not late.accepted and "expired" in late.error
    await asyncio.sleep(0.1)
    [ack] = await complete(stubs, fast, [second[0].attempt_id], wall_seconds=0.036)
    assert ack.accepted and ack.payout_ucpt == 100

    detail = await get_job(stubs, alice.metadata, job.job_id, tasks=True)
    assert detail.job.state == common_pb2.JOB_STATE_DONE
    assert detail.tasks[0].attempts == 2
    assert detail.tasks[0].node_id == fast.node_id
    assert await balance(stubs, carol.metadata) == 100 * CPT + 100
    assert await balance(stubs, bob.metadata) == 100 * CPT
    assert await _payout_rows(server) == 1
    assert await server.ctx.db.run(ledger.check) == []


async def test_heartbeats_keep_a_lease_alive(server, user_session, stubs):
    alice = await user_session(server, "alice")
    await _job(stubs, alice.metadata)
    node = await register_node(stubs, alice.metadata)
    [leased] = await lease(stubs, node)
    for _ in range(6):  # 1.8 s, well past the 1 s lease, renewed every 0.3 s
        await asyncio.sleep(0.3)
        assert await _renew(stubs, node, [leased.attempt_id]) == []
    [ack] = await complete(stubs, node, [leased.attempt_id])
    assert ack.accepted


async def test_replayed_completion_pays_once(server, user_session, stubs):
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    await _job(stubs, alice.metadata, task_count=2)
    node = await register_node(stubs, bob.metadata)
    [leased] = await lease(stubs, node)
    await asyncio.sleep(0.1)
    [first] = await complete(stubs, node, [leased.attempt_id], wall_seconds=0.072)
    assert first.accepted and first.payout_ucpt == 200
    replays = await complete(stubs, node, [leased.attempt_id] * 2, wall_seconds=0.072)
    assert [(a.accepted, a.error, a.payout_ucpt) for a in replays] == [
        (True, "already completed", 200)
    ] * 2
    [after_fail] = await fail(stubs, node, [leased.attempt_id])
    assert not after_fail.accepted and after_fail.error.endswith("already completed")
    assert await balance(stubs, bob.metadata) == 100 * CPT + 200
    assert await _payout_rows(server) == 1


async def test_failures_retry_elsewhere_then_fail_the_task_with_the_last_error(
    server, user_session, stubs
):
    # Each machine dials from a network of its own (tests/kit/loopback_networks.py), as
    # strangers' machines do: a task fails for good once max_attempts independent nodes failed it.
    async def machine() -> Stubs:
        source = loopback_networks.Network().machine()
        return Stubs(await loopback_networks.channel_from(server.address, source), server.address)

    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    carol = await user_session(server, "carol")
    job = await _job(stubs, alice.metadata, max_attempts=2)
    bobs = await machine()
    node = await register_node(bobs, bob.metadata)
    [one] = await lease(bobs, node)
    [ack] = await fail(bobs, node, [one.attempt_id], error="disk full")
    assert ack.accepted
    [replay] = await fail(bobs, node, [one.attempt_id], error="disk full")
    assert replay.accepted and replay.error == "already failed"
    # A node never gets again a task it failed; its owner's other machine may try, but
    # one owner's failures count once towards max_attempts.
    assert await lease(bobs, node) == []
    bobs_other = await machine()
    second_box = await register_node(bobs_other, bob.metadata, name="bob-2")
    [again] = await lease(bobs_other, second_box)
    assert again.task_id == one.task_id
    [ack] = await fail(bobs_other, second_box, [again.attempt_id], error="disk full")
    assert ack.accepted
    detail = await get_job(stubs, alice.metadata, job.job_id, tasks=True)
    assert detail.tasks[0].state == common_pb2.TASK_STATE_PENDING
    carols = await machine()
    other = await register_node(carols, carol.metadata)
    [two] = await lease(carols, other)
    assert two.task_id == one.task_id
    [ack] = await fail(carols, other, [two.attempt_id], error="out of memory\nTraceback ...")
    assert ack.accepted
    assert await lease(carols, other) == []
    detail = await get_job(stubs, alice.metadata, job.job_id, tasks=True)
    assert detail.job.state == common_pb2.JOB_STATE_FAILED
    assert detail.job.tasks_failed == 1
    assert detail.tasks[0].error == (
        "out of memory Traceback ... (gave up: it failed on 2 independent nodes)"
    )
    assert detail.job.refunded_ucpt == job.max_cost_ucpt
    assert await balance(stubs, alice.metadata) == 100 * CPT
    assert await server.ctx.db.run(ledger.check) == []


async def test_small_tasks_fill_a_node_and_big_ones_wait(server, user_session, stubs):
    alice = await user_session(server, "alice")
    await _job(
        stubs,
        alice.metadata,
        name="big",
        resources=common_pb2.Resources(cores=4, memory_mb=64, timeout_s=10),
    )
    await _job(
        stubs,
        alice.metadata,
        name="small",
        task_count=10,
        resources=common_pb2.Resources(cores=1, memory_mb=64, timeout_s=10),
    )
    node = await register_node(stubs, alice.metadata)
    leases = await lease(stubs, node, max_tasks=10, cores=3)
    assert len(leases) == 3  # three 1-core tasks fill 3 free cores; the 4-core task waits
    assert {item.resources.cores for item in leases} == {1}
    leases = await lease(stubs, node, max_tasks=10, cores=4)
    assert [item.resources.cores for item in leases] == [4]  # the big, older job goes first


async def test_memory_and_runtimes_limit_what_a_node_gets(server, user_session, stubs):
    alice = await user_session(server, "alice")
    await _job(
        stubs, alice.metadata, resources=common_pb2.Resources(cores=1, memory_mb=2048, timeout_s=5)
    )
    node = await register_node(stubs, alice.metadata)
    small = await stubs.nodes.LeaseTasks(
        node_pb2.LeaseTasksRequest(free_cores=4, free_memory_mb=1024, max_tasks=5),
        metadata=node.metadata,
    )
    assert list(small.leases) == []
    other = await stubs.nodes.LeaseTasks(
        node_pb2.LeaseTasksRequest(
            free_cores=4, free_memory_mb=4096, max_tasks=5, runtimes=["r-4.3"]
        ),
        metadata=node.metadata,
    )
    assert list(other.leases) == []
    fits = await stubs.nodes.LeaseTasks(
        node_pb2.LeaseTasksRequest(
            free_cores=4, free_memory_mb=4096, max_tasks=5, runtimes=["python-3.11"]
        ),
        metadata=node.metadata,
    )
    assert len(fits.leases) == 1


async def test_submitters_share_a_node_fairly(server, user_session, stubs):
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    carol = await user_session(server, "carol")
    await _job(stubs, alice.metadata, task_count=20)  # older and bigger
    await _job(stubs, bob.metadata, task_count=20)
    node = await register_node(stubs, carol.metadata)
    first = await lease(stubs, node, max_tasks=6)
    owners = [item.job_id for item in first]
    assert len(set(owners)) == 2 and owners.count(owners[0]) == 3
    # A higher priority job is served before both.
    urgent = await _job(stubs, carol.metadata, task_count=2, priority=2.0)
    second = await lease(stubs, node, max_tasks=2)
    assert urgent.job_id in {item.job_id for item in second}


async def test_a_banned_node_gets_nothing_and_its_lease_moves_on(server, user_session, stubs):
    admin = await user_session(server, "root", admin=True)
    alice = await user_session(server, "alice")
    await _job(stubs, alice.metadata, task_count=2)
    node = await register_node(stubs, alice.metadata)
    [leased] = await lease(stubs, node)
    async with grpc.aio.insecure_channel(server.address) as channel:
        await admin_pb2_grpc.AdminServiceStub(channel).BanNode(
            admin_pb2.BanNodeRequest(node_id=node.node_id, reason="cheating"),
            metadata=admin.metadata,
        )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await lease(stubs, node)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "banned" in caught.value.details()
    # Its lease is released and the task is offered to another node.
    other = await register_node(stubs, alice.metadata, name="other")
    offered = []
    for _ in range(30):
        offered = await lease(stubs, other, max_tasks=5)
        if len(offered) == 2:
            break
        await asyncio.sleep(0.1)
    assert leased.task_id in {item.task_id for item in offered}


async def test_a_silent_node_goes_offline_and_its_leases_are_released(make_server, user_session):
    server = await make_server(node_offline_after_s=1, sweep_interval_s=0.1, lease_ttl_s=60)
    async with grpc.aio.insecure_channel(server.address) as channel:
        stubs = Stubs(channel)
        alice = await user_session(server, "alice")
        job = await _job(stubs, alice.metadata)
        silent = await register_node(stubs, alice.metadata, name="silent")
        [leased] = await lease(stubs, silent)
        other = await register_node(stubs, alice.metadata, name="other")
        offered = []
        for _ in range(40):  # the other node keeps beating while the silent one is quiet
            await asyncio.sleep(0.1)
            await _renew(stubs, other, [])
            offered = await lease(stubs, other)
            if offered:
                break
        assert [item.task_id for item in offered] == [leased.task_id]
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await lease(stubs, silent)
        assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "offline" in caught.value.details()
        # A heartbeat brings it back; its old attempt is reported as lost.
        assert await _renew(stubs, silent, [leased.attempt_id]) == [leased.attempt_id]
        assert await lease(stubs, silent) == []  # nothing pending any more
        detail = await get_job(stubs, alice.metadata, job.job_id, tasks=True)
        assert detail.tasks[0].error.startswith("node went offline")


def test_reward_formula_is_integer_and_capped_by_the_timeout():
    from server.ledger.rewards import measured_core_ms, reward_for, worst_case_cost_ucpt

    # 1 core-hour at 10 CPT, priority x1.5, +50% performance, +30% stability.
    reward = reward_for(
        base_ucpt_per_core_hour=10 * CPT,
        core_ms=3_600_000,
        priority_permille=1500,
        performance_bonus_permille=500,
        stability_bonus_permille=300,
    )
    assert reward.base_ucpt == 15 * CPT
    assert reward.amount_ucpt == 15 * CPT * 3 // 2 * 13 // 10  # 29.25 CPT
    assert reward.bonus_ucpt == reward.amount_ucpt - 15 * CPT
    # Measured time beyond the timeout is not paid; odd values pay nothing.
    assert measured_core_ms(90.0, timeout_s=60, cores=2) == 120_000
    assert measured_core_ms(float("nan"), timeout_s=60, cores=2) == 0
    assert measured_core_ms(-1.0, timeout_s=60, cores=2) == 0
    # The worst case rounds up, so the escrow always covers the reward; by default it counts
    # both bonuses at their maximum (x 1.5 x 1.3), so they are covered too.
    worst = {
        "tasks": 1,
        "replicas": 1,
        "cores": 1,
        "timeout_s": 1,
        "base_ucpt_per_core_hour": 10 * CPT,
        "priority_permille": 1000,
    }
    without_bonuses = {"performance_bonus_permille": 0, "stability_bonus_permille": 0}
    assert worst_case_cost_ucpt(**worst, **without_bonuses) == 2778  # 2777.7…
    assert worst_case_cost_ucpt(**worst) == 5417  # 5416.6…
