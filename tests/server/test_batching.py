"""Calls sharing one transaction (server/nodes/batching.py), and heartbeats written so."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import grpc
import pytest
from sqlalchemy import Connection, select

from proto.hivemind.v1 import node_pb2
from server.nodes.batching import Batched
from server.store.db import Database
from server.store.schema import nodes
from tests.kit.stubs import Stubs, register_node


async def test_calls_arriving_together_share_transactions_and_a_bad_one_fails_alone(
    tmp_path: Path,
):
    db = Database.for_data_dir(tmp_path)
    db.create_schema()
    batches: list[int] = []

    def double(conn: Connection, items: Sequence[int]) -> list[int]:
        batches.append(len(items))
        if 13 in items:
            raise ValueError("thirteen")
        return [item * 2 for item in items]

    batched = Batched.transactions(db, double)
    try:
        results = await asyncio.gather(
            *(batched(item) for item in range(50)), return_exceptions=True
        )
    finally:
        db.close()
    assert [r for i, r in enumerate(results) if i != 13] == [i * 2 for i in range(50) if i != 13]
    assert isinstance(results[13], ValueError)
    # All 50 arrived before the first transaction began: one batch; it failed (13), so each
    # of its calls was run again alone.
    assert batches == [50] + [1] * 50


@pytest.mark.db
async def test_many_nodes_beating_at_once_are_all_recorded(server, user_session, grpc_channel):
    stubs = Stubs(grpc_channel)
    alice = await user_session(server, "alice")
    machines = [await register_node(stubs, alice.metadata, f"box{i}") for i in range(20)]
    before = await server.ctx.db.run(
        lambda conn: dict(conn.execute(select(nodes.c.id, nodes.c.last_seen)).all())
    )
    await asyncio.sleep(0.05)
    beats = [
        stubs.nodes.Heartbeat(
            node_pb2.HeartbeatRequest(paused=i % 2 == 0, usage=node_pb2.Usage(free_cores=i)),
            metadata=machine.metadata,
        )
        for i, machine in enumerate(machines)
    ]
    await asyncio.gather(*beats)
    rows = await server.ctx.db.run(
        lambda conn: {
            row.id: row
            for row in conn.execute(select(nodes.c.id, nodes.c.last_seen, nodes.c.paused))
        }
    )
    for i, machine in enumerate(machines):
        row = rows[machine.node_id]
        assert row.last_seen > before[machine.node_id]
        assert row.paused == (i % 2 == 0)
    with pytest.raises(grpc.aio.AioRpcError):  # an unknown node is still refused
        await stubs.nodes.Heartbeat(
            node_pb2.HeartbeatRequest(), metadata=(("authorization", "Node node-x.00"),)
        )
