"""Idle nodes asking for work again: no database look until something changed, and work
that arrives still reaches them at once (server/scheduling/idle.py)."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest

from proto.hivemind.v1 import common_pb2, node_pb2
from server.metrics import LEASE_SECONDS
from tests.kit.stubs import Stubs, lease, make_package, register_node, submit, upload

pytestmark = pytest.mark.db


@pytest.fixture
async def stubs(grpc_channel: grpc.aio.Channel) -> Stubs:
    return Stubs(grpc_channel)


def _looks() -> float:
    """How many times the scheduler has looked for work (in this process)."""
    [family] = LEASE_SECONDS.collect()
    return next(s.value for s in family.samples if s.name.endswith("_count"))


async def test_an_idle_node_asking_again_costs_no_look_until_work_comes(
    server, user_session, stubs
):
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    node = await register_node(stubs, bob.metadata)
    looked = _looks()
    for _ in range(3):
        assert await lease(stubs, node) == []
    assert _looks() == looked  # no work anywhere: nobody looks

    # Work this node cannot take: it looks once, then not again while nothing changes.
    info = await upload(stubs, alice.metadata, make_package())
    big = common_pb2.Resources(cores=64, memory_mb=64, timeout_s=60)
    await submit(stubs, alice.metadata, info.digest, resources=big)
    for _ in range(3):
        assert await lease(stubs, node) == []
    assert _looks() == looked + 1

    # New facts: it looks again.
    await stubs.nodes.UpdateNode(
        node_pb2.UpdateNodeRequest(hardware=node_pb2.Hardware(cores=8, memory_mb=16384)),
        metadata=node.metadata,
    )
    assert await lease(stubs, node) == []
    assert _looks() == looked + 2

    job = await submit(stubs, alice.metadata, info.digest)
    [leased] = await lease(stubs, node)
    assert leased.job_id == job.job_id


async def test_a_long_poll_of_an_idle_node_is_woken_by_new_work(server, user_session, stubs):
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    node = await register_node(stubs, bob.metadata)
    assert await lease(stubs, node) == []  # it found nothing: its next call does not look
    info = await upload(stubs, alice.metadata, make_package())

    began = time.monotonic()
    polling = asyncio.ensure_future(
        stubs.nodes.LeaseTasks(
            node_pb2.LeaseTasksRequest(
                free_cores=8, free_memory_mb=16384, max_tasks=1, wait_ms=10_000
            ),
            metadata=node.metadata,
        )
    )
    await asyncio.sleep(0.5)
    assert not polling.done()
    job = await submit(stubs, alice.metadata, info.digest)
    reply = await asyncio.wait_for(polling, 5)
    assert [x.job_id for x in reply.leases] == [job.job_id]
    assert time.monotonic() - began < 5
