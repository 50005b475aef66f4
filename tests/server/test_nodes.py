"""Node registration, credentials, updates and heartbeats against a real server."""

from __future__ import annotations

import hashlib
import json
import time

import grpc
import pytest
from sqlalchemy import select

from proto.hivemind.v1 import node_pb2
from server.store.schema import attempts, node_seeds, nodes
from tests.kit.stubs import Stubs, download, lease, make_package, register_node, submit, upload

pytestmark = pytest.mark.db


@pytest.fixture
async def stubs(grpc_channel: grpc.aio.Channel) -> Stubs:
    return Stubs(grpc_channel)


async def _node_row(server, node_id: str):
    return await server.ctx.db.run(
        lambda conn: conn.execute(select(nodes).where(nodes.c.id == node_id)).first()
    )


async def test_registering_gives_a_secret_shown_once(server, user_session, stubs):
    alice = await user_session(server, "alice")
    reply = await stubs.nodes.RegisterNode(
        node_pb2.RegisterNodeRequest(
            name="laptop",
            hardware=node_pb2.Hardware(cores=4, memory_mb=8192, os="linux", benchmark_score=1.5),
            runtimes=["python-3.11"],
            executors=["docker", "process"],
        ),
        metadata=alice.metadata,
    )
    assert reply.node_id.startswith("node-") and len(reply.node_secret) == 64
    assert reply.heartbeat_interval_s == server.settings.heartbeat_interval_s
    row = await _node_row(server, reply.node_id)
    assert row.owner_id == alice.user_id and row.name == "laptop"
    assert row.secret_hash == hashlib.sha256(reply.node_secret.encode()).hexdigest()
    assert reply.node_secret not in json.dumps([str(value) for value in row])
    assert json.loads(row.hardware_json)["cores"] == 4
    assert json.loads(row.executors_json) == ["docker", "process"]
    assert row.benchmark_score == 1.5

    good = (("authorization", f"Node {reply.node_id}.{reply.node_secret}"),)
    await stubs.nodes.Heartbeat(node_pb2.HeartbeatRequest(), metadata=good)
    forged = (("authorization", f"Node {reply.node_id}.{'0' * 64}"),)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stubs.nodes.Heartbeat(node_pb2.HeartbeatRequest(), metadata=forged)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_registration_needs_a_user_and_known_executors(server, user_session, stubs):
    alice = await user_session(server, "alice")
    node = await register_node(stubs, alice.metadata)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stubs.nodes.RegisterNode(
            node_pb2.RegisterNodeRequest(name="x"), metadata=node.metadata
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stubs.nodes.RegisterNode(
            node_pb2.RegisterNodeRequest(name="x", executors=["vm"]), metadata=alice.metadata
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "unknown executor 'vm'" in caught.value.details()


async def test_update_node_changes_its_facts(server, user_session, stubs):
    alice = await user_session(server, "alice")
    node = await register_node(stubs, alice.metadata)
    await stubs.nodes.UpdateNode(
        node_pb2.UpdateNodeRequest(
            hardware=node_pb2.Hardware(cores=2, memory_mb=1024),
            runtimes=["python-3.11", "r-4.3"],
            executors=["docker"],
        ),
        metadata=node.metadata,
    )
    row = await _node_row(server, node.node_id)
    assert json.loads(row.runtimes_json) == ["python-3.11", "r-4.3"]
    assert json.loads(row.hardware_json)["cores"] == 2


async def test_heartbeat_records_state_and_renews_leases(server, user_session, stubs):
    alice = await user_session(server, "alice")
    info = await upload(stubs, alice.metadata, make_package())
    await submit(stubs, alice.metadata, info.digest)
    node = await register_node(stubs, alice.metadata)
    [leased] = await lease(stubs, node)
    await download(stubs, node.metadata, info.digest)  # a node seeds only what it fetched
    before = time.time()
    beat = await stubs.nodes.Heartbeat(
        node_pb2.HeartbeatRequest(
            usage=node_pb2.Usage(cpu_percent=42.5, free_cores=3),
            running_attempt_ids=[leased.attempt_id, "att-gone"],
            paused=True,
            pause_reason="on battery",
            seeding_digests=[info.digest.upper()],
            bt_endpoint="127.0.0.1:6881",
        ),
        metadata=node.metadata,
    )
    assert list(beat.cancel_attempt_ids) == ["att-gone"]
    assert beat.lease_deadline >= int(before) + server.settings.lease_ttl_s
    row = await _node_row(server, node.node_id)
    assert row.paused and row.online and row.bt_endpoint == "127.0.0.1:6881"
    assert json.loads(row.usage_json)["cpu_percent"] == 42.5
    attempt = await server.ctx.db.run(
        lambda conn: conn.execute(
            select(attempts).where(attempts.c.id == leased.attempt_id)
        ).first()
    )
    assert attempt.state == "running"  # a listed leased attempt has started
    assert attempt.lease_deadline >= before + server.settings.lease_ttl_s
    seeds = await server.ctx.db.run(
        lambda conn: conn.execute(select(node_seeds.c.digest)).scalars().all()
    )
    assert seeds == [info.digest]


async def test_heartbeat_rejects_malformed_seed_digests(server, user_session, stubs):
    alice = await user_session(server, "alice")
    node = await register_node(stubs, alice.metadata)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stubs.nodes.Heartbeat(
            node_pb2.HeartbeatRequest(seeding_digests=["not-a-digest"]), metadata=node.metadata
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not a SHA-256 digest" in caught.value.details()
