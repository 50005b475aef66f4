"""Jobs end to end over real gRPC: submit with escrow, run through simulated node RPCs,
payouts, refunds, cancel, access between users, validation."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from sqlalchemy import func, select

from proto.hivemind.v1 import common_pb2, job_pb2, node_pb2
from server.ledger import journal as ledger
from server.runtimes.approved import default_runtime
from server.store.schema import jobs, tasks
from tests.kit.stubs import (
    Stubs,
    balance,
    complete,
    download,
    get_job,
    job_request,
    lease,
    make_package,
    register_node,
    submit,
    upload,
)

pytestmark = pytest.mark.db

CPT = 1_000_000
# 1 core x 60 s at the default 10 CPT per core-hour: 1/6 CPT per task, at most.
WORST_PER_TASK = 166_667


@pytest.fixture
async def stubs(grpc_channel: grpc.aio.Channel) -> Stubs:
    return Stubs(grpc_channel)


async def _package(stubs: Stubs, metadata: tuple) -> str:
    info = await upload(stubs, metadata, make_package())
    return info.digest


async def _count_jobs(server) -> int:
    return await server.ctx.db.run(
        lambda conn: conn.execute(select(func.count()).select_from(jobs)).scalar()
    )


async def test_full_job_pays_the_node_owner_and_refunds_the_rest(server, user_session, stubs):
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    before = await balance(stubs, alice.metadata) + await balance(stubs, bob.metadata)
    digest = await _package(stubs, alice.metadata)
    job = await submit(stubs, alice.metadata, digest, task_count=3)
    assert job.state == common_pb2.JOB_STATE_PENDING
    # 3 x 60 core-s x 10 CPT / 3600, x 1.5 x 1.3 with both bonuses at their maximum.
    assert job.max_cost_ucpt == 975_000
    assert await balance(stubs, alice.metadata) == 100 * CPT - job.max_cost_ucpt

    node = await register_node(stubs, bob.metadata)
    leases = await lease(stubs, node, max_tasks=10)
    assert sorted(item.task_index for item in leases) == [0, 1, 2]
    assert leases[0].command == ["python3", "main.py"] and leases[0].runtime == "python-3.11"
    # The default runtime's image, pinned by id where this machine's Docker has it.
    default = await server.ctx.db.run(default_runtime)
    assert leases[0].runtime_image == (default.image_id or "hivemind/python:3.11")
    assert (await get_job(stubs, alice.metadata, job.job_id)).job.state == (
        common_pb2.JOB_STATE_RUNNING
    )
    ids = [item.attempt_id for item in leases]
    started = await stubs.nodes.StartAttempts(
        node_pb2.StartAttemptsRequest(attempt_ids=ids), metadata=node.metadata
    )
    assert all(ack.accepted for ack in started.acks)
    await asyncio.sleep(0.2)  # paid time is capped by the time since the lease
    acks = await complete(stubs, node, ids, wall_seconds=0.036, log="hello\n")
    assert all(ack.accepted for ack in acks)
    # 0.036 s x 1 core x 10 CPT/h = 100 ucpt per task.
    assert [ack.payout_ucpt for ack in acks] == [100, 100, 100]

    detail = await get_job(stubs, alice.metadata, job.job_id, tasks=True)
    assert detail.job.state == common_pb2.JOB_STATE_DONE
    assert detail.job.tasks_done == 3 and detail.job.cost_ucpt == 300
    assert detail.job.refunded_ucpt == job.max_cost_ucpt - 300
    assert detail.job.finished_at > 0
    assert {task.node_id for task in detail.tasks} == {node.node_id}
    assert await balance(stubs, bob.metadata) == 100 * CPT + 300
    assert await balance(stubs, alice.metadata) == 100 * CPT - 300
    after = await balance(stubs, alice.metadata) + await balance(stubs, bob.metadata)
    assert after == before  # nothing created or lost: the escrow is empty again
    assert await server.ctx.db.run(ledger.check) == []

    results = await stubs.jobs.GetResults(
        job_pb2.GetResultsRequest(job_id=job.job_id), metadata=alice.metadata
    )
    assert [r.log for r in results.results] == ["hello\n"] * 3
    assert all(r.state == common_pb2.TASK_STATE_DONE for r in results.results)


async def test_short_balance_changes_nothing(server, user_session, stubs):
    alice = await user_session(server, "alice")
    digest = await _package(stubs, alice.metadata)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await submit(stubs, alice.metadata, digest, task_count=1, max_cost_ucpt=150 * CPT)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "needs 150 CPT" in caught.value.details()
    assert "you have 0 CPT and 100 CPT of starter credit" in caught.value.details()
    assert await balance(stubs, alice.metadata) == 100 * CPT
    assert await _count_jobs(server) == 0
    listed = await stubs.jobs.ListJobs(job_pb2.ListJobsRequest(), metadata=alice.metadata)
    assert list(listed.jobs) == []
    assert await server.ctx.db.run(ledger.check) == []


async def test_max_cost_below_worst_case_says_what_is_needed(server, user_session, stubs):
    alice = await user_session(server, "alice")
    digest = await _package(stubs, alice.metadata)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await submit(stubs, alice.metadata, digest, task_count=6, max_cost_ucpt=CPT // 2)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "1.95 CPT (1950000 ucpt) is needed" in caught.value.details()
    assert await _count_jobs(server) == 0


async def test_another_users_job_is_not_found(server, user_session, stubs):
    alice = await user_session(server, "alice")
    mallory = await user_session(server, "mallory")
    job = await submit(stubs, alice.metadata, await _package(stubs, alice.metadata))
    calls = [
        stubs.jobs.GetJob(job_pb2.GetJobRequest(job_id=job.job_id), metadata=mallory.metadata),
        stubs.jobs.CancelJob(
            job_pb2.CancelJobRequest(job_id=job.job_id), metadata=mallory.metadata
        ),
        stubs.jobs.GetResults(
            job_pb2.GetResultsRequest(job_id=job.job_id), metadata=mallory.metadata
        ),
    ]
    for call in calls:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        assert caught.value.details() == f"no job {job.job_id!r}"
    stream = stubs.jobs.WatchJob(
        job_pb2.WatchJobRequest(job_id=job.job_id), metadata=mallory.metadata
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stream.read()
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stubs.jobs.ListJobs(
            job_pb2.ListJobsRequest(all_users=True), metadata=mallory.metadata
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    listed = await stubs.jobs.ListJobs(job_pb2.ListJobsRequest(), metadata=mallory.metadata)
    assert list(listed.jobs) == []
    # The job is untouched by those attempts.
    assert (await get_job(stubs, alice.metadata, job.job_id)).job.state == (
        common_pb2.JOB_STATE_PENDING
    )


async def test_cancel_stops_running_attempts_and_refunds(server, user_session, stubs):
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    job = await submit(stubs, alice.metadata, await _package(stubs, alice.metadata), task_count=3)
    node = await register_node(stubs, bob.metadata)
    leases = await lease(stubs, node, max_tasks=2)
    ids = [item.attempt_id for item in leases]
    await stubs.nodes.StartAttempts(
        node_pb2.StartAttemptsRequest(attempt_ids=ids), metadata=node.metadata
    )

    cancelled = await stubs.jobs.CancelJob(
        job_pb2.CancelJobRequest(job_id=job.job_id), metadata=alice.metadata
    )
    assert cancelled.state == common_pb2.JOB_STATE_CANCELLED
    assert cancelled.tasks_cancelled == 3
    assert cancelled.refunded_ucpt == job.max_cost_ucpt
    assert await balance(stubs, alice.metadata) == 100 * CPT

    beat = await stubs.nodes.Heartbeat(
        node_pb2.HeartbeatRequest(running_attempt_ids=ids), metadata=node.metadata
    )
    assert sorted(beat.cancel_attempt_ids) == sorted(ids)
    acks = await complete(stubs, node, ids, wall_seconds=1.0)
    assert not any(ack.accepted for ack in acks)
    assert "cancelled" in acks[0].error
    assert await lease(stubs, node, max_tasks=5) == []
    assert await balance(stubs, bob.metadata) == 100 * CPT
    # Cancelling again is harmless; the refund happened once.
    again = await stubs.jobs.CancelJob(
        job_pb2.CancelJobRequest(job_id=job.job_id), metadata=alice.metadata
    )
    assert again.refunded_ucpt == job.max_cost_ucpt
    assert await server.ctx.db.run(ledger.check) == []


async def test_cancelling_an_ended_job_is_refused(server, user_session, stubs):
    alice = await user_session(server, "alice")
    job = await submit(stubs, alice.metadata, await _package(stubs, alice.metadata))
    node = await register_node(stubs, alice.metadata)
    [leased] = await lease(stubs, node)
    await complete(stubs, node, [leased.attempt_id])
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stubs.jobs.CancelJob(
            job_pb2.CancelJobRequest(job_id=job.job_id), metadata=alice.metadata
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "already ended (done)" in caught.value.details()


async def test_idempotency_key_submits_once(server, user_session, stubs):
    alice = await user_session(server, "alice")
    digest = await _package(stubs, alice.metadata)
    first = await submit(stubs, alice.metadata, digest, idempotency_key="nightly-1")
    second = await submit(stubs, alice.metadata, digest, idempotency_key="nightly-1")
    assert first.job_id == second.job_id
    assert await balance(stubs, alice.metadata) == 100 * CPT - first.max_cost_ucpt
    assert await _count_jobs(server) == 1


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"runtime": "cobol-85"}, "unknown runtime 'cobol-85' (known runtimes: python-3.11)"),
        ({"command": []}, "command must be a non-empty list"),
        ({"task_count": 0}, "task count between 1 and"),
        (
            {"inputs": [job_pb2.TaskInput(digest="a" * 64)], "task_count": 2},
            "either a task count or inputs",
        ),
        ({"priority": 11.0}, "priority must be between 0.1 and 10"),
        ({"replicas": 6}, "replicas must be between 1 and 5"),
        ({"resources": common_pb2.Resources(cores=0, memory_mb=64, timeout_s=5)}, "cores"),
        ({"resources": common_pb2.Resources(cores=1, memory_mb=8, timeout_s=5)}, "16 MB"),
        ({"resources": common_pb2.Resources(cores=1, memory_mb=64, timeout_s=0)}, "timeout"),
        (
            {"resources": common_pb2.Resources(cores=1, memory_mb=64, timeout_s=90_000)},
            "timeout must be between 1 and 86400",
        ),
        ({"package_digest": "zz"}, "not a SHA-256 digest"),
    ],
)
async def test_bad_submissions_are_refused_with_a_clear_message(
    server, user_session, stubs, overrides, expected
):
    alice = await user_session(server, "alice")
    digest = await _package(stubs, alice.metadata)
    fields = dict(overrides)
    request = job_request(fields.pop("package_digest", digest), **fields)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stubs.jobs.SubmitJob(request, metadata=alice.metadata)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert expected in caught.value.details()
    assert await _count_jobs(server) == 0
    assert await balance(stubs, alice.metadata) == 100 * CPT


async def test_package_must_be_readable_by_the_submitter(server, user_session, stubs):
    alice = await user_session(server, "alice")
    mallory = await user_session(server, "mallory")
    digest = await _package(stubs, alice.metadata)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await submit(stubs, mallory.metadata, digest)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert "upload it first" in caught.value.details()


async def test_an_input_uploaded_as_package_kind_is_checked_at_submit(server, user_session, stubs):
    alice = await user_session(server, "alice")
    not_a_package = await upload(stubs, alice.metadata, b"1,2,3\n", common_pb2.ARTIFACT_KIND_INPUT)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await submit(stubs, alice.metadata, not_a_package.digest)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not a readable zip archive" in caught.value.details()
    assert await _count_jobs(server) == 0


async def test_one_task_per_input_and_the_node_may_read_it(server, user_session, stubs):
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    digest = await _package(stubs, alice.metadata)
    inputs = [
        await upload(stubs, alice.metadata, f"line {i}\n".encode(), common_pb2.ARTIFACT_KIND_INPUT)
        for i in range(2)
    ]
    job = await submit(
        stubs,
        alice.metadata,
        digest,
        task_count=0,
        inputs=[
            job_pb2.TaskInput(digest=i.digest, name=f"part{n}.txt") for n, i in enumerate(inputs)
        ],
    )
    assert job.tasks_total == 2
    node = await register_node(stubs, bob.metadata)
    other = await register_node(stubs, bob.metadata, name="other")
    leases = sorted(await lease(stubs, node, max_tasks=5), key=lambda x: x.task_index)
    assert [x.input_name for x in leases] == ["part0.txt", "part1.txt"]
    assert leases[1].input_size == len(b"line 1\n")
    assert await download(stubs, node.metadata, leases[1].input_digest) == b"line 1\n"
    assert await download(stubs, node.metadata, digest) == make_package()
    for reader in (other.metadata, bob.metadata):  # no lease, no access
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await download(stubs, reader, leases[0].input_digest)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_results_are_readable_by_the_job_owner_only(server, user_session, stubs):
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    job = await submit(stubs, alice.metadata, await _package(stubs, alice.metadata))
    node = await register_node(stubs, bob.metadata)
    [leased] = await lease(stubs, node)
    result = b"PK result bytes"
    info = await upload(stubs, node.metadata, result, common_pb2.ARTIFACT_KIND_RESULT)
    [ack] = await complete(
        stubs, node, [leased.attempt_id], result_digest=info.digest, result_size=len(result)
    )
    assert ack.accepted, ack.error
    results = await stubs.jobs.GetResults(
        job_pb2.GetResultsRequest(job_id=job.job_id), metadata=alice.metadata
    )
    assert results.results[0].result_digest == info.digest
    assert results.results[0].result_size == len(result)
    assert await download(stubs, alice.metadata, info.digest) == result
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await download(stubs, bob.metadata, info.digest)  # the node's owner is not the submitter
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_result_not_uploaded_is_refused(server, user_session, stubs):
    alice = await user_session(server, "alice")
    await submit(stubs, alice.metadata, await _package(stubs, alice.metadata))
    node = await register_node(stubs, alice.metadata)
    [leased] = await lease(stubs, node)
    [ack] = await complete(stubs, node, [leased.attempt_id], result_digest="b" * 64)
    assert not ack.accepted
    assert "was not uploaded by this node" in ack.error


async def test_list_jobs_pages_newest_first(server, user_session, stubs):
    alice = await user_session(server, "alice")
    digest = await _package(stubs, alice.metadata)
    submitted = [
        (await submit(stubs, alice.metadata, digest, name=f"j{i}")).job_id for i in range(5)
    ]
    seen: list[str] = []
    token = ""
    while True:
        page = await stubs.jobs.ListJobs(
            job_pb2.ListJobsRequest(page=common_pb2.PageRequest(page_size=2, page_token=token)),
            metadata=alice.metadata,
        )
        seen += [job.job_id for job in page.jobs]
        token = page.next_page_token
        if not token:
            break
    assert seen == list(reversed(submitted))


async def test_watch_job_streams_until_the_job_ends(server, user_session, stubs):
    alice = await user_session(server, "alice")
    job = await submit(stubs, alice.metadata, await _package(stubs, alice.metadata), task_count=2)
    node = await register_node(stubs, alice.metadata)
    stream = stubs.jobs.WatchJob(
        job_pb2.WatchJobRequest(job_id=job.job_id), metadata=alice.metadata
    )
    events = []

    async def read() -> None:
        async for event in stream:
            events.append(event)

    reader = asyncio.create_task(read())
    await asyncio.sleep(0.3)
    leases = await lease(stubs, node, max_tasks=2)
    await asyncio.sleep(0.5)
    await complete(stubs, node, [x.attempt_id for x in leases])
    await asyncio.wait_for(reader, 10)
    assert events[0].job.state == common_pb2.JOB_STATE_PENDING
    assert events[-1].job.state == common_pb2.JOB_STATE_DONE
    states = [event.job.state for event in events]
    assert common_pb2.JOB_STATE_RUNNING in states
    messages = "\n".join(event.message for event in events)
    assert "task 0 done on node" in messages
    changed = {t.index for event in events for t in event.changed_tasks if t.state == 4}
    assert changed == {0, 1}


async def test_estimate_cost_matches_the_escrow(server, user_session, stubs):
    alice = await user_session(server, "alice")
    estimate = await stubs.jobs.EstimateCost(
        job_pb2.EstimateCostRequest(
            resources=common_pb2.Resources(cores=2, memory_mb=64, timeout_s=360),
            tasks=10,
            replicas=1,
            priority=1.5,
        ),
        metadata=alice.metadata,
    )
    # 10 tasks x 2 cores x 0.1 h x 10 CPT x 1.5 = 30 CPT, x 1.95 for both bonuses at most
    assert estimate.worst_case_ucpt == 58_500_000
    job = await submit(
        stubs,
        alice.metadata,
        await _package(stubs, alice.metadata),
        task_count=10,
        priority=1.5,
        resources=common_pb2.Resources(cores=2, memory_mb=64, timeout_s=360),
    )
    assert job.max_cost_ucpt == estimate.worst_case_ucpt
    assert job.priority == pytest.approx(1.5)


async def test_big_job_creates_every_task(server, user_session, stubs):
    alice = await user_session(server, "alice")
    job = await submit(
        stubs,
        alice.metadata,
        await _package(stubs, alice.metadata),
        task_count=5000,
        resources=common_pb2.Resources(cores=1, memory_mb=64, timeout_s=1),
    )
    count = await server.ctx.db.run(
        lambda conn: conn.execute(
            select(func.count()).select_from(tasks).where(tasks.c.job_id == job.job_id)
        ).scalar()
    )
    assert count == 5000 == job.tasks_total


async def test_a_killed_server_restarts_with_jobs_leases_and_artifacts(
    server_process, user_session
):
    proc = await server_process()
    alice = await user_session(proc, "alice")
    bob = await user_session(proc, "bob")
    async with grpc.aio.insecure_channel(proc.address) as channel:
        stubs = Stubs(channel)
        digest = await _package(stubs, alice.metadata)
        job = await submit(stubs, alice.metadata, digest, task_count=2)
        node = await register_node(stubs, bob.metadata)
        leases = await lease(stubs, node, max_tasks=2)
        await asyncio.sleep(0.1)  # paid time never exceeds the time since the lease
        [done] = await complete(stubs, node, [leases[0].attempt_id], wall_seconds=0.036)
        assert done.accepted
    await proc.kill()  # SIGKILL: no shutdown code runs
    await proc.start()
    async with grpc.aio.insecure_channel(proc.address) as channel:
        stubs = Stubs(channel)
        # The lease taken before the crash is still valid and completes the job.
        [ack] = await complete(stubs, node, [leases[1].attempt_id], wall_seconds=0.036)
        assert ack.accepted, ack.error
        [replay] = await complete(stubs, node, [leases[0].attempt_id], wall_seconds=0.036)
        assert replay.error == "already completed"
        detail = await get_job(stubs, alice.metadata, job.job_id)
        assert detail.job.state == common_pb2.JOB_STATE_DONE
        assert detail.job.cost_ucpt == 200
        assert await balance(stubs, bob.metadata) == 100 * CPT + 200
        assert await balance(stubs, alice.metadata) == 100 * CPT - 200
        assert await download(stubs, alice.metadata, digest) == make_package()
