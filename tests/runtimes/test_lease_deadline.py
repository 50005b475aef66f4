"""Leases are renewed while a task is paused, but only within the task's deadline: a paused
task keeps its lease as long as it could still finish in time (leased_at + timeout + one lease
of grace, wall-clock), then the lease lapses, the task runs elsewhere and the node is told to
stop it. Real heartbeats against a real server with short leases."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import select

from proto.hivemind.v1 import common_pb2, node_pb2
from server.store.schema import attempts
from tests.kit.stubs import get_job, make_package, register_node, submit, upload

LEASE_TTL_S = 2
TIMEOUT_S = 2


@pytest.fixture
def server_settings() -> dict:
    return {"lease_ttl_s": LEASE_TTL_S, "sweep_interval_s": 0.1, "node_offline_after_s": 3600}


async def _attempt(server, attempt_id: str):
    return await server.ctx.db.run(
        lambda conn: conn.execute(select(attempts).where(attempts.c.id == attempt_id)).first()
    )


async def test_a_paused_tasks_lease_is_renewed_only_until_its_deadline(server, user_session, stubs):
    alice = await user_session(server, "alice")
    info = await upload(stubs, alice.metadata, make_package())
    resources = common_pb2.Resources(cores=1, memory_mb=64, timeout_s=TIMEOUT_S)
    job = await submit(stubs, alice.metadata, info.digest, resources=resources, max_attempts=3)
    node = await register_node(stubs, alice.metadata)
    reply = await stubs.nodes.LeaseTasks(
        node_pb2.LeaseTasksRequest(free_cores=1, free_memory_mb=1024, max_tasks=1),
        metadata=node.metadata,
    )
    [leased] = reply.leases
    leased_at = (await _attempt(server, leased.attempt_id)).leased_at
    cap = leased_at + TIMEOUT_S + LEASE_TTL_S

    # The contributor's policy paused the task; the worker keeps beating for it.
    told_to_stop_at = None
    while time.time() < leased_at + 10:
        beat = await stubs.nodes.Heartbeat(
            node_pb2.HeartbeatRequest(
                running_attempt_ids=[leased.attempt_id], paused=True, pause_reason="on battery"
            ),
            metadata=node.metadata,
        )
        row = await _attempt(server, leased.attempt_id)
        assert row.lease_deadline <= cap + 1e-6  # never renewed past the task's deadline
        if leased.attempt_id in beat.cancel_attempt_ids:
            told_to_stop_at = time.time()
            break
        await asyncio.sleep(0.3)

    assert told_to_stop_at is not None, "the paused task's lease was renewed for ever"
    # Renewed beyond its first lease (a paused task is not dropped early)...
    assert told_to_stop_at > leased_at + LEASE_TTL_S + 0.5
    # ...and it ran out at the task's deadline plus one lease of grace.
    assert told_to_stop_at >= cap
    row = await _attempt(server, leased.attempt_id)
    assert row.state == "expired"
    detail = await get_job(stubs, alice.metadata, job.job_id, tasks=True)
    assert detail.tasks[0].state == common_pb2.TASK_STATE_PENDING  # it runs elsewhere
