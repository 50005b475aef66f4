"""Trust farmed at no cost, through the real server: accounts that trade work among
themselves, or work nobody pays for, earn no trust; a node not yet established is always
checked, by established nodes, so its garbage is never accepted; and a new node's trust and
earnings are capped by its age, whatever history it claims."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from proto.hivemind.v1 import common_pb2
from server.config import ServerSettings
from server.ledger import audit
from server.nodes.trust import spot_check_probability
from tests.kit.auditor import db_file, query, trust_of
from tests.kit.loopback_networks import Network
from tests.kit.simulated_nodes import (
    assert_results_correct,
    establish,
    job_detail,
    run_job,
    sim_node,
    submit_job,
    work,
    wrong_output,
)
from tests.kit.stubs import Stubs, lease

pytestmark = pytest.mark.db

CPT = 1_000_000


async def test_sybils_trading_work_earn_no_trust_and_their_garbage_is_never_accepted(
    server, user_session, stubs
):
    veterans = [
        await sim_node(stubs, await user_session(server, name), f"{name}-box")
        for name in ("vera", "walt")
    ]
    establish(server, *veterans)
    # Mallory's three accounts on her one machine; one of them submits work for the others.
    home = Network()
    accounts = [await user_session(server, f"mallory{i}") for i in range(3)]
    sybils = [await sim_node(stubs, a, f"{a.username}-box", network=home) for a in accounts]
    farm = await submit_job(sybils[0].stubs, accounts[0], task_count=8, replicas=2)
    detail = await run_job(stubs, accounts[0], farm.job_id, [*sybils, *veterans])
    assert detail.job.state == common_pb2.JOB_STATE_DONE
    for sim in sybils:  # their own job, from their own network: it proves nothing of them
        record = trust_of(db_file(server), sim.node_id)
        assert (record["consecutive_valid"], record["valid_results"]) == (0, 0)

    # Then they return garbage for a stranger. Not established, they are checked every time,
    # by established nodes (never by each other), and caught.
    for sim in sybils:
        sim.output = wrong_output
    bea = await user_session(server, "bea")
    job = await submit_job(stubs, bea, task_count=8, max_cost_ucpt=40 * CPT)
    detail = await run_job(stubs, bea, job.job_id, [*sybils, *veterans])
    assert detail.job.state == common_pb2.JOB_STATE_DONE
    assert_results_correct(detail)
    ids = [sim.node_id for sim in sybils]
    marks = ",".join("?" * len(ids))
    statuses = query(
        db_file(server),
        f"SELECT DISTINCT status FROM result_checks WHERE job_id = ? AND node_id IN ({marks})",
        job.job_id,
        *ids,
    )
    assert statuses and {status for (status,) in statuses} <= {"invalid", "discarded"}
    paid = query(
        db_file(server),
        f"SELECT count(*) FROM payouts WHERE job_id = ? AND node_id IN ({marks})",
        job.job_id,
        *ids,
    )
    assert paid == [(0,)]
    for sim in veterans:  # the honest established nodes kept their trust
        assert trust_of(db_file(server), sim.node_id)["invalid_results"] == 0
    report = await server.ctx.db.run(audit.check_ledger)
    assert report.ok, report.problems


async def test_work_nobody_paid_for_earns_no_trust(server, user_session, stubs):
    veterans = [
        await sim_node(stubs, await user_session(server, name), f"{name}-box")
        for name in ("vera", "walt")
    ]
    establish(server, *veterans)
    alice = await user_session(server, "alice")
    free_rider = await sim_node(stubs, await user_session(server, "zed"), "zed-box")
    worker = await sim_node(stubs, await user_session(server, "yan"), "yan-box")
    job = await submit_job(stubs, alice, task_count=2, replicas=2)
    # Task 0: a result that claims no time at all (so it costs the submitter nothing), agreeing
    # with an established node: accepted, but it earns no trust.
    await work(stubs, free_rider, wall_seconds=0.0)
    await work(stubs, veterans[0])
    # Task 1: the same agreement on paid work earns trust.
    await work(stubs, worker)
    await work(stubs, veterans[1])
    detail = await job_detail(stubs, alice, job.job_id)
    assert detail.job.state == common_pb2.JOB_STATE_DONE
    assert {task.verification for task in detail.tasks} == {"verified"}
    assert trust_of(db_file(server), free_rider.node_id)["consecutive_valid"] == 0
    assert trust_of(db_file(server), worker.node_id)["consecutive_valid"] == 1
    # The established nodes agreed with new nodes only: that proves nothing of them either.
    assert trust_of(db_file(server), veterans[0].node_id)["consecutive_valid"] == 30


async def test_a_new_nodes_trust_and_earnings_are_capped_by_its_age(make_server, user_session):
    # A day's earnings of a node not yet established: 1 ucpt (x (1 + age in days)), so that
    # any paid result reaches it.
    server = await make_server(new_node_daily_earnings_ucpt=1)
    async with grpc.aio.insecure_channel(server.address) as channel:
        stubs = Stubs(channel, server.address)
        veteran = await sim_node(stubs, await user_session(server, "vera"), "vera-box")
        establish(server, veteran)
        # Registered a moment ago, yet claiming (in its record) a long honest history.
        upstart = await sim_node(stubs, await user_session(server, "ugo"), "ugo-box")
        establish(server, upstart, valid=500, age_s=0)
        alice = await user_session(server, "alice")
        job = await submit_job(stubs, alice, task_count=4, max_cost_ucpt=20 * CPT)
        detail = await run_job(stubs, alice, job.job_id, [upstart, veteran])
        assert detail.job.state == common_pb2.JOB_STATE_DONE
        assert_results_correct(detail)
    # Too young to be trusted: every result it delivered was checked.
    delivered = query(
        db_file(server), "SELECT attempt_id FROM result_checks WHERE node_id = ?", upstart.node_id
    )
    subjects = query(db_file(server), "SELECT subject_attempt_id FROM task_replicas")
    assert delivered and {a for (a,) in delivered} <= {s for (s,) in subjects}
    # Too young to earn more than its day's cap; what it was not paid went back to the
    # submitter. The established node is not capped.
    earned = query(
        db_file(server),
        "SELECT coalesce(sum(amount_ucpt), 0) FROM payouts WHERE node_id = ?",
        upstart.node_id,
    )
    assert earned == [(1,)]
    rewards = query(
        db_file(server),
        "SELECT amount_ucpt, base_ucpt + bonus_ucpt FROM payouts WHERE node_id = ?",
        veteran.node_id,
    )
    assert rewards and all(amount == full > 1 for amount, full in rewards)
    assert detail.job.refunded_ucpt == detail.job.max_cost_ucpt - detail.job.cost_ucpt
    report = await server.ctx.db.run(audit.check_ledger)
    assert report.ok, report.problems


def test_the_spot_check_rate_has_a_floor():
    floor = ServerSettings().spot_check_min_probability
    assert floor > 0
    assert spot_check_probability(10**9, threshold=3, floor=floor) == floor


async def test_a_new_nodes_garbage_is_checked_even_on_a_job_escrowed_at_its_worst_case(
    server, user_session, stubs
):
    veterans = [
        await sim_node(stubs, await user_session(server, name), f"{name}-box")
        for name in ("vera", "walt")
    ]
    establish(server, *veterans)
    mallory = await sim_node(stubs, await user_session(server, "mallory"), "mallory-box")
    mallory.output = wrong_output
    # What `job submit` holds: the worst case of its tasks, nothing to spare for a check.
    bea = await user_session(server, "bea")
    job = await submit_job(stubs, bea, task_count=6)
    # Asking first, the new node gets none of the job's first tasks: their checks could not
    # be paid for, and established nodes are there to take them.
    assert await work(stubs, mallory, max_tasks=4) == 0
    # Once the established nodes' cheap results leave slack, it gets tasks again, and every
    # one is checked: its garbage is caught, never taken.
    detail = await run_job(stubs, bea, job.job_id, [mallory, *veterans])
    assert detail.job.state == common_pb2.JOB_STATE_DONE
    assert_results_correct(detail)
    assert mallory.results, "the new node was never let in"
    statuses = query(
        db_file(server),
        "SELECT status FROM result_checks WHERE job_id = ? AND node_id = ?",
        job.job_id,
        mallory.node_id,
    )
    assert statuses and {status for (status,) in statuses} <= {"invalid", "discarded"}
    paid = query(
        db_file(server),
        "SELECT count(*) FROM payouts WHERE job_id = ? AND node_id = ?",
        job.job_id,
        mallory.node_id,
    )
    assert paid == [(0,)]
    for sim in veterans:
        assert trust_of(db_file(server), sim.node_id)["invalid_results"] == 0
    report = await server.ctx.db.run(audit.check_ledger)
    assert report.ok, report.problems


async def test_a_job_no_established_node_can_run_is_not_kept_from_new_nodes_for_ever(
    make_server, user_session
):
    server = await make_server(wait_for_nodes_s=3)
    async with grpc.aio.insecure_channel(server.address) as channel:
        stubs = Stubs(channel, server.address)
        veteran = await sim_node(stubs, await user_session(server, "vera"), "vera-box")
        establish(server, veteran)
        newcomer = await sim_node(stubs, await user_session(server, "nia"), "nia-box")
        alice = await user_session(server, "alice")
        two_cores = common_pb2.Resources(cores=2, memory_mb=64, timeout_s=60)
        await submit_job(stubs, alice, task_count=2, resources=two_cores)
        assert await lease(veteran.stubs, veteran.node, cores=1) == []  # it has too few cores
        assert await lease(newcomer.stubs, newcomer.node, max_tasks=2) == []  # kept for a while
        # No established node took any of it in wait_for_nodes_s: the newcomer may.
        await asyncio.sleep(3.2)
        assert len(await lease(newcomer.stubs, newcomer.node, max_tasks=2)) == 2
