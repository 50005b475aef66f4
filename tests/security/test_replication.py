"""Replication and quorum over real gRPC: a cheating node among honest ones gets nothing
past the quorum, replicas go to different owners, replayed reports have one effect, and a
task whose results never agree fails with the evidence."""

from __future__ import annotations

import pytest

from proto.hivemind.v1 import common_pb2, node_pb2
from server.ledger import audit
from tests.kit.auditor import db_file, query, trust_of
from tests.kit.loopback_networks import Network
from tests.kit.simulated_nodes import (
    assert_results_correct,
    correct_output,
    job_detail,
    run_job,
    sim_node,
    submit_job,
    work,
    wrong_output,
)
from tests.kit.stubs import balance, fail, lease, register_node, sha256, upload

pytestmark = pytest.mark.db

CPT = 1_000_000


async def test_a_cheater_among_honest_nodes_earns_nothing(server, user_session, stubs):
    alice = await user_session(server, "alice")
    owners = [await user_session(server, name) for name in ("hana", "ivo", "jun", "mallory")]
    honest = [await sim_node(stubs, owner, f"{owner.username}-box") for owner in owners[:3]]
    cheat = await sim_node(stubs, owners[3], "mallory-box", wrong_output)
    job = await submit_job(stubs, alice, task_count=6, replicas=2)

    # The cheat asks first every round, so it takes a replica of many tasks.
    detail = await run_job(stubs, alice, job.job_id, [cheat, *honest])

    assert detail.job.state == common_pb2.JOB_STATE_DONE
    assert_results_correct(detail)  # every accepted result is the right one
    assert {task.verification for task in detail.tasks} == {"verified"}
    assert cheat.results, "the cheat never got a task"
    assert await balance(stubs, owners[3].metadata) == 100 * CPT
    cheat_payouts = "SELECT count(*) FROM payouts WHERE node_id = ?"
    assert query(db_file(server), cheat_payouts, cheat.node_id) == [(0,)]
    statuses = query(
        db_file(server), "SELECT status FROM result_checks WHERE node_id = ?", cheat.node_id
    )
    assert {status for (status,) in statuses} <= {"invalid", "inconclusive"}
    mallory = trust_of(db_file(server), cheat.node_id)
    assert mallory["consecutive_valid"] == 0
    assert mallory["invalid_results"] == sum(1 for (s,) in statuses if s == "invalid") >= 1

    # Honest nodes: paid exactly once per accepted (valid) result, two per task at most.
    for sim in honest:
        assert trust_of(db_file(server), sim.node_id)["invalid_results"] == 0
    valid = query(db_file(server), "SELECT attempt_id FROM result_checks WHERE status = 'valid'")
    paid = query(db_file(server), "SELECT attempt_id, amount_ucpt FROM payouts")
    assert sorted(a for (a,) in valid) == sorted(a for a, _ in paid)
    per_task = query(
        db_file(server),
        "SELECT a.task_id, count(*) FROM payouts p JOIN attempts a ON a.id = p.attempt_id"
        " GROUP BY a.task_id",
    )
    assert sorted(count for _, count in per_task) == [2] * 6
    earned = sum([await balance(stubs, o.metadata) - 100 * CPT for o in owners[:3]])
    assert earned == sum(amount for _, amount in paid) == detail.job.cost_ucpt
    assert detail.job.refunded_ucpt == detail.job.max_cost_ucpt - detail.job.cost_ucpt
    report = await server.ctx.db.run(audit.check_ledger)
    assert report.ok, report.problems


async def test_replicas_go_to_nodes_of_different_owners_and_networks(server, user_session, stubs):
    alice = await user_session(server, "alice")
    bob, carol, dave = [await user_session(server, name) for name in ("bob", "carol", "dave")]
    job = await submit_job(stubs, alice, task_count=1, replicas=2)
    home = Network()
    first = await sim_node(stubs, bob, "bob-1", network=home)
    second = await sim_node(stubs, bob, "bob-2")  # on another network
    [taken] = await lease(first.stubs, first.node)
    # Bob's other machine is no independent second opinion, nor is his housemate's.
    assert await lease(second.stubs, second.node) == []
    housemate = await sim_node(stubs, carol, "carol-1", network=home)
    assert await lease(housemate.stubs, housemate.node) == []
    other = await sim_node(stubs, dave, "dave-1")
    [replica] = await lease(other.stubs, other.node)
    assert replica.task_id == taken.task_id and replica.attempt_id != taken.attempt_id
    detail = await job_detail(stubs, alice, job.job_id)
    assert detail.tasks[0].state == common_pb2.TASK_STATE_LEASED  # both replicas are out
    assert await lease(stubs, await register_node(stubs, alice.metadata)) == []
    networks = dict(query(db_file(server), "SELECT name, network FROM nodes"))
    assert networks["bob-1"] == networks["carol-1"] == home.cidr
    assert len({networks["bob-1"], networks["bob-2"], networks["dave-1"]}) == 3


async def test_replayed_and_duplicated_reports_have_one_effect(server, user_session, stubs):
    alice = await user_session(server, "alice")
    bob, carol = await user_session(server, "bob"), await user_session(server, "carol")
    job = await submit_job(stubs, alice, task_count=2, replicas=2)
    b = await sim_node(stubs, bob, "bob-box")
    c = await sim_node(stubs, carol, "carol-box")
    data = correct_output(0)
    await upload(b.stubs, b.node.metadata, data, common_pb2.ARTIFACT_KIND_RESULT)
    await upload(c.stubs, c.node.metadata, data, common_pb2.ARTIFACT_KIND_RESULT)
    [lb] = await lease(b.stubs, b.node)
    [lc] = await lease(c.stubs, c.node)
    assert lb.task_id == lc.task_id

    def report(attempt_id: str) -> node_pb2.Completion:
        return node_pb2.Completion(
            attempt_id=attempt_id,
            result_digest=sha256(data),
            result_size=len(data),
            stats=node_pb2.AttemptStats(wall_seconds=1.0),
        )

    async def complete(sim, *reports):
        reply = await sim.stubs.nodes.CompleteAttempts(
            node_pb2.CompleteAttemptsRequest(completions=list(reports)), metadata=sim.node.metadata
        )
        return list(reply.acks)

    # The first result, twice in one batch and once more: one result waiting for a second.
    first = await complete(b, report(lb.attempt_id), report(lb.attempt_id))
    assert [(a.accepted, a.payout_ucpt) for a in first] == [(True, 0), (True, 0)]
    assert first[0].error == "result recorded; waiting for agreeing results"
    [again] = await complete(b, report(lb.attempt_id))
    assert (again.accepted, again.error, again.payout_ucpt) == (True, "already completed", 0)
    # The second agrees: both are paid, once.
    [second] = await complete(c, report(lc.attempt_id))
    assert second.accepted and second.payout_ucpt > 0
    assert second.error == "accepted: 2 results agree"
    balances = (await balance(stubs, bob.metadata), await balance(stubs, carol.metadata))
    replays = await complete(c, report(lc.attempt_id), report(lc.attempt_id))
    replays += await complete(b, report(lb.attempt_id))
    assert all(a.error == "already completed" and a.payout_ucpt > 0 for a in replays)
    assert (await balance(stubs, bob.metadata), await balance(stubs, carol.metadata)) == balances
    assert query(db_file(server), "SELECT count(*) FROM payouts") == [(2,)]
    assert query(db_file(server), "SELECT count(*) FROM result_checks") == [(2,)]

    # A failure replayed counts once: the task loses one attempt and reopens one slot.
    [lf] = await lease(b.stubs, b.node)
    for _ in range(3):
        [ack] = await fail(b.stubs, b.node, [lf.attempt_id], error="crashed")
        assert ack.accepted
    failed = query(
        db_file(server), "SELECT count(*) FROM attempts WHERE task_id = ? AND state = 'failed'",
        lf.task_id,
    )  # fmt: skip
    assert failed == [(1,)]
    assert query(
        db_file(server), "SELECT open_slots FROM task_replicas WHERE task_id = ?", lf.task_id
    ) == [(2,)]
    assert (await job_detail(stubs, alice, job.job_id)).job.tasks_failed == 0


async def test_results_that_never_agree_fail_the_task_with_the_evidence(
    server, user_session, stubs
):
    alice = await user_session(server, "alice")
    owners = [await user_session(server, f"owner{i}") for i in range(4)]
    sims = [
        await sim_node(stubs, owner, f"box{i}", lambda index, i=i: f"opinion {i}\n".encode())
        for i, owner in enumerate(owners)
    ]
    # replicas=2 with at most 2 extra results: 4 different answers, then the task fails.
    job = await submit_job(stubs, alice, task_count=1, replicas=2)
    detail = await run_job(stubs, alice, job.job_id, sims)

    assert detail.job.state == common_pb2.JOB_STATE_FAILED
    error = detail.tasks[0].error
    assert error.startswith("no quorum: 4 results disagree and no 2 of them agree")
    for i in range(4):
        assert sha256(f"opinion {i}\n".encode())[:12] in error
    assert query(db_file(server), "SELECT count(*) FROM payouts") == [(0,)]
    assert detail.job.refunded_ucpt == detail.job.max_cost_ucpt
    statuses = query(db_file(server), "SELECT DISTINCT status FROM result_checks")
    assert statuses == [("inconclusive",)]


async def test_a_failing_replica_is_replaced_and_the_quorum_still_decides(
    server, user_session, stubs
):
    alice = await user_session(server, "alice")
    owners = [await user_session(server, f"owner{i}") for i in range(3)]
    sims = [await sim_node(stubs, owner, f"box{i}") for i, owner in enumerate(owners)]
    job = await submit_job(stubs, alice, task_count=1, replicas=2, max_attempts=2)
    [first] = await lease(sims[0].stubs, sims[0].node)
    [ack] = await fail(sims[0].stubs, sims[0].node, [first.attempt_id], error="out of memory")
    assert ack.accepted
    await work(stubs, sims[1])
    await work(stubs, sims[2])
    detail = await job_detail(stubs, alice, job.job_id)
    assert detail.job.state == common_pb2.JOB_STATE_DONE
    assert_results_correct(detail)
    assert trust_of(db_file(server), sims[0].node_id)["errors"] == 1
