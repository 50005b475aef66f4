"""Jobs with rounds over real gRPC (server/jobs/rounds.py, server/validation/rounds.py):
each round's tasks start from the model the previous round's aggregate made; the aggregate
runs on nodes of two owners and is accepted by quorum; stragglers are cancelled unpaid; a
failed round fails the job; cancelling refunds the rest; a restart between rounds goes on."""

from __future__ import annotations

import asyncio
import json

import grpc
import pytest

from proto.hivemind.v1 import common_pb2, job_pb2, node_pb2
from server.jobs.rounds import stored_metrics
from server.ledger import audit
from server.ledger.rewards import worst_case_cost_ucpt
from tests.kit.auditor import db_file, query
from tests.kit.round_nodes import (
    AGGREGATE,
    aggregate_leases,
    aggregate_output,
    detail,
    reconnect,
    round_node,
    round_state,
    run_until,
    submit_rounds,
    work,
)
from tests.kit.stubs import Stubs, balance, fail, make_zip, rpc_error, sha256

# Worth running on both databases: rounds close, aggregate and move on once each, also under
# PostgreSQL's SERIALIZABLE transactions.
pytestmark = pytest.mark.db

CPT = 1_000_000
GRANT = 100 * CPT


@pytest.fixture
def server_settings() -> dict:
    # A fast sweep, so a round deadline passes within a test.
    return {"sweep_interval_s": 0.1}


async def people(server, user_session, stubs, *names: str, **kw):
    owners = [await user_session(server, name) for name in names]
    return [await round_node(stubs, owner, f"{owner.username}-box", **kw) for owner in owners]


async def test_a_two_round_job_builds_each_round_on_the_verified_model_of_the_last(
    server, user_session, stubs
):
    alice = await user_session(server, "alice")
    sims = await people(server, user_session, stubs, "bob", "carol", "dave")
    job = await submit_rounds(stubs, alice, task_count=2, rounds=2)
    assert (job.rounds, job.round_tasks, job.min_results) == (2, 2, 2)
    assert job.tasks_total == 6  # two rounds of two tasks and an aggregate
    assert list(job.aggregate_command) == AGGREGATE

    found = await run_until(stubs, alice, job.job_id, sims)

    assert found.job.state == common_pb2.JOB_STATE_DONE
    assert (found.job.tasks_done, found.job.current_round) == (6, 1)
    first, second = found.rounds
    assert [r.state for r in found.rounds] == [job_pb2.ROUND_STATE_DONE] * 2
    assert first.model_digest == "" and first.tasks_accepted == 2
    assert second.model_digest == first.result_digest  # round 2 starts from round 1's model
    assert dict(first.metrics) == {"round": 0.0, "results": 2.0, "loss": 1.0}
    assert dict(second.metrics) == {"round": 1.0, "results": 2.0, "loss": 0.5}
    # Every task of round 2 was leased with round 1's model; round 1's with none.
    task_leases = [lease for sim in sims for lease in sim.leases if lease.task_index >= 0]
    assert {(lease.round, lease.model_digest) for lease in task_leases} == {
        (0, ""),
        (1, first.result_digest),
    }
    for index, model in ((0, ""), (1, first.result_digest)):
        runs = aggregate_leases(sims, index)
        # Run by nodes of two owners, over the round's accepted outputs and its model.
        assert len({name for name, _ in runs}) == 2 == len(runs)
        for _, lease in runs:
            assert list(lease.command) == AGGREGATE and lease.task_index == -1
            assert (lease.model_digest, lease.rounds) == (model, 2)
            accepted = {
                t.index: t.result_digest for t in found.tasks if t.round == index and t.index >= 0
            }
            assert {o.task_index: o.digest for o in lease.aggregate.outputs} == accepted
    aggregates = [task for task in found.tasks if task.aggregate]
    assert [(t.round, t.index, t.verification) for t in aggregates] == [
        (0, -1, "verified"),
        (1, -1, "verified"),
    ]
    assert second.result_digest == aggregates[1].result_digest
    # The job's results: its last round, whose aggregate's output is the job's result.
    results = await stubs.jobs.GetResults(
        job_pb2.GetResultsRequest(job_id=job.job_id), metadata=alice.metadata
    )
    assert sorted((r.round, r.index, r.aggregate) for r in results.results) == [
        (1, -1, True),
        (1, 0, False),
        (1, 1, False),
    ]
    # Money: what alice paid is what the workers earned; the rest came back.
    earned = sum([await balance(stubs, sim.owner.metadata) - GRANT for sim in sims])
    assert earned == found.job.cost_ucpt > 0
    assert await balance(stubs, alice.metadata) == GRANT - found.job.cost_ucpt
    assert found.job.refunded_ucpt == found.job.max_cost_ucpt - found.job.cost_ucpt
    report = await server.ctx.db.run(audit.check_ledger)
    assert report.ok, report.problems


async def test_a_node_that_dies_mid_round_is_cancelled_unpaid_once_enough_are_in(
    server, user_session, stubs
):
    alice = await user_session(server, "alice")
    [dead] = await people(server, user_session, stubs, "erin", silent=True)
    sims = await people(server, user_session, stubs, "bob", "carol", "dave")
    job = await submit_rounds(stubs, alice, task_count=4, rounds=1, min_results=3)
    await work(stubs, dead)  # takes a task, then its machine goes away
    [held] = dead.leases

    found = await run_until(stubs, alice, job.job_id, sims)

    assert found.job.state == common_pb2.JOB_STATE_DONE
    [round_0] = found.rounds
    assert (round_0.state, round_0.tasks_accepted) == (job_pb2.ROUND_STATE_DONE, 3)
    straggler = next(t for t in found.tasks if t.task_id == held.task_id)
    assert straggler.state == common_pb2.TASK_STATE_CANCELLED
    assert "round closed" in straggler.error
    assert (found.job.tasks_done, found.job.tasks_cancelled) == (4, 1)  # 3 tasks + aggregate
    # The aggregate combined the three accepted outputs.
    for _, lease in aggregate_leases(sims, 0):
        assert held.task_index not in [o.task_index for o in lease.aggregate.outputs]
        assert len(lease.aggregate.outputs) == 3
    # If the machine comes back, it is told to stop, and its late result is not taken.
    beat = await stubs.nodes.Heartbeat(
        node_pb2.HeartbeatRequest(running_attempt_ids=[held.attempt_id]),
        metadata=dead.node.metadata,
    )
    assert held.attempt_id in beat.cancel_attempt_ids
    late = await stubs.nodes.CompleteAttempts(
        node_pb2.CompleteAttemptsRequest(
            completions=[node_pb2.Completion(attempt_id=held.attempt_id)]
        ),
        metadata=dead.node.metadata,
    )
    assert not late.acks[0].accepted
    assert await balance(stubs, dead.owner.metadata) == GRANT


async def test_a_garbage_aggregate_is_outvoted_and_earns_nothing(server, user_session, stubs):
    alice = await user_session(server, "alice")
    sims = await people(server, user_session, stubs, "bob", "carol", "dave")
    [mallory] = await people(server, user_session, stubs, "mallory", poison_aggregates=True)
    job = await submit_rounds(stubs, alice, task_count=2, rounds=1)
    aggregating = lambda found: round_state(found, 0) == job_pb2.ROUND_STATE_AGGREGATING  # noqa: E731
    await run_until(stubs, alice, job.job_id, sims, aggregating)

    # Mallory's garbage and an honest result disagree: a third replica decides.
    assert await work(stubs, mallory) == 1
    found = await run_until(stubs, alice, job.job_id, sims)

    assert found.job.state == common_pb2.JOB_STATE_DONE
    [(_, garbage_lease)] = [run for run in aggregate_leases([mallory], 0)]
    honest = [lease for _, lease in aggregate_leases(sims, 0)]
    assert len(honest) == 2  # the one that disagreed with mallory, and the third
    assert found.rounds[0].result_digest == sha256(aggregate_output(honest[0]))
    statuses = query(
        db_file(server),
        "SELECT status FROM result_checks WHERE attempt_id = ?",
        garbage_lease.attempt_id,
    )
    assert statuses == [("invalid",)]
    assert await balance(stubs, mallory.owner.metadata) == GRANT


async def test_aggregates_that_differ_in_bytes_are_compared_by_a_third_owner(
    server, user_session, stubs
):
    alice = await user_session(server, "alice")
    sims = await people(server, user_session, stubs, "bob", "carol", "dave", own_bytes=True)
    job = await submit_rounds(
        stubs, alice, task_count=2, rounds=2, compare_command=["python3", "compare.py"]
    )

    found = await run_until(stubs, alice, job.job_id, sims)

    assert found.job.state == common_pb2.JOB_STATE_DONE
    for index in (0, 1):
        runs = aggregate_leases(sims, index)
        compared = [
            (sim.name, lease)
            for sim in sims
            for lease in sim.leases
            if lease.HasField("comparison") and lease.task_index == -1 and lease.round == index
        ]
        ran = {name for name, _ in runs}
        # Two owners' aggregates, different bytes: a third owner compared them.
        [(judge, _)] = compared
        assert len(ran) == 2 and judge not in ran
    assert [task.verification for task in found.tasks if task.aggregate] == ["verified"] * 2
    # Round 2 started from the aggregate output that was accepted (the first of the two).
    assert found.rounds[1].model_digest == found.rounds[0].result_digest


async def test_a_cancelled_job_with_rounds_is_refunded_everything_it_did_not_spend(
    server, user_session, stubs
):
    alice = await user_session(server, "alice")
    sims = await people(server, user_session, stubs, "bob", "carol", "dave")
    [busy] = await people(server, user_session, stubs, "erin", silent=True)
    job = await submit_rounds(stubs, alice, task_count=2, rounds=3)
    in_round_2 = lambda found: found.job.current_round == 1  # noqa: E731
    await run_until(stubs, alice, job.job_id, sims, in_round_2)
    await work(stubs, busy)  # a task of round 2 is running when the job is cancelled
    [running] = busy.leases

    cancelled = await stubs.jobs.CancelJob(
        job_pb2.CancelJobRequest(job_id=job.job_id), metadata=alice.metadata
    )

    assert cancelled.state == common_pb2.JOB_STATE_CANCELLED
    ended = cancelled.tasks_done + cancelled.tasks_failed + cancelled.tasks_cancelled
    assert ended == cancelled.tasks_total == 9
    assert 3 <= cancelled.tasks_done < 5  # round 1 (two tasks, its aggregate), maybe one more
    assert cancelled.refunded_ucpt == cancelled.max_cost_ucpt - cancelled.cost_ucpt > 0
    assert await balance(stubs, alice.metadata) == GRANT - cancelled.cost_ucpt
    found = await detail(stubs, alice, job.job_id)
    assert [r.state for r in found.rounds] == [
        job_pb2.ROUND_STATE_DONE,
        job_pb2.ROUND_STATE_CANCELLED,
    ]
    # The running task is stopped, and nothing more is leased.
    beat = await stubs.nodes.Heartbeat(
        node_pb2.HeartbeatRequest(running_attempt_ids=[running.attempt_id]),
        metadata=busy.node.metadata,
    )
    assert list(beat.cancel_attempt_ids) == [running.attempt_id]
    assert sum([await work(stubs, sim) for sim in sims]) == 0
    report = await server.ctx.db.run(audit.check_ledger)
    assert report.ok, report.problems


async def test_a_round_that_cannot_get_enough_results_fails_the_job(server, user_session, stubs):
    alice = await user_session(server, "alice")
    [bob] = await people(server, user_session, stubs, "bob", silent=True)
    job = await submit_rounds(stubs, alice, task_count=2, rounds=2, max_attempts=1)
    await work(stubs, bob)
    [lease] = bob.leases

    await fail(stubs, bob.node, [lease.attempt_id], error="out of data")

    found = await detail(stubs, alice, job.job_id)
    assert found.job.state == common_pb2.JOB_STATE_FAILED
    assert found.rounds[0].state == job_pb2.ROUND_STATE_FAILED
    assert "the 2 accepted results it needs cannot be reached" in found.rounds[0].error
    # Failed task, the other task cancelled, and the 4 tasks never made.
    assert (found.job.tasks_failed, found.job.tasks_cancelled) == (1, 5)
    assert found.job.refunded_ucpt == found.job.max_cost_ucpt
    assert await balance(stubs, alice.metadata) == GRANT


async def test_a_round_deadline_closes_the_round_with_min_results(server, user_session, stubs):
    alice = await user_session(server, "alice")
    [slow] = await people(server, user_session, stubs, "erin", silent=True)
    sims = await people(server, user_session, stubs, "bob", "carol")
    job = await submit_rounds(
        stubs, alice, task_count=2, rounds=1, min_results=1, round_deadline_s=2
    )
    await work(stubs, slow)
    await work(stubs, sims[0])
    found = await detail(stubs, alice, job.job_id)
    # Enough to go on, but the round waits for the other task until its deadline.
    assert round_state(found, 0) == job_pb2.ROUND_STATE_RUNNING

    for _ in range(100):
        found = await detail(stubs, alice, job.job_id)
        if round_state(found, 0) != job_pb2.ROUND_STATE_RUNNING:
            break
        await asyncio.sleep(0.1)
    assert round_state(found, 0) == job_pb2.ROUND_STATE_AGGREGATING
    assert found.rounds[0].tasks_accepted == 1
    found = await run_until(stubs, alice, job.job_id, sims)
    assert found.job.state == common_pb2.JOB_STATE_DONE
    assert found.job.tasks_cancelled == 1


async def test_a_server_restart_between_rounds_goes_on_from_the_last_model(
    make_server, user_session, tmp_path
):
    data_dir = tmp_path / "data"
    first = await make_server(data_dir=data_dir)
    alice = await user_session(first, "alice")
    async with grpc.aio.insecure_channel(first.address) as channel:
        stubs = Stubs(channel, first.address)
        sims = await people(first, user_session, stubs, "bob", "carol", "dave")
        job = await submit_rounds(stubs, alice, task_count=2, rounds=2)
        in_round_2 = lambda found: found.job.current_round == 1  # noqa: E731
        before = await run_until(stubs, alice, job.job_id, sims, in_round_2)
    await first.stop()

    second = await make_server(data_dir=data_dir)
    async with grpc.aio.insecure_channel(second.address) as channel:
        stubs = Stubs(channel, second.address)
        for sim in sims:  # the server moved to another port: the machines dial it there
            await reconnect(sim, stubs)
        found = await run_until(stubs, alice, job.job_id, sims)

    assert found.job.state == common_pb2.JOB_STATE_DONE
    assert found.rounds[1].model_digest == before.rounds[0].result_digest
    round_2_leases = [lease for sim in sims for lease in sim.leases if lease.round == 1]
    assert round_2_leases
    assert {lease.model_digest for lease in round_2_leases} == {before.rounds[0].result_digest}


async def test_round_settings_are_checked_and_every_round_is_escrowed(server, user_session, stubs):
    alice = await user_session(server, "alice")
    cases = [
        ({"aggregate_command": [], "rounds": 3}, "a job with 3 rounds needs an aggregate command"),
        ({"min_results": 3}, "min_results must be between 1 and the 2 tasks of a round"),
        ({"aggregate_command": [], "rounds": 1, "min_results": 1}, "needs an aggregate command"),
        ({"rounds": 1001}, "rounds must be between 1 and 1000"),
        ({"round_deadline_s": -1}, "round deadline must be between"),
    ]
    for overrides, message in cases:
        error = await rpc_error(submit_rounds(stubs, alice, **overrides))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, overrides
        assert message in error.details(), error.details()
    assert await balance(stubs, alice.metadata) == GRANT  # nothing was escrowed

    job = await submit_rounds(stubs, alice, task_count=2, rounds=3, replicas=1)
    estimate = await stubs.jobs.EstimateCost(
        job_pb2.EstimateCostRequest(
            resources=common_pb2.Resources(cores=1, memory_mb=64, timeout_s=60),
            tasks=2,
            replicas=1,
            rounds=3,
            aggregate=True,
        ),
        metadata=alice.metadata,
    )
    # Three rounds of two tasks, and three aggregates each paid on two owners' nodes.
    worst = {
        "cores": 1,
        "timeout_s": 60,
        "base_ucpt_per_core_hour": 10 * CPT,
        "priority_permille": 1000,
    }
    expected = worst_case_cost_ucpt(tasks=6, replicas=1, **worst) + worst_case_cost_ucpt(
        tasks=3, replicas=2, **worst
    )
    assert job.max_cost_ucpt == estimate.worst_case_ucpt == expected


def test_metrics_are_only_the_numbers_of_a_small_metrics_json(tmp_path):
    def stored(name: str, files: dict[str, bytes]) -> dict:
        path = tmp_path / name
        path.write_bytes(make_zip(files))
        return stored_metrics(path)

    document = {
        "accuracy": 0.93,
        "round": 4,
        "rule": "median",  # not a number
        "converged": True,  # a boolean is no metric
        "huge": 10**400,  # beyond any float
        "nested": {"loss": 1},
    }
    raw = json.dumps(document).encode()
    assert stored("good.zip", {"metrics.json": raw}) == {"accuracy": 0.93, "round": 4.0}
    assert stored("nan.zip", {"metrics.json": b'{"loss": NaN, "x": Infinity, "y": 1}'}) == {
        "y": 1.0
    }
    assert stored("none.zip", {"model.txt": b"weights"}) == {}
    assert stored("list.zip", {"metrics.json": b"[1, 2]"}) == {}
    assert stored("text.zip", {"metrics.json": b"\xff\xfe not json"}) == {}
    # Bigger than 64 KiB once unpacked: not read at all.
    padded = b'{"a": 1, "pad": "' + b"x" * (70 * 1024) + b'"}'
    assert stored("big.zip", {"metrics.json": padded}) == {}
    many = json.dumps({f"m{i:03d}": i for i in range(100)}).encode()
    assert len(stored("many.zip", {"metrics.json": many})) == 32
    (tmp_path / "broken.zip").write_bytes(b"not a zip")
    assert stored_metrics(tmp_path / "broken.zip") == {}
    assert stored_metrics(tmp_path / "missing.zip") == {}
