"""One account must not stall the server for the others: creating tasks is paid for beyond a
free hourly allowance (cancelled or not), big jobs are created in short batches while other
users' calls run in between, cancelled jobs are compacted, and each account has a request
budget. Small numbers here prove the mechanisms; bench/abuse.py measures them at full size."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest
from sqlalchemy import func, select

from proto.hivemind.v1 import account_pb2, common_pb2, job_pb2
from server.jobs import lifecycle
from server.ledger import journal as ledger
from server.ledger.audit import check_ledger
from server.store.schema import accounts, tasks
from tests.kit.stubs import Stubs, balance, make_package, rpc_error, upload
from tests.kit.stubs import submit as submit_job

CPT = 1_000_000
FEE = 1_000  # ucpt per task beyond the allowance
QUICK = common_pb2.Resources(cores=1, memory_mb=64, timeout_s=1)

# Also on PostgreSQL (--db=postgres).
pytestmark = pytest.mark.db


@pytest.fixture
def server_settings() -> dict:
    return {"free_tasks_per_hour": 50, "task_fee_ucpt": FEE, "bittorrent": False}


async def _task_rows(server, job_id: str) -> int:
    return await server.ctx.db.run(
        lambda conn: conn.execute(
            select(func.count()).select_from(tasks).where(tasks.c.job_id == job_id)
        ).scalar()
    )


async def _fees_collected(server) -> int:
    return await server.ctx.db.run(
        lambda conn: conn.execute(
            select(func.coalesce(func.sum(accounts.c.balance_ucpt), 0)).where(
                accounts.c.name == ledger.FEES_ACCOUNT
            )
        ).scalar()
    )


async def _cancel(stubs: Stubs, metadata, job_id: str) -> job_pb2.Job:
    return await stubs.jobs.CancelJob(job_pb2.CancelJobRequest(job_id=job_id), metadata=metadata)


async def test_a_submit_cancel_loop_pays_for_its_tasks_and_leaves_no_task_rows(
    server, user_session, stubs
):
    mallory = await user_session(server, "mallory")
    bob = await user_session(server, "bob")
    digest = (await upload(stubs, mallory.metadata, make_package())).digest
    # The first 50 tasks of the hour are free; then each costs FEE, refunded or not.
    expected_fees = 0
    created = 0
    for _ in range(4):
        job = await submit_job(stubs, mallory.metadata, digest, task_count=30, resources=QUICK)
        cancelled = await _cancel(stubs, mallory.metadata, job.job_id)
        assert cancelled.state == common_pb2.JOB_STATE_CANCELLED
        assert cancelled.tasks_cancelled == 30 and cancelled.refunded_ucpt == job.max_cost_ucpt
        assert await _task_rows(server, job.job_id) == 0  # compacted
        expected_fees += (max(created + 30 - 50, 0) - max(created - 50, 0)) * FEE
        created += 30
    assert expected_fees == 70 * FEE
    assert await balance(stubs, mallory.metadata) == 100 * CPT - expected_fees
    assert await _fees_collected(server) == expected_fees
    history = await stubs.account.ListHistory(
        account_pb2.ListHistoryRequest(), metadata=mallory.metadata
    )
    assert sorted(e.amount_ucpt for e in history.entries if e.reason == "fee") == [
        -30 * FEE,
        -30 * FEE,
        -10 * FEE,
    ]
    assert (await server.ctx.db.run(check_ledger)).ok
    # The honest user's own allowance is untouched.
    bob_digest = (await upload(stubs, bob.metadata, make_package())).digest
    job = await submit_job(stubs, bob.metadata, bob_digest, task_count=50, resources=QUICK)
    assert await balance(stubs, bob.metadata) == 100 * CPT - job.max_cost_ucpt


async def test_a_fee_the_balance_cannot_pay_is_refused_before_anything_is_created(
    server, user_session, stubs
):
    mallory = await user_session(server, "mallory")
    digest = (await upload(stubs, mallory.metadata, make_package())).digest
    # 30,000 one-second tasks need 83.3 CPT in escrow, which 100 CPT covers, but not with
    # the fee for all but 50 of them: nothing happens.
    request = {"task_count": 30_000, "resources": QUICK}
    error = await rpc_error(submit_job(stubs, mallory.metadata, digest, **request))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "and a fee of 29.95 CPT for its tasks beyond the 50 a user may create per hour" in (
        error.details()
    )
    assert await balance(stubs, mallory.metadata) == 100 * CPT
    jobs = await stubs.jobs.ListJobs(job_pb2.ListJobsRequest(), metadata=mallory.metadata)
    assert list(jobs.jobs) == []


async def test_other_users_calls_run_while_a_big_job_is_created(server, user_session, stubs):
    server.settings.submit_batch_tasks = 20
    mallory = await user_session(server, "mallory")
    bob = await user_session(server, "bob")
    digest = (await upload(stubs, mallory.metadata, make_package())).digest
    creating = asyncio.ensure_future(
        submit_job(stubs, mallory.metadata, digest, task_count=4000, resources=QUICK)
    )
    # Wait until the job exists (shown as pending while its tasks are created)...
    while not (
        await stubs.jobs.ListJobs(job_pb2.ListJobsRequest(), metadata=mallory.metadata)
    ).jobs:
        assert not creating.done(), "the job was created before anyone could look"
        await asyncio.sleep(0)
    # ... then bob's calls are answered while mallory's 200 batches are still going in.
    for _ in range(5):
        assert await balance(stubs, bob.metadata) == 100 * CPT
    assert not creating.done()
    job = await creating
    assert job.state == common_pb2.JOB_STATE_PENDING and job.tasks_total == 4000
    assert await _task_rows(server, job.job_id) == 4000


async def test_a_job_cancelled_while_it_is_created_stops_and_is_compacted(
    server, user_session, stubs
):
    server.settings.submit_batch_tasks = 20
    mallory = await user_session(server, "mallory")
    digest = (await upload(stubs, mallory.metadata, make_package())).digest
    creating = asyncio.ensure_future(
        submit_job(stubs, mallory.metadata, digest, task_count=4000, resources=QUICK)
    )
    listed: list = []
    while not listed:
        listed = list(
            (await stubs.jobs.ListJobs(job_pb2.ListJobsRequest(), metadata=mallory.metadata)).jobs
        )
    cancelled = await _cancel(stubs, mallory.metadata, listed[0].job_id)
    job = await creating
    assert job.state == cancelled.state == common_pb2.JOB_STATE_CANCELLED
    assert job.tasks_cancelled == 4000
    assert await _task_rows(server, job.job_id) == 0
    fee = (4000 - 50) * FEE
    assert await balance(stubs, mallory.metadata) == 100 * CPT - fee
    assert (await server.ctx.db.run(check_ledger)).ok


async def test_a_submission_cut_short_by_a_crash_is_finished_by_a_retry_or_refunded(
    server_process, make_server, user_session, monkeypatch
):
    fees = {
        "HIVEMIND_SERVER_FREE_TASKS_PER_HOUR": "0",
        "HIVEMIND_SERVER_TASK_FEE_UCPT": "1",
        "HIVEMIND_SERVER_SUBMIT_BATCH_TASKS": "25",
    }
    for name, value in fees.items():  # for the in-process server that takes over below
        monkeypatch.setenv(name, value)
    proc = await server_process(extra_args=["--no-bittorrent"], env=fees)
    alice = await user_session(proc, "alice")
    async with grpc.aio.insecure_channel(proc.address) as channel:
        stubs = Stubs(channel)
        digest = (await upload(stubs, alice.metadata, make_package())).digest
        calls = [
            asyncio.ensure_future(
                submit_job(
                    stubs,
                    alice.metadata,
                    digest,
                    task_count=8_000,
                    resources=QUICK,
                    idempotency_key=key,
                )
            )
            for key in ("kept", "forgotten")
        ]
        deadline = time.monotonic() + 20
        while (
            len(
                (await stubs.jobs.ListJobs(job_pb2.ListJobsRequest(), metadata=alice.metadata)).jobs
            )
            < 2
        ):
            assert time.monotonic() < deadline and not any(c.done() for c in calls)
            await asyncio.sleep(0.01)
        await proc.kill()
        await asyncio.gather(*calls, return_exceptions=True)

    server = await make_server(data_dir=proc.data_dir, housekeeping_interval_s=0)
    async with grpc.aio.insecure_channel(server.address) as channel:
        stubs = Stubs(channel)
        kept = await submit_job(
            stubs,
            alice.metadata,
            digest,
            task_count=8_000,
            resources=QUICK,
            idempotency_key="kept",
        )
        assert kept.state == common_pb2.JOB_STATE_PENDING and kept.tasks_total == 8_000
        assert await _task_rows(server, kept.job_id) == 8_000
        # The other one nobody retries: the housekeeping cancels and refunds it.
        monkeypatch.setattr(lifecycle, "STALE_SUBMISSION_S", 0.0)
        assert (await lifecycle.tidy_jobs(server.ctx))[0] == 1
        page = await stubs.jobs.ListJobs(job_pb2.ListJobsRequest(), metadata=alice.metadata)
        states = {j.job_id: j.state for j in page.jobs}
        [forgotten] = [j for j in page.jobs if j.job_id != kept.job_id]
        assert states[forgotten.job_id] == common_pb2.JOB_STATE_CANCELLED
        assert forgotten.refunded_ucpt == forgotten.max_cost_ucpt
        assert await _task_rows(server, forgotten.job_id) == 0
        assert await balance(stubs, alice.metadata) == 100 * CPT - kept.max_cost_ucpt - 16_000
    assert (await server.ctx.db.run(check_ledger)).ok


@pytest.mark.parametrize(
    "server_settings",
    [{"rpc_rate_per_s": 20, "rpc_burst": 20, "rpc_max_wait_s": 0.5, "bittorrent": False}],
)
async def test_a_flood_of_calls_is_slowed_then_refused_and_others_are_served(
    server_settings, server, user_session, stubs
):
    mallory = await user_session(server, "mallory")
    bob = await user_session(server, "bob")
    flood = [asyncio.ensure_future(balance(stubs, mallory.metadata)) for _ in range(200)]
    honest = [await balance(stubs, bob.metadata) for _ in range(10)]
    outcomes = await asyncio.gather(*flood, return_exceptions=True)
    assert honest == [100 * CPT] * 10
    served = [o for o in outcomes if o == 100 * CPT]
    refused = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    # The burst, then what the rate allows while a call may wait (0.5 s at 20/s).
    assert 20 <= len(served) <= 50 and len(served) + len(refused) == 200
    assert {e.code() for e in refused} == {grpc.StatusCode.RESOURCE_EXHAUSTED}
    assert "too many" in refused[0].details()
    await asyncio.sleep(1.0)  # the bucket fills again
    assert await balance(stubs, mallory.metadata) == 100 * CPT
