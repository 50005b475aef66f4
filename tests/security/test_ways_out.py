"""A job that never ends, through the real server: nodes are killed at each step a task or a
check can wait in, and every job still ends (its escrow refunded, the ledger whole): a spot
check whose checker died before leasing it or while holding it, replicas waiting for owners
that are not online, a comparison nobody may make, a task every online node failed. Under
load nothing is decided early: while a node that may take it is online, it waits."""

from __future__ import annotations

import asyncio

import pytest

from proto.hivemind.v1 import common_pb2
from server.ledger import audit
from tests.kit.auditor import db_file, query
from tests.kit.simulated_nodes import (
    Heartbeats,
    assert_results_correct,
    job_detail,
    sim_node,
    submit_job,
    work,
)
from tests.kit.stubs import fail, lease
from tests.kit.waiting import wait_until
from tests.security import comparekit

pytestmark = pytest.mark.db

CPT = 1_000_000
ENDED = (common_pb2.JOB_STATE_DONE, common_pb2.JOB_STATE_FAILED)


@pytest.fixture
def server_settings() -> dict:
    # A node silent for 2 s is offline (the living beat every 0.2 s); a task nobody online
    # may take waits 1 s.
    return {
        "wait_for_nodes_s": 1,
        "node_offline_after_s": 2,
        "lease_ttl_s": 2,
        "sweep_interval_s": 0.1,
    }


@pytest.fixture
async def beats():
    heartbeats = Heartbeats()
    yield heartbeats
    await heartbeats.stop()


async def ended(stubs, owner, job_id, timeout: float = 20.0):
    async def done() -> bool:
        return (await job_detail(stubs, owner, job_id)).job.state in ENDED

    await wait_until(done, timeout=timeout)
    return await job_detail(stubs, owner, job_id)


async def people(server, user_session, stubs, beats, *names):
    sims = [await sim_node(stubs, await user_session(server, n), f"{n}-box") for n in names]
    beats.start(*sims)
    return sims


async def audited(server) -> None:
    report = await server.ctx.db.run(audit.check_ledger)
    assert report.ok, report.problems


async def test_a_spot_check_whose_checker_dies_before_leasing_it(
    server, user_session, stubs, beats
):
    alice = await user_session(server, "alice")
    bob, carol = await people(server, user_session, stubs, beats, "bob", "carol")
    job = await submit_job(stubs, alice, task_count=1, max_cost_ucpt=5 * CPT)
    await work(stubs, bob)  # a new node: carol is asked to check it
    assert (await job_detail(stubs, alice, job.job_id)).tasks[0].verification == "checking"
    await beats.kill(carol)  # before she leases the check
    detail = await ended(stubs, alice, job.job_id)
    assert detail.job.state == common_pb2.JOB_STATE_DONE
    assert_results_correct(detail)
    assert detail.tasks[0].verification == "unverified"  # as if nobody could check it
    assert query(db_file(server), "SELECT node_id FROM payouts") == [(bob.node_id,)]
    assert detail.job.refunded_ucpt == detail.job.max_cost_ucpt - detail.job.cost_ucpt
    await audited(server)


async def test_a_spot_check_whose_checker_dies_holding_it_is_checked_elsewhere(
    server, user_session, stubs, beats
):
    alice = await user_session(server, "alice")
    bob, carol = await people(server, user_session, stubs, beats, "bob", "carol")
    job = await submit_job(stubs, alice, task_count=1, max_cost_ucpt=5 * CPT)
    await work(stubs, bob)
    [check] = await lease(carol.stubs, carol.node)
    await beats.kill(carol)  # holding the check
    [dave] = await people(server, user_session, stubs, beats, "dave")

    async def checked() -> bool:
        await work(stubs, dave)
        return (await job_detail(stubs, alice, job.job_id)).job.state in ENDED

    await wait_until(checked, timeout=20)
    detail = await job_detail(stubs, alice, job.job_id)
    assert detail.job.state == common_pb2.JOB_STATE_DONE
    assert detail.tasks[0].verification == "verified"
    states = dict(query(db_file(server), "SELECT node_id, state FROM attempts"))
    assert states[carol.node_id] == "expired" and states[dave.node_id] == "done"
    assert check.task_id == detail.tasks[0].task_id
    await audited(server)


async def test_replicas_waiting_for_owners_that_are_not_online(server, user_session, stubs, beats):
    alice = await user_session(server, "alice")
    hana, ivo = await people(server, user_session, stubs, beats, "hana", "ivo")
    job = await submit_job(stubs, alice, task_count=1, replicas=2)
    await work(stubs, hana)
    [replica] = await lease(ivo.stubs, ivo.node)
    await beats.kill(ivo)  # the only other owner dies holding the second replica
    detail = await ended(stubs, alice, job.job_id)
    # One result and nobody online to confirm it: the task fails, saying why, and the
    # whole escrow goes back (an unconfirmed result of a replicated job is not paid).
    assert detail.job.state == common_pb2.JOB_STATE_FAILED
    assert detail.tasks[0].error.startswith("no quorum: 1 result (")
    assert detail.tasks[0].error.endswith("no node that may add to it was online for 1 s")
    assert detail.job.refunded_ucpt == detail.job.max_cost_ucpt
    assert replica.task_id == detail.tasks[0].task_id
    await audited(server)


async def test_a_comparison_nobody_may_make(server, user_session, stubs, beats):
    alice = await user_session(server, "alice")
    sims = []
    for name in ("hana", "ivo", "kai"):
        sims.append(await comparekit.fuzzy_node(stubs, await user_session(server, name), name))
    hana, ivo, kai = sims
    beats.start(*sims)
    job = await submit_job(
        stubs, alice, task_count=1, replicas=2, compare_command=comparekit.COMPARE
    )
    await comparekit.work(stubs, hana)
    await comparekit.work(stubs, ivo)  # another value: kai, the third owner, must compare
    assert query(db_file(server), "SELECT state FROM result_comparisons") == [("open",)]
    await beats.kill(kai)  # before he leases it
    detail = await ended(stubs, alice, job.job_id)
    assert detail.job.state == common_pb2.JOB_STATE_FAILED
    assert detail.tasks[0].error.startswith("no quorum: 2 results disagree")
    assert query(db_file(server), "SELECT state FROM result_comparisons") == [("failed",)]
    assert detail.job.refunded_ucpt == detail.job.max_cost_ucpt
    await audited(server)


async def test_a_task_every_online_node_failed(server, user_session, stubs, beats):
    alice = await user_session(server, "alice")
    [bob] = await people(server, user_session, stubs, beats, "bob")
    job = await submit_job(stubs, alice, task_count=1)
    [leased] = await lease(bob.stubs, bob.node)
    await fail(bob.stubs, bob.node, [leased.attempt_id], error="segfault")
    detail = await ended(stubs, alice, job.job_id)  # it never goes back to bob
    assert detail.job.state == common_pb2.JOB_STATE_FAILED
    assert detail.tasks[0].error == "segfault (every node online that may run it failed it)"
    assert detail.job.refunded_ucpt == detail.job.max_cost_ucpt
    await audited(server)


async def test_nothing_is_decided_early_while_a_node_that_may_take_it_is_online(
    server, user_session, stubs, beats
):
    alice = await user_session(server, "alice")
    bob, carol = await people(server, user_session, stubs, beats, "bob", "carol")
    job = await submit_job(stubs, alice, task_count=1, max_cost_ucpt=5 * CPT)
    await work(stubs, bob)
    await asyncio.sleep(3)  # three waits long: carol, online, may still check it
    assert (await job_detail(stubs, alice, job.job_id)).tasks[0].verification == "checking"
    await work(stubs, carol)
    detail = await job_detail(stubs, alice, job.job_id)
    assert detail.job.state == common_pb2.JOB_STATE_DONE
    assert detail.tasks[0].verification == "verified"
