"""`hivemind worker rotate-secret` as a contributor runs it, against the real server: the new
secret is stored and works, the old one is refused at once; a secret the server already
refuses is replaced with the user's login; and every failure is one clear line."""

from __future__ import annotations

from pathlib import Path

import grpc

from app.services.client.credentials import CredentialStore, NodeCredential
from app.services.client.session import ClientSession
from app.services.executors.process.executor import ProcessExecutor
from app.services.settings import SettingsStore
from app.services.worker.node import NodeRegistration
from proto.hivemind.v1 import node_pb2, node_pb2_grpc
from tests.kit.servers import free_port
from tests.kit.stubs import heartbeat

DONE = "node {}: new secret stored; the old one no longer works"


async def register_this_machine(home: Path, address: str) -> NodeCredential:
    """Registers the machine of `home` as a node, as `hivemind worker run` does first."""
    store = CredentialStore(home, backend="file")
    async with ClientSession(SettingsStore(home), store, server=address) as session:
        registration = NodeRegistration(
            session, store, ProcessExecutor(), home / "cache", name="laptop"
        )
        await registration.ensure()
    return stored_node(home, address)


def stored_node(home: Path, address: str) -> NodeCredential:
    node = CredentialStore(home, backend="file").load_node(address)
    assert node is not None
    return node


async def rotate_behind_its_back(address: str, node: NodeCredential) -> str:
    """Someone holding a copy of the secret rotates it (or a reply this machine never got):
    the server now refuses the secret stored here."""
    metadata = (("authorization", f"Node {node.node_id}.{node.secret}"),)
    async with grpc.aio.insecure_channel(address) as channel:
        reply = await node_pb2_grpc.NodeServiceStub(channel).RotateNodeSecret(
            node_pb2.RotateNodeSecretRequest(), metadata=metadata
        )
    return reply.node_secret


async def test_rotate_secret_stores_a_new_one_and_the_old_one_is_refused(
    server, cli, register, hivemind_home
):
    await register(server, "alice")
    old = await register_this_machine(hivemind_home, server.address)
    assert await heartbeat(server.address, old.node_id, old.secret) == grpc.StatusCode.OK

    result = await cli("worker", "rotate-secret", server=server)
    assert result.code == 0, result.stderr
    assert result.stdout.strip() == DONE.format(old.node_id)
    assert result.stderr == ""
    new = stored_node(hivemind_home, server.address)
    assert new.node_id == old.node_id and new.secret != old.secret
    assert new.secret not in result.stdout  # the secret is never shown
    assert await heartbeat(server.address, old.node_id, old.secret) == (
        grpc.StatusCode.UNAUTHENTICATED
    )
    assert await heartbeat(server.address, new.node_id, new.secret) == grpc.StatusCode.OK

    again = await cli("worker", "rotate-secret", "--json", server=server)
    assert again.code == 0, again.stderr
    assert again.json() == {
        "node_id": old.node_id,
        "server": server.address,
        "rotated_with": "node_secret",
    }
    newest = stored_node(hivemind_home, server.address)
    assert newest.secret != new.secret
    assert await heartbeat(server.address, new.node_id, new.secret) == (
        grpc.StatusCode.UNAUTHENTICATED
    )
    assert await heartbeat(server.address, newest.node_id, newest.secret) == grpc.StatusCode.OK


async def test_a_refused_secret_is_replaced_with_the_login(server, cli, register, hivemind_home):
    await register(server, "alice")
    mine = await register_this_machine(hivemind_home, server.address)
    thiefs = await rotate_behind_its_back(server.address, mine)
    assert await heartbeat(server.address, mine.node_id, mine.secret) == (
        grpc.StatusCode.UNAUTHENTICATED
    )

    result = await cli("worker", "rotate-secret", server=server)
    assert result.code == 0, result.stderr
    assert result.stdout.strip() == DONE.format(mine.node_id)
    assert result.stderr == (
        "warning: the server refused the stored node secret (wrong node credential; register "
        "this machine again); replaced it with your login instead\n"
    )
    new = stored_node(hivemind_home, server.address)
    assert new.node_id == mine.node_id  # the same node: its history and earnings stay
    assert await heartbeat(server.address, new.node_id, new.secret) == grpc.StatusCode.OK
    # Whoever rotated it behind this machine's back is shut out now.
    assert await heartbeat(server.address, mine.node_id, thiefs) == (
        grpc.StatusCode.UNAUTHENTICATED
    )

    await rotate_behind_its_back(server.address, new)
    as_json = await cli("worker", "rotate-secret", "--json", server=server)
    assert as_json.code == 0, as_json.stderr
    assert as_json.json()["rotated_with"] == "login"


async def test_a_refused_secret_without_a_login_says_to_log_in(
    server, cli, register, hivemind_home
):
    await register(server, "alice")
    mine = await register_this_machine(hivemind_home, server.address)
    assert (await cli("account", "logout", server=server)).code == 0
    await rotate_behind_its_back(server.address, mine)

    result = await cli("worker", "rotate-secret", server=server)
    assert result.code == 4  # EXIT_UNAUTHENTICATED
    assert result.stdout == ""
    assert result.stderr == (
        "error: the server refused this machine's node secret (wrong node credential; register "
        f"this machine again), and replacing it needs your login: not logged in to "
        f"{server.address}: run `hivemind account login`\n"
    )
    assert stored_node(hivemind_home, server.address) == mine  # nothing changed


async def test_no_node_on_this_machine(server, cli, register, hivemind_home):
    await register(server, "alice")
    result = await cli("worker", "rotate-secret", "--json", server=server)
    assert result.code == 1
    message = (
        f"no node is registered on this machine for {server.address}: "
        "`hivemind worker run` registers one"
    )
    assert result.json() == {"error": message, "code": "NO_NODE"}
    assert result.stderr == f"error: {message}\n"
    assert CredentialStore(hivemind_home, backend="file").load_node(server.address) is None


async def test_unreachable_server(cli, hivemind_home):
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    CredentialStore(hivemind_home, backend="file").save_node(address, "node-1", "s3cret")
    before = stored_node(hivemind_home, address)

    result = await cli("worker", "rotate-secret", server=address)
    assert result.code == 3  # EXIT_UNREACHABLE
    assert result.stderr == (
        f"error: cannot reach the server at {address} — is `hivemind-server run` running?\n"
    )
    assert stored_node(hivemind_home, address) == before
