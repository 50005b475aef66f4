"""Node secret rotation: the new secret works at once, and the old one stops working at once
(even though the server caches verified node credentials)."""

from __future__ import annotations

import grpc

from app.services.client.credentials import CredentialStore
from app.services.client.session import ClientSession
from app.services.settings import SettingsStore
from proto.hivemind.v1 import admin_pb2, admin_pb2_grpc, node_pb2
from tests.kit.stubs import Node, Stubs, register_node, rpc_error


async def beat(stubs: Stubs, metadata) -> node_pb2.HeartbeatResponse:
    return await stubs.nodes.Heartbeat(node_pb2.HeartbeatRequest(), metadata=metadata)


def credential(node_id: str, secret: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Node {node_id}.{secret}"),)


async def test_a_node_rotates_its_own_secret(server, user_session, stubs):
    alice = await user_session(server, "alice")
    node = await register_node(stubs, alice.metadata)
    await beat(stubs, node.metadata)  # the credential is now in the server's cache

    reply = await stubs.nodes.RotateNodeSecret(
        node_pb2.RotateNodeSecretRequest(), metadata=node.metadata
    )
    assert reply.node_id == node.node_id and len(reply.node_secret) == 64

    old = await rpc_error(beat(stubs, node.metadata))
    assert old.code() == grpc.StatusCode.UNAUTHENTICATED
    assert old.details() == "wrong node credential; register this machine again"
    assert await beat(stubs, credential(node.node_id, reply.node_secret))


async def test_the_owner_rotates_a_nodes_secret_others_cannot(server, user_session, stubs):
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    laptop = await register_node(stubs, alice.metadata, name="laptop")
    desktop = await register_node(stubs, alice.metadata, name="desktop")
    await beat(stubs, laptop.metadata)

    # Another user cannot tell whether the node exists, let alone rotate it.
    error = await rpc_error(
        stubs.nodes.RotateNodeSecret(
            node_pb2.RotateNodeSecretRequest(node_id=laptop.node_id), metadata=bob.metadata
        )
    )
    assert (error.code(), error.details()) == (
        grpc.StatusCode.NOT_FOUND,
        f"no node {laptop.node_id} of yours",
    )
    # A node acts for itself only, even among its owner's nodes.
    error = await rpc_error(
        stubs.nodes.RotateNodeSecret(
            node_pb2.RotateNodeSecretRequest(node_id=laptop.node_id), metadata=desktop.metadata
        )
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert await beat(stubs, laptop.metadata)  # nothing changed

    # The owner shuts out a machine that left their hands.
    reply = await stubs.nodes.RotateNodeSecret(
        node_pb2.RotateNodeSecretRequest(node_id=laptop.node_id), metadata=alice.metadata
    )
    error = await rpc_error(beat(stubs, laptop.metadata))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert await beat(stubs, credential(laptop.node_id, reply.node_secret))
    assert await beat(stubs, desktop.metadata)


async def test_a_banned_node_keeps_its_ban(server, user_session, stubs, grpc_channel):
    admin = await user_session(server, "root", admin=True)
    alice = await user_session(server, "alice")
    node = await register_node(stubs, alice.metadata)
    await admin_pb2_grpc.AdminServiceStub(grpc_channel).BanNode(
        admin_pb2.BanNodeRequest(node_id=node.node_id, reason="cheating"), metadata=admin.metadata
    )
    error = await rpc_error(
        stubs.nodes.RotateNodeSecret(node_pb2.RotateNodeSecretRequest(), metadata=node.metadata)
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    error = await rpc_error(
        stubs.nodes.RotateNodeSecret(
            node_pb2.RotateNodeSecretRequest(node_id=node.node_id), metadata=alice.metadata
        )
    )
    assert (error.code(), error.details()) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        f"node {node.node_id} is banned; its secret cannot be rotated",
    )


async def test_the_client_stores_the_rotated_secret(server, user_session, stubs, tmp_path):
    alice = await user_session(server, "alice")
    node: Node = await register_node(stubs, alice.metadata)
    secret = node.metadata[0][1].split(".", 1)[1]
    home = tmp_path / "home"
    store = CredentialStore(home)
    store.save_node(server.address, node.node_id, secret)
    async with ClientSession(SettingsStore(home), store, server=server.address) as session:
        new_secret = await session.rotate_node_secret(node.node_id, secret)
    assert new_secret != secret
    stored = CredentialStore(home).load_node(server.address)
    assert (stored.node_id, stored.secret) == (node.node_id, new_secret)
    assert await beat(stubs, credential(node.node_id, new_secret))
    assert (await rpc_error(beat(stubs, node.metadata))).code() == grpc.StatusCode.UNAUTHENTICATED
