"""Jobs with a compare command (fuzzy outputs) over real gRPC: results whose digests differ
are compared by a node of a third owner, the quorum counts equivalent results, a cheat among
honest nodes still earns nothing, and comparisons that cannot be done fail the task."""

from __future__ import annotations

import grpc
import pytest

from proto.hivemind.v1 import common_pb2, job_pb2, node_pb2
from tests.kit.auditor import db_file, query, trust_of
from tests.kit.simulated_nodes import job_detail, run_job, submit_job
from tests.kit.stubs import Stubs, balance, download, lease, rpc_error, sha256, upload
from tests.kit.waiting import wait_until
from tests.security.comparekit import (
    COMPARE,
    cheat_value,
    close_to_truth,
    fuzzy_node,
    render,
    work,
)

pytestmark = pytest.mark.db

CPT = 1_000_000


async def run_fuzzy(stubs, owner, job_id, sims) -> job_pb2.JobDetail:
    return await run_job(stubs, owner, job_id, sims, max_rounds=60, work_round=work)


async def test_equivalent_results_reach_the_quorum_and_a_cheat_earns_nothing(
    server, user_session, stubs
):
    alice = await user_session(server, "alice")
    owners = [await user_session(server, n) for n in ("hana", "ivo", "jun", "kai", "mallory")]
    honest = [await fuzzy_node(stubs, o, f"{o.username}-box") for o in owners[:4]]
    cheat = await fuzzy_node(stubs, owners[4], "mallory-box", value=cheat_value)
    job = await submit_job(stubs, alice, task_count=4, replicas=2, compare_command=COMPARE)
    assert list(job.compare_command) == COMPARE and job.compare_timeout_s == 60

    detail = await run_fuzzy(stubs, alice, job.job_id, [cheat, *honest])

    assert detail.job.state == common_pb2.JOB_STATE_DONE
    for task in detail.tasks:
        assert task.verification == "verified"
        data = await download(stubs, alice.metadata, task.result_digest)
        assert close_to_truth(data, task.index), data
    compared = [attempt for sim in honest for attempt in sim.comparisons]
    assert compared, "honest outputs never matched digests, so comparisons must have run"
    # Nobody judged a comparison of their own result, and alice owns no node.
    checks = query(
        db_file(server),
        "SELECT a.node_id, c.digest_a, c.digest_b, c.verdict FROM result_comparisons c "
        "JOIN attempts a ON a.id = c.attempt_id WHERE c.state = 'decided'",
    )
    for judge_node, digest_a, digest_b, _ in checks:
        producers = query(
            db_file(server),
            "SELECT node_id FROM attempts WHERE result_digest IN (?, ?) AND job_id = ?",
            digest_a,
            digest_b,
            job.job_id,
        )
        assert judge_node not in {node for (node,) in producers}
    # The cheat: nothing paid, trust gone. Comparers: paid for their time.
    assert cheat.results, "the cheat never got a task"
    assert await balance(stubs, owners[4].metadata) == 100 * CPT
    assert trust_of(db_file(server), cheat.node_id)["consecutive_valid"] == 0
    paid_comparisons = query(
        db_file(server),
        "SELECT count(*), sum(p.amount_ucpt) FROM payouts p JOIN attempts a "
        "ON a.id = p.attempt_id WHERE a.comparison_id IS NOT NULL AND p.job_id = ?",
        job.job_id,
    )[0]
    assert paid_comparisons[0] == len(compared) and paid_comparisons[1] > 0
    # Every micro-CPT is accounted for: paid out plus refunded equals what was escrowed.
    final = (await job_detail(stubs, alice, job.job_id)).job
    paid = query(
        db_file(server), "SELECT sum(amount_ucpt) FROM payouts WHERE job_id = ?", job.job_id
    )[0][0]
    assert final.cost_ucpt == paid
    assert final.cost_ucpt + final.refunded_ucpt == final.max_cost_ucpt
    assert await balance(stubs, alice.metadata) == 100 * CPT - final.cost_ucpt


async def test_the_owners_of_both_results_and_the_submitter_never_compare(
    server, user_session, stubs
):
    alice = await user_session(server, "alice")
    hana, ivo, kai = [await user_session(server, n) for n in ("hana", "ivo", "kai")]
    a = await fuzzy_node(stubs, hana, "hana-box")
    b = await fuzzy_node(stubs, ivo, "ivo-box")
    alices_box = await fuzzy_node(stubs, alice, "alice-box")
    job = await submit_job(stubs, alice, task_count=1, replicas=2, compare_command=COMPARE)
    await work(stubs, a)
    await work(stubs, b)
    # The task now waits for a comparison: neither producer nor the submitter may take it.
    for sim in (a, b, alices_box):
        assert await lease(sim.stubs, sim.node) == []
    hana_second = await fuzzy_node(stubs, hana, "hana-second-box")
    assert await lease(hana_second.stubs, hana_second.node) == []
    judge = await fuzzy_node(stubs, kai, "kai-box")
    assert await work(stubs, judge) == 1 and judge.comparisons
    detail = await job_detail(stubs, alice, job.job_id)
    assert detail.job.state == common_pb2.JOB_STATE_DONE


async def test_different_results_issue_another_replica_then_agree(server, user_session, stubs):
    alice = await user_session(server, "alice")
    hana, ivo, jun, kai = [await user_session(server, n) for n in ("hana", "ivo", "jun", "kai")]
    cheat = await fuzzy_node(stubs, hana, "hana-box", value=cheat_value)
    honest = await fuzzy_node(stubs, ivo, "ivo-box")
    third = await fuzzy_node(stubs, jun, "jun-box")
    judge = await fuzzy_node(stubs, kai, "kai-box")
    job = await submit_job(stubs, alice, task_count=1, replicas=2, compare_command=COMPARE)
    await work(stubs, cheat)
    await work(stubs, honest)
    await work(stubs, judge)  # says "different": another replica is issued
    assert query(db_file(server), "SELECT verdict FROM result_comparisons") == [("different",)]
    await work(stubs, third)  # a third result; it is compared with the first group's
    for _ in range(4):
        await work(stubs, judge)
    detail = await job_detail(stubs, alice, job.job_id)
    assert detail.job.state == common_pb2.JOB_STATE_DONE
    (task,) = detail.tasks
    data = await download(stubs, alice.metadata, task.result_digest)
    assert close_to_truth(data, 0)
    statuses = dict(query(db_file(server), "SELECT node_id, status FROM result_checks"))
    assert statuses[cheat.node_id] == "invalid"
    assert statuses[honest.node_id] == statuses[third.node_id] == "valid"


async def test_a_compare_command_that_keeps_failing_fails_the_task(server, user_session, stubs):
    alice = await user_session(server, "alice")
    hana, ivo = [await user_session(server, n) for n in ("hana", "ivo")]
    judges = [await user_session(server, f"judge{i}") for i in range(3)]
    a = await fuzzy_node(stubs, hana, "hana-box")
    b = await fuzzy_node(stubs, ivo, "ivo-box")
    broken = [
        await fuzzy_node(stubs, j, f"{j.username}-box", fail_comparisons=True) for j in judges
    ]
    job = await submit_job(
        stubs, alice, task_count=1, replicas=2, compare_command=COMPARE, max_attempts=3
    )
    await work(stubs, a)
    await work(stubs, b)
    for sim in broken:  # each failure puts the comparison back for another node
        assert await work(stubs, sim) == 1
    detail = await job_detail(stubs, alice, job.job_id)
    assert detail.job.state == common_pb2.JOB_STATE_FAILED
    (task,) = detail.tasks
    assert task.state == common_pb2.TASK_STATE_FAILED
    assert "compare command failed 3 times" in task.error and "compare.py crashed" in task.error
    assert await balance(stubs, alice.metadata) == 100 * CPT  # nothing accepted, all refunded
    assert query(db_file(server), "SELECT status FROM result_checks") == [
        ("inconclusive",),
        ("inconclusive",),
    ]


async def test_a_comparison_report_with_a_bad_exit_code_or_a_result_changes_nothing(
    server, user_session, stubs
):
    alice = await user_session(server, "alice")
    hana, ivo, kai = [await user_session(server, n) for n in ("hana", "ivo", "kai")]
    a = await fuzzy_node(stubs, hana, "hana-box")
    b = await fuzzy_node(stubs, ivo, "ivo-box")
    judge = await fuzzy_node(stubs, kai, "kai-box")
    await submit_job(stubs, alice, task_count=1, replicas=2, compare_command=COMPARE)
    await work(stubs, a)
    await work(stubs, b)
    (leased,) = await lease(judge.stubs, judge.node)
    assert leased.HasField("comparison")
    for bad in (
        node_pb2.Completion(attempt_id=leased.attempt_id, exit_code=3),
        node_pb2.Completion(attempt_id=leased.attempt_id, exit_code=0, result_digest="ab" * 32),
    ):
        acks = await judge.stubs.nodes.CompleteAttempts(
            node_pb2.CompleteAttemptsRequest(completions=[bad]), metadata=judge.node.metadata
        )
        assert not acks.acks[0].accepted and acks.acks[0].error
    assert query(db_file(server), "SELECT state, verdict FROM result_comparisons") == [
        ("leased", "")
    ]
    assert query(db_file(server), "SELECT state FROM attempts WHERE id = ?", leased.attempt_id) == [
        ("leased",)
    ]
    assert await balance(stubs, kai.metadata) == 100 * CPT


async def test_compare_settings_are_checked_and_escrowed(server, user_session, stubs):
    alice = await user_session(server, "alice")
    for overrides, words in (
        ({"compare_timeout_s": 30}, "needs a compare command"),
        ({"compare_command": COMPARE, "compare_timeout_s": 61}, "compare timeout"),
        ({"compare_command": ["", "x"]}, "compare command must be a non-empty list"),
        ({"compare_command": ["python3", "a\x00b"]}, "NUL"),
    ):
        error = await rpc_error(submit_job(stubs, alice, **overrides))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert words in error.details()
    assert await balance(stubs, alice.metadata) == 100 * CPT  # nothing was escrowed
    resources = common_pb2.Resources(cores=1, memory_mb=64, timeout_s=60)
    plain, compared = [
        (
            await stubs.jobs.EstimateCost(
                job_pb2.EstimateCostRequest(
                    resources=resources,
                    tasks=4,
                    replicas=2,
                    compare=compare,
                    compare_timeout_s=10 if compare else 0,
                ),
                metadata=alice.metadata,
            )
        ).worst_case_ucpt
        for compare in (False, True)
    ]
    # Four results per task at most (2 replicas + 2 extra): six comparisons of 10 s each.
    assert compared == plain + plain * 6 * 10 // (2 * 60)
    job = await submit_job(stubs, alice, replicas=2, compare_command=COMPARE, compare_timeout_s=10)
    assert job.max_cost_ucpt == compared


async def test_a_comparison_whose_node_vanishes_is_compared_elsewhere(make_server, user_session):
    server = await make_server(lease_ttl_s=1, sweep_interval_s=0.1, node_offline_after_s=3600)
    channel = grpc.aio.insecure_channel(server.address)
    stubs = Stubs(channel, server.address)
    try:
        alice = await user_session(server, "alice")
        hana, ivo, kai, lee = [await user_session(server, n) for n in ("hana", "ivo", "kai", "lee")]
        a = await fuzzy_node(stubs, hana, "hana-box")
        b = await fuzzy_node(stubs, ivo, "ivo-box")
        vanishing = await fuzzy_node(stubs, kai, "kai-box")
        judge = await fuzzy_node(stubs, lee, "lee-box")
        job = await submit_job(stubs, alice, task_count=1, replicas=2, compare_command=COMPARE)
        await work(stubs, a)
        await work(stubs, b)
        (taken,) = await lease(vanishing.stubs, vanishing.node)  # then never heard of again
        assert taken.HasField("comparison")
        assert await lease(judge.stubs, judge.node) == []  # held by the vanished node for now

        async def judged() -> bool:
            return await work(stubs, judge) == 1

        await wait_until(judged, timeout=10)
        detail = await job_detail(stubs, alice, job.job_id)
        assert detail.job.state == common_pb2.JOB_STATE_DONE
        states = query(
            db_file(server),
            "SELECT node_id, state FROM attempts WHERE comparison_id IS NOT NULL "
            "ORDER BY leased_at",
        )
        assert states == [(vanishing.node_id, "expired"), (judge.node_id, "done")]
        assert trust_of(db_file(server), vanishing.node_id).get("expired_leases", 0) >= 1
    finally:
        await channel.close()


async def test_a_late_replica_is_compared_with_the_accepted_result(server, user_session, stubs):
    alice = await user_session(server, "alice")
    hana, ivo, jun, kai = [await user_session(server, n) for n in ("hana", "ivo", "jun", "kai")]
    a = await fuzzy_node(stubs, hana, "hana-box")
    b = await fuzzy_node(stubs, ivo, "ivo-box")
    late_cheat = await fuzzy_node(stubs, jun, "jun-box", value=cheat_value)
    judge = await fuzzy_node(stubs, kai, "kai-box")
    # Two tasks: the job keeps running while task 0 is decided (a job that ends cancels its
    # replicas still out).
    job = await submit_job(stubs, alice, task_count=2, replicas=3, compare_command=COMPARE)
    (held,) = await lease(
        late_cheat.stubs, late_cheat.node
    )  # task 0's third replica, reported late
    assert held.task_index == 0
    await work(stubs, a)
    await work(stubs, b)
    assert await work(stubs, judge) == 1  # a and b: same -> the quorum of 2 is reached
    detail = await job_detail(stubs, alice, job.job_id)
    assert detail.tasks[0].state == common_pb2.TASK_STATE_DONE

    data = render(0, cheat_value(0))
    await upload(late_cheat.stubs, late_cheat.node.metadata, data, common_pb2.ARTIFACT_KIND_RESULT)
    acks = await late_cheat.stubs.nodes.CompleteAttempts(
        node_pb2.CompleteAttemptsRequest(
            completions=[
                node_pb2.Completion(
                    attempt_id=held.attempt_id, result_digest=sha256(data), result_size=len(data)
                )
            ]
        ),
        metadata=late_cheat.node.metadata,
    )
    assert acks.acks[0].accepted and "compares it with the accepted one" in acks.acks[0].error
    assert await work(stubs, judge) == 1  # the accepted result vs the late one: different
    statuses = dict(query(db_file(server), "SELECT node_id, status FROM result_checks"))
    assert statuses == {a.node_id: "valid", b.node_id: "valid", late_cheat.node_id: "invalid"}
    paid = dict(query(db_file(server), "SELECT node_id, count(*) FROM payouts GROUP BY node_id"))
    assert paid == {a.node_id: 1, b.node_id: 1, judge.node_id: 2}
    assert trust_of(db_file(server), late_cheat.node_id)["consecutive_valid"] == 0


async def test_a_spot_check_of_fuzzy_output_is_decided_by_a_comparison(server, user_session, stubs):
    alice = await user_session(server, "alice")
    hana, ivo, kai = [await user_session(server, n) for n in ("hana", "ivo", "kai")]
    newcomer = await fuzzy_node(stubs, hana, "hana-box")  # no trust yet: always checked
    checker = await fuzzy_node(stubs, ivo, "ivo-box")
    judge = await fuzzy_node(stubs, kai, "kai-box")
    job = await submit_job(stubs, alice, task_count=1, compare_command=COMPARE)
    await work(stubs, newcomer)
    detail = await job_detail(stubs, alice, job.job_id)
    assert detail.tasks[0].verification == "checking"
    await work(stubs, checker)  # another value: the two are compared
    assert await work(stubs, judge) == 1
    detail = await job_detail(stubs, alice, job.job_id)
    assert detail.job.state == common_pb2.JOB_STATE_DONE
    assert detail.tasks[0].verification == "verified"
    paid = dict(query(db_file(server), "SELECT node_id, count(*) FROM payouts GROUP BY node_id"))
    assert paid == {newcomer.node_id: 1, checker.node_id: 1, judge.node_id: 1}
    assert trust_of(db_file(server), newcomer.node_id)["consecutive_valid"] == 1
