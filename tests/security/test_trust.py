"""Trust in the scheduler and in bans: a banned node's unverified work is thrown away and
runs again, a node caught with a wrong result is on probation, and trust decides which work
a node is offered first."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import insert, update

from proto.hivemind.v1 import admin_pb2, admin_pb2_grpc, common_pb2
from server.ledger import audit
from server.store.schema import node_trust, nodes
from tests.kit.auditor import db_file, query, trust_of
from tests.kit.simulated_nodes import (
    assert_results_correct,
    job_detail,
    run_job,
    sim_node,
    submit_job,
    work,
    wrong_output,
)
from tests.kit.stubs import lease

pytestmark = pytest.mark.db

CPT = 1_000_000


@pytest.fixture
def server_settings() -> dict:
    return {"probation_max_leases": 1}


async def test_a_banned_nodes_unverified_results_run_again(
    server, user_session, stubs, grpc_channel
):
    root = await user_session(server, "root", admin=True)
    alice = await user_session(server, "alice")
    bad = await sim_node(stubs, await user_session(server, "bob"), "bob-box", wrong_output)
    # Alone on the network, the bad node's results are taken unverified (nobody can check),
    # and its replica of a replicated task waits for a second opinion.
    plain = await submit_job(stubs, alice, task_count=4, max_cost_ucpt=5 * CPT)
    replicated = await submit_job(stubs, alice, task_count=1, replicas=2)
    for _ in range(4):
        await work(stubs, bad)
    detail = await job_detail(stubs, alice, plain.job_id)
    assert sum(t.state == common_pb2.TASK_STATE_DONE for t in detail.tasks) == 3

    banned = await admin_pb2_grpc.AdminServiceStub(grpc_channel).BanNode(
        admin_pb2.BanNodeRequest(node_id=bad.node_id, reason="wrong results"),
        metadata=root.metadata,
    )
    assert banned.banned
    statuses = query(
        db_file(server), "SELECT DISTINCT status FROM result_checks WHERE node_id = ?", bad.node_id
    )
    assert statuses == [("discarded",)]
    detail = await job_detail(stubs, alice, plain.job_id)
    assert [t.state for t in detail.tasks] == [common_pb2.TASK_STATE_PENDING] * 4
    assert detail.tasks[0].error == "running again: its node was banned"

    honest = [
        await sim_node(stubs, await user_session(server, name), f"{name}-box")
        for name in ("carol", "dave")
    ]
    for job in (plain, replicated):
        assert_results_correct(await run_job(stubs, alice, job.job_id, honest))
    report = await server.ctx.db.run(audit.check_ledger)
    assert report.ok, report.problems


async def test_a_node_caught_with_a_wrong_result_is_on_probation(
    server, user_session, stubs, grpc_channel
):
    root = await user_session(server, "root", admin=True)
    alice = await user_session(server, "alice")
    mallory = await sim_node(stubs, await user_session(server, "mallory"), "m-box", wrong_output)
    honest = [
        await sim_node(stubs, await user_session(server, name), f"{name}-box")
        for name in ("carol", "dave")
    ]
    check = await submit_job(stubs, alice, task_count=1, replicas=2)
    await run_job(stubs, alice, check.job_id, [mallory, *honest])
    record = trust_of(db_file(server), mallory.node_id)
    assert (record["consecutive_valid"], record["invalid_results"]) == (0, 1)
    # Admins see each node's trust.
    listed = await admin_pb2_grpc.AdminServiceStub(grpc_channel).ListNodes(
        admin_pb2.ListNodesRequest(), metadata=root.metadata
    )
    by_name = {node.name: node for node in listed.nodes}
    assert (by_name["m-box"].invalid_results, by_name["m-box"].consecutive_valid) == (1, 0)
    assert by_name["carol-box"].valid_results == 1 and by_name["carol-box"].invalid_results == 0

    await submit_job(stubs, alice, task_count=10, idempotency_key="more")
    reply = await lease(mallory.stubs, mallory.node, max_tasks=5)
    assert len(reply) == 1  # probation: one lease at a time
    assert await lease(mallory.stubs, mallory.node, max_tasks=5) == []
    assert len(await lease(honest[0].stubs, honest[0].node, max_tasks=5)) == 5


async def test_trust_decides_what_a_node_is_offered_first(server, user_session, stubs):
    alice = await user_session(server, "alice")
    older_plain = await submit_job(stubs, alice, task_count=2)
    newer_replicated = await submit_job(stubs, alice, task_count=2, replicas=2, idempotency_key="r")
    newcomer = await sim_node(stubs, await user_session(server, "bob"), "new-box")
    veteran = await sim_node(stubs, await user_session(server, "carol"), "old-box")
    # Trusted: established (registered days ago, with as many independent valid results as
    # that takes) and with a run of valid results.
    now = time.time()

    def make_veteran(conn):
        conn.execute(
            update(nodes).where(nodes.c.id == veteran.node_id).values(created_at=now - 4e5)
        )
        conn.execute(
            insert(node_trust).values(
                node_id=veteran.node_id, consecutive_valid=30, valid_results=30, updated_at=now
            )
        )

    server.ctx.db.transaction_sync(make_veteran)
    # A node still earning trust gets replicated work first, where it is checked anyway...
    [first] = await lease(newcomer.stubs, newcomer.node)
    assert first.job_id == newer_replicated.job_id
    # ...a trusted one unreplicated work, where trust is what protects the submitter.
    [second] = await lease(veteran.stubs, veteran.node)
    assert second.job_id == older_plain.job_id
