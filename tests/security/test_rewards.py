"""Rewards with bonuses (docs/REWARDS.md): the performance bonus counts once a node's results
validate, the stability bonus needs the whole window without a lost lease or a time offline,
every payout records its parts, and the escrow covers the largest bonuses."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest
from sqlalchemy import insert, select, update

from proto.hivemind.v1 import account_pb2, common_pb2, node_pb2
from server.ledger import audit
from server.ledger import journal as ledger
from server.ledger.rewards import (
    MAX_PERFORMANCE_BONUS_PERMILLE,
    STABILITY_BONUS_PERMILLE,
    performance_bonus_permille,
    reward_for,
)
from server.store.schema import accounts, jobs, node_trust, nodes
from tests.kit.loopback_networks import stubs_from
from tests.kit.simulated_nodes import SimNode, job_detail, run_job, submit_job, work
from tests.kit.stubs import Node, Stubs, lease

pytestmark = pytest.mark.db

CPT = 1_000_000


async def fast_node(stubs: Stubs, owner, name: str, score: float) -> SimNode:
    own = await stubs_from(stubs)  # a machine on a network of its own
    reply = await own.nodes.RegisterNode(
        node_pb2.RegisterNodeRequest(
            name=name,
            hardware=node_pb2.Hardware(cores=8, memory_mb=16384, benchmark_score=score),
            executors=["process"],
        ),
        metadata=owner.metadata,
    )
    credential = (("authorization", f"Node {reply.node_id}.{reply.node_secret}"),)
    return SimNode(name, owner, Node(reply.node_id, credential), own)


async def payouts(stubs: Stubs, owner) -> list[account_pb2.Payout]:
    reply = await stubs.account.GetEarnings(
        account_pb2.GetEarningsRequest(days=1), metadata=owner.metadata
    )
    return list(reversed(reply.payouts))  # oldest first


async def run_out_the_clock(node: SimNode, max_tasks: int) -> node_pb2.AttemptAcks:
    """Leases tasks of a job whose time limit is 1 s and completes them, in task order, once
    each has used it all (paid for 1 s of core time each, whatever the node says)."""
    leases = await lease(node.stubs, node.node, max_tasks=max_tasks)
    await asyncio.sleep(1.1)
    return await node.stubs.nodes.CompleteAttempts(
        node_pb2.CompleteAttemptsRequest(
            completions=[
                node_pb2.Completion(
                    attempt_id=item.attempt_id, stats=node_pb2.AttemptStats(wall_seconds=5.0)
                )
                for item in sorted(leases, key=lambda item: item.task_index)
            ]
        ),
        metadata=node.node.metadata,
    )


def paid_for(core_ms: int, performance: int = 0, stability: int = 0) -> int:
    """The formula's amount for this much core time at the default rate, priority x1."""
    return reward_for(
        base_ucpt_per_core_hour=10 * CPT,
        core_ms=core_ms,
        priority_permille=1000,
        performance_bonus_permille=performance,
        stability_bonus_permille=stability,
    ).amount_ucpt


def test_performance_bonus_is_capped_and_needs_validation():
    assert performance_bonus_permille(2000, 1000, validated=False) == 0
    assert performance_bonus_permille(1000, 1000, validated=True) == 0
    assert performance_bonus_permille(1500, 1000, validated=True) == 250
    assert performance_bonus_permille(2000, 1000, validated=True) == 500
    assert performance_bonus_permille(9000, 1000, validated=True) == MAX_PERFORMANCE_BONUS_PERMILLE
    assert performance_bonus_permille(float("inf"), 1000, validated=True) == 0


async def test_rates_name_the_bonus_caps(server, user_session, stubs):
    alice = await user_session(server, "alice")
    rates = await stubs.account.GetRates(account_pb2.GetRatesRequest(), metadata=alice.metadata)
    assert rates.max_performance_bonus_permille == MAX_PERFORMANCE_BONUS_PERMILLE == 500
    assert rates.stability_bonus_permille == STABILITY_BONUS_PERMILLE == 300


async def test_the_performance_bonus_counts_once_results_validate(server, user_session, stubs):
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    fast = await fast_node(stubs, bob, "fast", score=2000.0)  # twice the reference
    # Alone, its results are taken unverified: its claimed speed earns nothing yet.
    first = await submit_job(stubs, alice, task_count=1)
    await run_job(stubs, alice, first.job_id, [fast])
    [unverified] = await payouts(stubs, bob)
    assert unverified.performance_bonus_permille == 0 and unverified.bonus_ucpt == 0
    # A replicated job validates it: from then on the bonus counts, on that payout too.
    carol = await fast_node(stubs, await user_session(server, "carol"), "carol-box", 0.0)
    second = await submit_job(stubs, alice, task_count=1, replicas=2)
    await run_job(stubs, alice, second.job_id, [fast, carol])
    [_, validated] = await payouts(stubs, bob)
    assert validated.performance_bonus_permille == 500
    assert validated.stability_bonus_permille == 0  # a node registered a moment ago
    assert validated.amount_ucpt == validated.base_ucpt + validated.bonus_ucpt
    assert validated.amount_ucpt == paid_for(validated.core_ms, performance=500)
    # Paid time: what the node measured (1 s), never more than the server saw pass.
    assert 0 < validated.core_ms <= 1000 and validated.priority_permille == 1000


async def test_stability_needs_the_whole_window_without_a_lost_lease(make_server, user_session):
    server = await make_server(stability_window_s=3600, lease_ttl_s=1, sweep_interval_s=0.2)
    async with grpc.aio.insecure_channel(server.address) as channel:
        stubs = Stubs(channel, server.address)
        alice = await user_session(server, "alice")
        bob = await user_session(server, "bob")
        steady = await fast_node(stubs, bob, "steady", score=0.0)
        # Online and holding every lease for the last two hours (moved back in time here).
        server.ctx.db.transaction_sync(
            lambda conn: conn.execute(
                update(nodes)
                .where(nodes.c.id == steady.node_id)
                .values(created_at=time.time() - 7200)
            )
        )
        job = await submit_job(stubs, alice, task_count=3)
        await work(stubs, steady)
        [stable] = await payouts(stubs, bob)
        assert stable.stability_bonus_permille == 300
        assert stable.amount_ucpt == paid_for(stable.core_ms, stability=300)

        # It lets a lease lapse: no stability bonus until a full window has passed again.
        await lease(steady.stubs, steady.node)
        await asyncio.sleep(2.5)  # the lease (1 s) expires; the sweep requeues the task
        await work(stubs, steady)
        [_, after] = await payouts(stubs, bob)
        assert after.stability_bonus_permille == 0 and after.bonus_ucpt == 0
        detail = await job_detail(stubs, alice, job.job_id)
        assert detail.job.tasks_done == 2


async def test_the_escrow_covers_the_largest_bonuses(server, user_session, stubs):
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    best = await fast_node(stubs, bob, "best", score=1e6)  # far above: capped at +50%
    now = time.time()

    def veteran(conn):
        conn.execute(update(nodes).where(nodes.c.id == best.node_id).values(created_at=now - 1e5))
        conn.execute(
            insert(node_trust).values(
                node_id=best.node_id, consecutive_valid=50, valid_results=50, updated_at=now
            )
        )

    server.ctx.db.transaction_sync(veteran)
    job = await submit_job(
        stubs,
        alice,
        task_count=2,
        priority=2.0,
        resources=common_pb2.Resources(cores=1, memory_mb=64, timeout_s=1),
    )
    reply = await run_out_the_clock(best, max_tasks=2)
    full = reward_for(
        base_ucpt_per_core_hour=10 * CPT,
        core_ms=1000,
        priority_permille=2000,
        performance_bonus_permille=500,
        stability_bonus_permille=300,
    )
    # Both paid in full, nothing short: the budget held every bonus at its maximum.
    assert [ack.payout_ucpt for ack in reply.acks] == [full.amount_ucpt] * 2
    detail = await job_detail(stubs, alice, job.job_id)
    assert detail.job.state == common_pb2.JOB_STATE_DONE
    assert detail.job.cost_ucpt == 2 * full.amount_ucpt <= detail.job.max_cost_ucpt
    assert detail.job.max_cost_ucpt - detail.job.cost_ucpt <= 1  # rounding up, nothing more
    for payout in await payouts(stubs, bob):
        assert (payout.performance_bonus_permille, payout.stability_bonus_permille) == (500, 300)
        assert payout.priority_permille == 2000
    report = await server.ctx.db.run(audit.check_ledger)
    assert report.ok, report.problems


async def test_what_the_escrow_cannot_cover_is_neither_paid_nor_counted(
    server, user_session, stubs
):
    """A batch's payouts are taken from the escrow in order, each at most what is left; a
    task's cost and the job's are what was paid, not what the work earned."""
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    node = await fast_node(stubs, bob, "box", score=0.0)
    job = await submit_job(
        stubs,
        alice,
        task_count=3,
        resources=common_pb2.Resources(cores=1, memory_mb=64, timeout_s=1),
    )
    earned = paid_for(core_ms=1000)  # each task's whole time limit
    left = earned + earned // 3  # the first in full, a third of the second, none of the third

    def drain(conn) -> None:
        escrow_id, balance = conn.execute(
            select(jobs.c.escrow_account_id, accounts.c.balance_ucpt)
            .join(accounts, accounts.c.id == jobs.c.escrow_account_id)
            .where(jobs.c.id == job.job_id)
        ).one()
        ledger.post(
            conn,
            idempotency_key=f"test-drain:{job.job_id}",
            reason="refund",
            entries=[
                (escrow_id, left - balance),
                (ledger.user_account_id(conn, alice.user_id), balance - left),
            ],
        )

    server.ctx.db.transaction_sync(drain)
    reply = await run_out_the_clock(node, max_tasks=3)
    paid = [ack.payout_ucpt for ack in reply.acks]
    assert all(ack.accepted for ack in reply.acks)
    assert paid == [earned, earned // 3, 0]
    detail = await job_detail(stubs, alice, job.job_id)
    assert [task.cost_ucpt for task in sorted(detail.tasks, key=lambda t: t.index)] == paid
    assert detail.job.cost_ucpt == sum(paid)
    assert [payout.amount_ucpt for payout in await payouts(stubs, bob)] == paid[:2]
    report = await server.ctx.db.run(audit.check_ledger)
    assert report.ok, report.problems
