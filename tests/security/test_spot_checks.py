"""Adaptive replication: unreplicated work is spot-checked (always while a node earns trust,
then with probability 1/consecutive_valid), a node caught cheating loses its trust, and its
recent unverified results run again, so the submitter still gets correct results."""

from __future__ import annotations

import random

import pytest

from proto.hivemind.v1 import common_pb2
from server.nodes.trust import spot_check_probability
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

pytestmark = pytest.mark.db


@pytest.fixture
def server_settings() -> dict:
    # A node is established (and may be trusted) after 2 independent valid results, at any
    # age: the tests here are about what follows trust, not about how long earning it takes.
    return {"trust_threshold": 2, "established_min_valid": 2, "established_min_age_s": 0}


def test_the_chance_of_a_spot_check_follows_trust():
    assert spot_check_probability(0, threshold=3, floor=0.0) == 1.0  # still earning trust
    assert spot_check_probability(2, threshold=3, floor=0.0) == 1.0
    assert spot_check_probability(3, threshold=3, floor=0.0) == pytest.approx(1 / 3)
    assert spot_check_probability(50, threshold=3, floor=0.0) == pytest.approx(1 / 50)
    assert spot_check_probability(50, threshold=3, floor=0.1) == pytest.approx(0.1)


async def test_a_node_that_starts_cheating_after_earning_trust_is_caught(
    server, user_session, stubs
):
    # Seeded, so the run is the same every time; the server draws from it like from its
    # system randomness (which nodes cannot predict).
    server.ctx.spot_check_rng = random.Random(20260101)
    alice = await user_session(server, "alice")
    mallory_user = await user_session(server, "mallory")
    mallory = await sim_node(stubs, mallory_user, "mallory-box")
    honest = [
        await sim_node(stubs, await user_session(server, name), f"{name}-box")
        for name in ("hana", "ivo")
    ]

    # Mallory earns trust honestly on replicated work.
    earning = await submit_job(stubs, alice, task_count=4, replicas=2)
    await run_job(stubs, alice, earning.job_id, [mallory, *honest])
    earned = trust_of(db_file(server), mallory.node_id)["consecutive_valid"]
    assert earned >= 2  # trusted: her unreplicated work is now checked 1 time in `earned`

    # Then she cheats on unreplicated work, until a spot check catches her.
    mallory.output = wrong_output
    job = await submit_job(stubs, alice, task_count=24)
    for _ in range(30):
        await work(stubs, mallory)
        for sim in honest:
            await work(stubs, sim)
        if trust_of(db_file(server), mallory.node_id)["spot_checks_failed"]:
            break
    caught = trust_of(db_file(server), mallory.node_id)
    assert caught["spot_checks_failed"] == 1 and caught["consecutive_valid"] == 0
    cheated = query(
        db_file(server),
        "SELECT status, count(*) FROM result_checks WHERE node_id = ? AND job_id = ?"
        " GROUP BY status",
        mallory.node_id,
        job.job_id,
    )
    statuses = dict(cheated)
    # The result the spot check caught (and any check she ran herself on others' results).
    assert statuses.get("invalid", 0) >= 1
    # What she delivered before, taken unverified, is thrown away and runs again.
    assert statuses.get("discarded", 0) >= 1 and "unverified" not in statuses

    detail = await run_job(stubs, alice, job.job_id, honest)
    assert detail.job.state == common_pb2.JOB_STATE_DONE
    assert_results_correct(detail)
    assert all(trust_of(db_file(server), s.node_id)["invalid_results"] == 0 for s in honest)


async def test_a_new_node_is_checked_until_it_earns_trust(server, user_session, stubs):
    alice = await user_session(server, "alice")
    bob = await sim_node(stubs, await user_session(server, "bob"), "bob-box")
    carol = await sim_node(stubs, await user_session(server, "carol"), "carol-box")
    job = await submit_job(stubs, alice, task_count=6)
    # The budget is the worst case: a check fits only once finished tasks left room in it.
    await work(stubs, bob)
    await work(stubs, bob)
    await work(stubs, bob)  # a new node, a funded check: carol runs it too
    detail = await job_detail(stubs, alice, job.job_id)
    states = [task.state for task in detail.tasks]
    done, pending = common_pb2.TASK_STATE_DONE, common_pb2.TASK_STATE_PENDING
    assert states[:3] == [done, done, pending]
    assert [t.verification for t in detail.tasks[:3]] == ["unverified", "unverified", "checking"]
    spot = query(db_file(server), "SELECT task_id, spot_check FROM task_replicas")
    assert [(task_id, flag) for task_id, flag in spot] == [(detail.tasks[2].task_id, 1)]
    paid_before = query(db_file(server), "SELECT count(*) FROM payouts")
    await work(stubs, carol)
    detail = await job_detail(stubs, alice, job.job_id)
    assert detail.tasks[2].state == common_pb2.TASK_STATE_DONE
    assert detail.tasks[2].verification == "verified"
    assert trust_of(db_file(server), bob.node_id)["spot_checks_passed"] == 1
    # Both results of the checked task are paid: the check was funded by the job's slack.
    assert query(db_file(server), "SELECT count(*) FROM payouts") == [(paid_before[0][0] + 2,)]
    await run_job(stubs, alice, job.job_id, [bob, carol])
    assert_results_correct(await job_detail(stubs, alice, job.job_id))


async def test_the_submitters_own_machines_are_not_checked(server, user_session, stubs):
    alice = await user_session(server, "alice")
    mine = await sim_node(stubs, alice, "alice-box")
    await sim_node(stubs, await user_session(server, "bob"), "bob-box")  # could check; need not
    job = await submit_job(stubs, alice, task_count=4)
    detail = await run_job(stubs, alice, job.job_id, [mine])
    assert_results_correct(detail)
    assert query(db_file(server), "SELECT DISTINCT status FROM result_checks") == [("unverified",)]
    assert query(db_file(server), "SELECT count(*) FROM task_replicas") == [(0,)]


async def test_nothing_is_checked_without_a_node_of_another_owner(server, user_session, stubs):
    alice = await user_session(server, "alice")
    bob = await sim_node(stubs, await user_session(server, "bob"), "bob-box")
    job = await submit_job(stubs, alice, task_count=4)
    detail = await run_job(stubs, alice, job.job_id, [bob])
    assert_results_correct(detail)
    assert query(db_file(server), "SELECT count(*) FROM task_replicas") == [(0,)]
