"""BitTorrent peer lists cannot be poisoned: a heartbeat that claims to seed artifacts the node
never had, or names another host to dial, puts nobody in anyone's peer list; a node that
really holds an artifact is listed at the address the server sees it at; one owner's nodes
take at most two places in a list."""

from __future__ import annotations

import pytest

from proto.hivemind.v1 import artifact_pb2, common_pb2, node_pb2
from server.torrent.peers import MAX_PEERS_PER_OWNER, observed_endpoint
from tests.kit.stubs import Node, Stubs, download, lease, make_package, register_node, submit
from tests.kit.stubs import upload as upload_artifact

pytestmark = pytest.mark.torrent
VICTIM = "10.9.8.7:6881"  # where an attacker would like every worker to connect


async def _beat(stubs: Stubs, node: Node, digests: list[str], endpoint: str = VICTIM) -> None:
    await stubs.nodes.Heartbeat(
        node_pb2.HeartbeatRequest(seeding_digests=digests, bt_endpoint=endpoint),
        metadata=node.metadata,
    )


async def _peers(stubs: Stubs, node: Node, digest: str) -> list[tuple[str, str]]:
    offer = await stubs.artifacts.GetTorrent(
        artifact_pb2.GetTorrentRequest(digest=digest), metadata=node.metadata
    )
    return [(p.node_id, p.endpoint) for p in offer.peers]


async def test_claims_of_artifacts_never_fetched_and_of_other_hosts_are_ignored(
    server, user_session, stubs
):
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    mallory = await user_session(server, "mallory")
    package = (await upload_artifact(stubs, alice.metadata, make_package())).digest
    private = (
        await upload_artifact(
            stubs, alice.metadata, b"alice's data", common_pb2.ARTIFACT_KIND_INPUT
        )
    ).digest
    await submit(stubs, alice.metadata, package, task_count=8)
    sybils = [await register_node(stubs, mallory.metadata, name=f"m{i}") for i in range(4)]
    honest = await register_node(stubs, bob.metadata, name="bob-box")
    for node in [*sybils, honest]:
        assert len(await lease(stubs, node)) == 1  # each may now read the package
    # Mallory's nodes claim the package (granted, never fetched), alice's private input and
    # a made-up digest, all at a victim's address.
    made_up = "ab" * 32
    for node in sybils:
        await _beat(stubs, node, [package, private, made_up])
    peers = await _peers(stubs, honest, package)
    assert [node_id for node_id, _ in peers] == [""]  # the server's seeder only
    assert all(endpoint != VICTIM for _, endpoint in peers)

    # Once they really fetched it, they are listed: at their own address, two at most.
    for node in sybils:
        await download(stubs, node.metadata, package)
        await _beat(stubs, node, [package, private, made_up])
    peers = await _peers(stubs, honest, package)
    listed = [(node_id, endpoint) for node_id, endpoint in peers if node_id]
    assert len(listed) == MAX_PEERS_PER_OWNER
    assert {node_id for node_id, _ in listed} <= {n.node_id for n in sybils}
    assert {endpoint for _, endpoint in listed} == {"127.0.0.1:6881"}
    # And still for nothing they never had.
    rows = await server.ctx.db.run(
        lambda conn: conn.exec_driver_sql("SELECT DISTINCT digest FROM node_seeds").fetchall()
    )
    assert [row[0] for row in rows] == [package]


def test_the_endpoint_is_the_address_the_server_sees():
    assert observed_endpoint(":6881", "ipv4:203.0.113.5:40000") == "203.0.113.5:6881"
    assert observed_endpoint("10.9.8.7:6881", "ipv4:203.0.113.5:40000") == "203.0.113.5:6881"
    assert observed_endpoint("[::1]:7000", "ipv6:[2001:db8::5]:40000") == "[2001:db8::5]:7000"
    assert observed_endpoint("10.9.8.7:0", "ipv4:203.0.113.5:40000") == ""
    assert observed_endpoint("10.9.8.7:70000", "ipv4:203.0.113.5:40000") == ""
    assert observed_endpoint(":6881", "unix:/tmp/socket") == ""
