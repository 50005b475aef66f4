"""Completions of one job by different nodes wait for each other only to pay: a batch writes
its attempts and tasks before it locks the job's row and escrow (validation/intake.py)."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from server.store.schema import jobs
from tests.kit.simulated_nodes import job_detail, sim_node, submit_job
from tests.kit.stubs import complete, lease

pytestmark = pytest.mark.postgres

WAITING = text(
    "SELECT pid, query FROM pg_stat_activity"
    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
)
WRITTEN = text(
    "SELECT DISTINCT relation::regclass::text FROM pg_locks"
    " WHERE pid = :pid AND mode = 'RowExclusiveLock' AND relation IS NOT NULL"
)


async def test_a_completion_writes_its_results_before_it_waits_for_its_job(
    server, user_session, stubs
):
    alice = await user_session(server, "alice")
    node = await sim_node(stubs, await user_session(server, "bob"), "bob-box")
    job = await submit_job(stubs, alice, task_count=2)
    leases = await lease(node.stubs, node.node, max_tasks=2)
    url = server.ctx.db.engine.url.render_as_string(hide_password=False)
    other = create_engine(url, poolclass=NullPool)  # another batch of the job, paying
    try:
        # Autocommit: pg_stat_activity is read afresh each time, not once per transaction.
        with (
            other.connect() as holder,
            other.execution_options(isolation_level="AUTOCOMMIT").connect() as watcher,
        ):
            paying = holder.begin()
            holder.execute(select(jobs.c.id).where(jobs.c.id == job.job_id).with_for_update())
            completing = asyncio.ensure_future(
                complete(node.stubs, node.node, [item.attempt_id for item in leases])
            )
            deadline = time.monotonic() + 10
            while not (waiting := watcher.execute(WAITING).all()):
                assert time.monotonic() < deadline, "the completion never waited"
                await asyncio.sleep(0.05)
            [(pid, query)] = waiting
            # It waits to lock the job's row, having written its attempts, tasks and checks.
            assert query.startswith("SELECT jobs.id") and "FOR UPDATE" in query, query
            written = set(watcher.execute(WRITTEN, {"pid": pid}).scalars())
            assert {"attempts", "tasks", "result_checks"} <= written, written
            assert not completing.done()
            paying.rollback()
            acks = await asyncio.wait_for(completing, 10)
    finally:
        other.dispose()
    assert [ack.accepted for ack in acks] == [True, True]
    assert (await job_detail(stubs, alice, job.job_id)).job.tasks_done == 2
