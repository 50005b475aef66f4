"""A quorum of sybils, through the real server: accounts on one machine (one network as the
server sees it) are one vote, however their calls are spread; new nodes never outvote an
established node; and when no other established node comes, the established node's word
stands, without punishing anyone on the newcomers' word."""

from __future__ import annotations

import pytest

from proto.hivemind.v1 import common_pb2, node_pb2
from server.ledger import audit
from tests.kit.auditor import db_file, query, trust_of
from tests.kit.loopback_networks import Network, channel_from
from tests.kit.simulated_nodes import (
    Heartbeats,
    assert_results_correct,
    correct_output,
    establish,
    job_detail,
    run_job,
    sim_node,
    submit_job,
    work,
    wrong_output,
)
from tests.kit.stubs import Stubs, lease, sha256, upload
from tests.kit.waiting import wait_until

pytestmark = pytest.mark.db


@pytest.fixture
def server_settings() -> dict:
    # A contest no other established node can settle is decided after 1 s.
    return {"wait_for_nodes_s": 1, "sweep_interval_s": 0.1}


def paid_nodes(server) -> set[str]:
    return {node for (node,) in query(db_file(server), "SELECT node_id FROM payouts")}


async def test_two_accounts_on_one_machine_are_one_vote(server, user_session, stubs):
    alice = await user_session(server, "alice")
    home = Network()
    sybils = [
        await sim_node(stubs, await user_session(server, n), f"{n}-box", wrong_output, home)
        for n in ("mallory", "mule")
    ]
    honest = [
        await sim_node(stubs, await user_session(server, n), f"{n}-box") for n in ("hana", "ivo")
    ]
    beats = Heartbeats()
    beats.start(*sybils, *honest)
    try:
        job = await submit_job(stubs, alice, task_count=4, replicas=2)
        detail = await run_job(stubs, alice, job.job_id, [*sybils, *honest])
    finally:
        await beats.stop()
    assert detail.job.state == common_pb2.JOB_STATE_DONE
    assert_results_correct(detail)
    assert {task.verification for task in detail.tasks} == {"verified"}
    assert not paid_nodes(server) & {sim.node_id for sim in sybils}
    for sim in honest:  # never outvoted, never put on probation
        assert trust_of(db_file(server), sim.node_id)["invalid_results"] == 0
    # The scheduler never gave both accounts of the machine replicas of one task.
    both = query(
        db_file(server),
        "SELECT a.task_id FROM attempts a JOIN nodes n ON n.id = a.node_id"
        " WHERE n.network = ? GROUP BY a.task_id HAVING count(DISTINCT n.owner_id) > 1",
        home.cidr,
    )
    assert both == []


async def test_a_result_reported_from_an_accomplices_network_counts_once(
    server, user_session, stubs
):
    alice = await user_session(server, "alice")
    home = Network()
    mallory = await sim_node(stubs, await user_session(server, "mallory"), "m-box", network=home)
    # Her accomplice's machine leases from another network, then reports from hers.
    mule = await sim_node(stubs, await user_session(server, "mule"), "mule-box")
    honest = [
        await sim_node(stubs, await user_session(server, n), f"{n}-box") for n in ("hana", "ivo")
    ]
    job = await submit_job(stubs, alice, task_count=1, replicas=2)
    [first] = await lease(mallory.stubs, mallory.node)
    [second] = await lease(mule.stubs, mule.node)
    garbage = wrong_output(0)
    from_home = Stubs(await channel_from(stubs.address, home.machine()), stubs.address)
    for sim, leased, channel in ((mallory, first, mallory.stubs), (mule, second, from_home)):
        await upload(channel, sim.node.metadata, garbage, common_pb2.ARTIFACT_KIND_RESULT)
        acks = await channel.nodes.CompleteAttempts(
            node_pb2.CompleteAttemptsRequest(
                completions=[
                    node_pb2.Completion(
                        attempt_id=leased.attempt_id,
                        result_digest=sha256(garbage),
                        result_size=len(garbage),
                        stats=node_pb2.AttemptStats(wall_seconds=1.0),
                    )
                ]
            ),
            metadata=sim.node.metadata,
        )
        assert acks.acks[0].accepted
    # Two accounts agreed, from one network: one vote, so no quorum; more replicas go out.
    detail = await job_detail(stubs, alice, job.job_id)
    assert detail.tasks[0].state == common_pb2.TASK_STATE_PENDING
    networks = query(db_file(server), "SELECT DISTINCT network FROM result_checks")
    assert networks == [(home.cidr,)]
    detail = await run_job(stubs, alice, job.job_id, honest)
    assert detail.job.state == common_pb2.JOB_STATE_DONE
    assert detail.tasks[0].result_digest == sha256(correct_output(0))
    assert not paid_nodes(server) & {mallory.node_id, mule.node_id}


async def test_new_nodes_never_outvote_an_established_node(server, user_session, stubs):
    alice = await user_session(server, "alice")
    veterans = [
        await sim_node(stubs, await user_session(server, n), f"{n}-box") for n in ("vera", "walt")
    ]
    establish(server, *veterans)
    # A determined attacker: accounts on distinct networks, agreeing on garbage.
    sybils = [
        await sim_node(stubs, await user_session(server, n), f"{n}-box", wrong_output)
        for n in ("sy1", "sy2")
    ]
    beats = Heartbeats()
    beats.start(*sybils, *veterans)
    try:
        job = await submit_job(stubs, alice, task_count=3, replicas=2)
        detail = await run_job(stubs, alice, job.job_id, [*sybils, *veterans])
    finally:
        await beats.stop()
    assert detail.job.state == common_pb2.JOB_STATE_DONE
    assert_results_correct(detail)
    for sim in veterans:  # never punished on the newcomers' word
        record = trust_of(db_file(server), sim.node_id)
        assert record["invalid_results"] == 0 and record["consecutive_valid"] >= 30
    assert not paid_nodes(server) & {sim.node_id for sim in sybils}
    report = await server.ctx.db.run(audit.check_ledger)
    assert report.ok, report.problems


async def test_an_established_nodes_word_stands_when_no_other_comes(server, user_session, stubs):
    alice = await user_session(server, "alice")
    vera = await sim_node(stubs, await user_session(server, "vera"), "vera-box")
    establish(server, vera)
    sybils = [
        await sim_node(stubs, await user_session(server, n), f"{n}-box", wrong_output)
        for n in ("sy1", "sy2")
    ]
    beats = Heartbeats()
    beats.start(vera, *sybils)
    try:
        job = await submit_job(stubs, alice, task_count=1, replicas=2)
        for sim in (*sybils, vera):  # both replicas to the sybils, then a slot kept for vera
            assert await work(stubs, sim) == 1
        notes = query(db_file(server), "SELECT needs_established FROM task_replicas")
        assert notes == [(1,)]  # vera disagreed: only another established node may settle it

        async def ended() -> bool:
            detail = await job_detail(stubs, alice, job.job_id)
            return detail.job.state == common_pb2.JOB_STATE_DONE

        await wait_until(ended, timeout=15)  # nobody else may come: decided with what is there
    finally:
        await beats.stop()
    detail = await job_detail(stubs, alice, job.job_id)
    assert detail.tasks[0].result_digest == sha256(correct_output(0))
    statuses = dict(query(db_file(server), "SELECT node_id, status FROM result_checks"))
    assert statuses[vera.node_id] == "valid"
    assert {statuses[sim.node_id] for sim in sybils} == {"inconclusive"}
    assert trust_of(db_file(server), vera.node_id)["invalid_results"] == 0
    assert paid_nodes(server) == {vera.node_id}
    report = await server.ctx.db.run(audit.check_ledger)
    assert report.ok, report.problems
