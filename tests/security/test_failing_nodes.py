"""A node that fails every task, on purpose, through the real server: failures cost the
failing node (its lease quota, then a quarantine with the reason), never the jobs. A task a
node failed never goes back to it, and a task fails for good only once independent nodes
(of different owners on different networks) have failed it, so one owner, with any number
of machines and accounts, cannot fail a task out."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import update

from proto.hivemind.v1 import admin_pb2, admin_pb2_grpc, common_pb2, node_pb2
from server.ledger import audit
from server.scheduling.idle import ANY_WORK_RECHECK_S
from server.store.schema import node_trust
from tests.kit.auditor import db_file, query, trust_of
from tests.kit.loopback_networks import Network
from tests.kit.simulated_nodes import (
    assert_results_correct,
    job_detail,
    run_job,
    sim_node,
    submit_job,
)
from tests.kit.stubs import fail

pytestmark = pytest.mark.db

CPT = 1_000_000


async def lease_reply(sim, max_tasks: int) -> node_pb2.LeaseTasksResponse:
    return await sim.stubs.nodes.LeaseTasks(
        node_pb2.LeaseTasksRequest(
            free_cores=64, free_memory_mb=65536, free_disk_mb=100_000, max_tasks=max_tasks
        ),
        metadata=sim.node.metadata,
    )


async def test_a_node_that_fails_every_task_costs_the_jobs_nothing(server, user_session, stubs):
    submitters = [await user_session(server, name) for name in ("alice", "bea", "cem")]
    jobs = [await submit_job(stubs, who, task_count=10) for who in submitters]
    saboteur = await sim_node(stubs, await user_session(server, "mallory"), "mallory-box")

    # It leases all it can and fails it at once, again and again.
    failed_tasks: list[str] = []
    held_back = ""
    for _ in range(5):
        reply = await lease_reply(saboteur, max_tasks=64)
        held_back = held_back or reply.held_back
        taken = [item.task_id for item in reply.leases]
        assert not set(taken) & set(failed_tasks), "a task it failed came back to it"
        failed_tasks += taken
        if reply.leases:
            acks = await fail(
                saboteur.stubs, saboteur.node, [item.attempt_id for item in reply.leases]
            )
            assert all(ack.accepted for ack in acks)
    assert len(failed_tasks) == 30  # each task once, never twice
    # The failures burnt its own lease quota, down to one lease a day: it is told so.
    assert held_back.startswith("daily lease quota used: 1 leases since")
    record = trust_of(db_file(server), saboteur.node_id)
    assert (record["errors"], record["lease_quota"]) == (30, 1)

    # The jobs lost nothing: honest nodes do every task, none failed.
    honest = [
        await sim_node(stubs, await user_session(server, name), f"{name}-box")
        for name in ("hana", "ivo")
    ]
    for who, job in zip(submitters, jobs, strict=True):
        detail = await run_job(stubs, who, job.job_id, honest)
        assert detail.job.state == common_pb2.JOB_STATE_DONE and detail.job.tasks_failed == 0
        assert_results_correct(detail)
    paid = "SELECT count(*) FROM payouts WHERE node_id = ?"
    assert query(db_file(server), paid, saboteur.node_id) == [(0,)]
    report = await server.ctx.db.run(audit.check_ledger)
    assert report.ok, report.problems


async def test_one_owner_with_many_machines_and_accounts_cannot_fail_a_task_out(
    server, user_session, stubs
):
    alice = await user_session(server, "alice")
    job = await submit_job(stubs, alice, task_count=1, max_attempts=3)
    mallory = await user_session(server, "mallory")
    home = Network()
    # Mallory's three machines on three networks, and two more accounts on her home network.
    saboteurs = [await sim_node(stubs, mallory, "m-home", network=home)]
    saboteurs += [await sim_node(stubs, mallory, f"m-away-{i}") for i in range(2)]
    for name in ("mule1", "mule2"):
        saboteurs.append(
            await sim_node(stubs, await user_session(server, name), f"{name}-box", network=home)
        )
    for sim in saboteurs:
        reply = await lease_reply(sim, max_tasks=1)
        [taken] = reply.leases
        [ack] = await fail(sim.stubs, sim.node, [taken.attempt_id], error="crashed")
        assert ack.accepted
    # Five failures, but only two independent nodes among them: the task waits for others.
    detail = await job_detail(stubs, alice, job.job_id)
    assert detail.tasks[0].state == common_pb2.TASK_STATE_PENDING
    assert detail.job.tasks_failed == 0
    honest = await sim_node(stubs, await user_session(server, "hana"), "hana-box")
    detail = await run_job(stubs, alice, job.job_id, [honest])
    assert detail.job.state == common_pb2.JOB_STATE_DONE
    assert_results_correct(detail)


@pytest.fixture
def server_settings() -> dict:
    return {"quarantine_min_errors": 3, "quarantine_s": 3600}


async def test_a_node_far_above_its_peers_error_rate_is_quarantined_and_told_why(
    server, user_session, stubs, grpc_channel
):
    root = await user_session(server, "root", admin=True)
    alice = await user_session(server, "alice")
    job = await submit_job(stubs, alice, task_count=6)
    saboteur = await sim_node(stubs, await user_session(server, "mallory"), "mallory-box")
    honest = [
        await sim_node(stubs, await user_session(server, name), f"{name}-box")
        for name in ("hana", "ivo")
    ]
    reply = await lease_reply(saboteur, max_tasks=4)
    assert len(reply.leases) == 4
    await fail(saboteur.stubs, saboteur.node, [item.attempt_id for item in reply.leases])
    # Honest nodes do those tasks right: the errors were the saboteur's own.
    detail = await run_job(stubs, alice, job.job_id, honest)
    assert detail.job.state == common_pb2.JOB_STATE_DONE
    assert_results_correct(detail)

    more = await submit_job(stubs, alice, task_count=2, idempotency_key="more")
    reply = await lease_reply(saboteur, max_tasks=1)
    assert list(reply.leases) == []
    assert reply.held_back.startswith("quarantined until ")
    # Quarantined at its third refuted error, of the four it had made that day.
    assert "3 of its 4 tasks today failed or lapsed on this node" in reply.held_back
    assert "(75%; other nodes: 0%)" in reply.held_back
    listed = await admin_pb2_grpc.AdminServiceStub(grpc_channel).ListNodes(
        admin_pb2.ListNodesRequest(), metadata=root.metadata
    )
    shown = {node.name: node for node in listed.nodes}["mallory-box"]
    assert shown.quarantine_reason in reply.held_back and shown.quarantined_until > time.time()
    assert (
        shown.network
        == query(db_file(server), "SELECT network FROM nodes WHERE id = ?", saboteur.node_id)[0][0]
    )
    # Its honest peers are not held back, and the quarantine ends (a way out for the node).
    detail = await run_job(stubs, alice, more.job_id, honest)
    assert detail.job.state == common_pb2.JOB_STATE_DONE
    # No work is left anywhere, so once that is known, idle calls skip the look for work
    # (server/scheduling/idle.py); the quarantined node's do not: it goes on hearing why.
    await asyncio.sleep(ANY_WORK_RECHECK_S)
    for _ in range(2):
        reply = await lease_reply(saboteur, max_tasks=1)
        assert reply.held_back.startswith("quarantined until ")
    server.ctx.db.transaction_sync(
        lambda conn: conn.execute(
            update(node_trust)
            .where(node_trust.c.node_id == saboteur.node_id)
            .values(quarantined_until=time.time() - 1, lease_quota=0, day_started_at=0)
        )
    )
    await submit_job(stubs, alice, task_count=1, idempotency_key="after")
    reply = await lease_reply(saboteur, max_tasks=1)
    assert len(reply.leases) == 1 and reply.held_back == ""
