"""The running worker keeps its node secret fresh: an aged secret is replaced once and the
worker keeps completing tasks; a rotation whose reply is lost on the way back (the server
committed it, the worker never heard) is recovered with the contributor's login, also by a
worker restarted in that state; a secret the owner's login cannot recover makes the machine a
new node; a failed rotation is retried
without disturbing the work; 0 days means never.

The lost reply is real: the worker talks to the server through a TCP relay on 127.0.0.1 that
holds back the server's bytes while the rotation reaches the server, then cuts the
connections, as a network that drops at the wrong moment does."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from pathlib import Path

import grpc
import pytest

from app.services.client.credentials import CredentialStore, NodeCredential
from app.services.client.session import ClientError, ClientSession
from app.services.settings import SettingsStore
from app.services.worker.agent import WorkerAgent
from proto.hivemind.v1 import (
    account_pb2,
    admin_pb2,
    admin_pb2_grpc,
    common_pb2,
)
from tests.kit.network import (
    PASSWORD,
    Person,
    job_detail,
    signup_grant,
    submit,
    wait_for_job,
    write_package,
)
from tests.kit.stubs import heartbeat
from tests.kit.waiting import wait_until

DAY_S = 86_400
HELLO = """
import os
open(os.path.join(os.environ["HIVEMIND_OUTPUT"], "hello.txt"), "w").write("hello")
"""


@pytest.fixture
def server_settings():
    return {"heartbeat_interval_s": 1}


@pytest.fixture
def worker_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="app.services.worker.agent")
    return caplog


class FlakyLink:
    """A TCP relay on 127.0.0.1 to the server. `hold_replies` keeps the server's bytes from
    reaching the client (requests still go through); `cut()` then closes every connection, so
    what was held is lost; `refusing` closes new connections at once (a server unreachable)."""

    def __init__(self, target: str) -> None:
        self.target_host, port = target.rsplit(":", 1)
        self.target_port = int(port)
        self.hold_replies = False
        self.refusing = False
        self.held_bytes = 0
        self._links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._server: asyncio.Server | None = None
        self.address = ""

    async def start(self) -> FlakyLink:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.address = f"127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refusing:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            writer.close()
            return
        pair = (writer, up_writer)
        self._links.add(pair)
        try:
            await asyncio.gather(
                self._pump(reader, up_writer, replies=False),
                self._pump(up_reader, writer, replies=True),
            )
        finally:
            self._links.discard(pair)
            for end in pair:
                end.close()

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, replies: bool
    ) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                if replies and self.hold_replies:
                    self.held_bytes += len(data)
                    continue
                writer.write(data)
                await writer.drain()
        writer.close()

    def cut(self) -> None:
        """Closes every relayed connection; held replies are lost. New ones relay normally."""
        for pair in list(self._links):
            for end in pair:
                end.transport.abort()
        self._links.clear()
        self.hold_replies = False

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@pytest.fixture
async def link(server):
    relay = await FlakyLink(server.address).start()
    yield relay
    await relay.close()


def age_stored_secret(person: Person, address: str, days: float) -> None:
    """Dates the stored node secret `days` back, editing the credentials file itself."""
    path = person.home / "credentials.json"
    data = json.loads(path.read_text())
    service = person.credentials.service_name(address)
    node = json.loads(data[service]["node"])
    node["saved_at"] = int(time.time() - days * DAY_S)
    data[service]["node"] = json.dumps(node)
    path.write_text(json.dumps(data))


def stored(person: Person, address: str) -> NodeCredential:
    node = CredentialStore(person.home, backend="file").load_node(address)
    assert node is not None
    return node


async def run_job(submitter: Person, folder: Path, tasks: int = 2) -> list[str]:
    """Submits a small job, waits for it, returns the node that did each task."""
    job = await submit(submitter, write_package(folder, HELLO), tasks=tasks)
    done = await wait_for_job(submitter, job.job_id)
    assert done.state == common_pb2.JOB_STATE_DONE
    return [task.node_id for task in (await job_detail(submitter, job.job_id)).tasks]


async def test_an_aged_secret_is_rotated_once_and_work_goes_on(server, network, tmp_path):
    alice = await network.person(server.address, "alice")
    bob = await network.person(server.address, "bob")
    grant = await signup_grant(bob)
    worker: WorkerAgent = network.start_worker(bob, secret_check_s=0.2)
    assert await run_job(alice, tmp_path / "before") == [worker.node_id] * 2
    young = stored(bob, server.address)
    assert worker.secret_rotation.rotations == 0  # a fresh secret is left alone

    age_stored_secret(bob, server.address, days=31)  # the default limit is 30 days

    rotation = worker.secret_rotation
    await wait_until(lambda: rotation.rotations, timeout=15, what="the worker to rotate")
    new = stored(bob, server.address)
    assert new.secret != young.secret
    assert new.node_id == young.node_id
    assert abs(new.saved_at - time.time()) < 60
    assert await heartbeat(server.address, young.node_id, young.secret) == (
        grpc.StatusCode.UNAUTHENTICATED
    )
    assert await heartbeat(server.address, new.node_id, new.secret) == grpc.StatusCode.OK

    assert await run_job(alice, tmp_path / "after") == [young.node_id] * 2
    assert worker.secret_rotation.rotations == 1  # once: the new secret is young
    assert stored(bob, server.address).secret == new.secret
    assert worker.tasks_done == 4 and worker.tasks_failed == 0 and not worker.stop_reason
    assert (await bob.balance()).balance_ucpt > grant  # paid for the work after the rotation


async def test_a_lost_rotation_reply_is_recovered_with_the_login(
    server, network, link, tmp_path, worker_logs
):
    alice = await network.person(server.address, "alice")
    bob = await network.person(link.address, "bob")  # bob's machine talks through the relay
    worker = network.start_worker(bob, secret_check_s=0.2)
    assert await run_job(alice, tmp_path / "before", tasks=1) == [worker.node_id]
    original = stored(bob, link.address)

    link.hold_replies = True
    age_stored_secret(bob, link.address, days=31)

    # The rotation reaches the server, which commits it: the old secret is refused from now
    # on, and the reply carrying the new one is held back in the relay.
    async def committed() -> bool:
        code = await heartbeat(server.address, original.node_id, original.secret)
        return code == grpc.StatusCode.UNAUTHENTICATED

    await wait_until(committed, timeout=15, what="the server to commit the rotation")
    assert link.held_bytes > 0
    link.cut()  # the reply is lost on the way back

    async def recovered() -> bool:
        now = stored(bob, link.address)
        if now.secret == original.secret:
            return False
        return await heartbeat(server.address, now.node_id, now.secret) == grpc.StatusCode.OK

    await wait_until(recovered, timeout=30, what="the worker to recover its node")
    assert stored(bob, link.address).node_id == original.node_id  # the same node, kept
    assert "secret was refused; rotated it with the owner's login" in worker_logs.text
    assert await run_job(alice, tmp_path / "after", tasks=1) == [original.node_id]
    assert worker.node_id == original.node_id and not worker.stop_reason


async def bobs_nodes(server, admin_metadata) -> list[admin_pb2.NodeInfo]:
    async with grpc.aio.insecure_channel(server.address) as channel:
        reply = await admin_pb2_grpc.AdminServiceStub(channel).ListNodes(
            admin_pb2.ListNodesRequest(), metadata=admin_metadata
        )
    return [node for node in reply.nodes if node.owner == "bob"]


async def payout_nodes(person: Person) -> list[str]:
    reply = await person.session.account.GetEarnings(account_pb2.GetEarningsRequest())
    return [payout.node_id for payout in reply.payouts]


async def test_a_worker_restarted_after_a_lost_rotation_reply_keeps_its_node(
    server, network, link, tmp_path, worker_logs, user_session
):
    admin = await user_session(server, "root", admin=True)
    alice = await network.person(server.address, "alice")
    bob = await network.person(link.address, "bob")  # bob's machine talks through the relay
    worker = network.start_worker(bob)
    assert await run_job(alice, tmp_path / "before", tasks=1) == [worker.node_id]
    original = stored(bob, link.address)

    async def paid(times: int) -> bool:
        return len(await payout_nodes(bob)) >= times

    await wait_until(lambda: paid(1), what="bob to be paid")
    (before,) = await bobs_nodes(server, admin.metadata)
    await network.stop_workers()

    # The machine asks for a new secret; the server commits it, the reply is lost, and the
    # worker is stopped before it could recover (the app quit, the machine went to sleep).
    link.hold_replies = True
    rotation = asyncio.create_task(
        bob.session.rotate_node_secret(original.node_id, original.secret)
    )

    async def committed() -> bool:
        code = await heartbeat(server.address, original.node_id, original.secret)
        return code == grpc.StatusCode.UNAUTHENTICATED

    await wait_until(committed, timeout=15, what="the server to commit the rotation")
    link.cut()
    with pytest.raises(ClientError):
        await rotation
    assert stored(bob, link.address) == original  # nobody knows the new secret

    restarted = network.start_worker(bob)
    await wait_until(lambda: restarted.node_id, what="the restarted worker to register")
    assert restarted.node_id == original.node_id  # the same node, not a new one
    assert "secret was refused; rotated it with the owner's login" in worker_logs.text
    now = stored(bob, link.address)
    assert now.node_id == original.node_id and now.secret != original.secret
    assert await heartbeat(server.address, now.node_id, now.secret) == grpc.StatusCode.OK

    assert await run_job(alice, tmp_path / "after", tasks=1) == [original.node_id]
    await wait_until(lambda: paid(2), what="bob to be paid again")
    # Its history stays with it: both payouts name the node, and the server still has one
    # node of bob's, with the trust it had (nothing reset).
    assert await payout_nodes(bob) == [original.node_id] * 2
    (after,) = await bobs_nodes(server, admin.metadata)
    assert after.node_id == before.node_id and after.name == before.name
    for counter in ("valid_results", "consecutive_valid", "invalid_results", "errors"):
        assert getattr(after, counter) >= getattr(before, counter), counter
    assert not restarted.stop_reason


async def test_a_node_its_login_cannot_recover_becomes_a_new_node(server, network, tmp_path):
    alice = await network.person(server.address, "alice")
    bob = await network.person(server.address, "bob")
    worker = network.start_worker(bob)
    assert await run_job(alice, tmp_path / "bob", tasks=1) == [worker.node_id]
    bobs_node = worker.node_id

    # Bob hands the machine to carol, who logs in on it; from elsewhere, bob shuts his node
    # out with his own login.
    await bob.session.register("carol", PASSWORD)
    elsewhere = tmp_path / "bob-elsewhere"
    async with ClientSession(
        SettingsStore(elsewhere), CredentialStore(elsewhere, backend="file"), server=server.address
    ) as bob_elsewhere:
        await bob_elsewhere.login("bob", PASSWORD)
        await bob_elsewhere.rotate_node_secret_as_owner(bobs_node)

    # Carol's login cannot rotate bob's node: the machine registers again, as carol's.
    await wait_until(lambda: worker.node_id != bobs_node, timeout=30, what="a new node")
    assert stored(bob, server.address).node_id == worker.node_id
    carols_grant = await signup_grant(bob)
    assert await run_job(alice, tmp_path / "carol", tasks=1) == [worker.node_id]
    assert (await bob.balance()).balance_ucpt > carols_grant  # carol is paid, not bob
    assert not worker.stop_reason


async def test_a_failed_rotation_is_retried_and_leasing_goes_on(
    server, network, link, tmp_path, worker_logs
):
    alice = await network.person(server.address, "alice")
    bob = await network.person(link.address, "bob")
    worker = network.start_worker(bob, secret_check_s=0.2)
    await wait_until(lambda: worker.node_id, what="registration")
    original = stored(bob, link.address)

    link.refusing = True  # the server is out of reach
    link.cut()
    age_stored_secret(bob, link.address, days=31)
    await wait_until(
        lambda: "cannot rotate its secret" in worker_logs.text,
        timeout=30,
        what="a warning about the failed rotation",
    )
    assert await heartbeat(server.address, original.node_id, original.secret) == (
        grpc.StatusCode.OK
    )  # nothing reached the server: the old secret still works

    link.refusing = False
    rotation = worker.secret_rotation
    await wait_until(lambda: rotation.rotations, timeout=30, what="the rotation to be retried")
    assert stored(bob, link.address).secret != original.secret
    assert await run_job(alice, tmp_path / "after", tasks=1) == [original.node_id]
    assert worker.secret_rotation.rotations == 1 and not worker.stop_reason


async def test_zero_days_never_rotates_and_the_setting_applies_live(server, network):
    bob = await network.person(server.address, "bob")
    bob.settings.update_contributor(node_secret_max_age_days=0)
    with pytest.raises(ValueError, match="node_secret_max_age_days must not be negative"):
        bob.settings.update_contributor(node_secret_max_age_days=-1)
    with pytest.raises(ValueError, match="must be a whole number of days"):
        bob.settings.update_contributor(node_secret_max_age_days="30")
    assert bob.settings.settings.contributor.node_secret_max_age_days == 0  # unchanged

    worker = network.start_worker(bob)  # checks hourly: only a settings change wakes it
    await wait_until(lambda: worker.node_id, what="registration")
    age_stored_secret(bob, server.address, days=3650)
    old = stored(bob, server.address)
    assert await worker.secret_rotation.rotate_if_due() is False
    assert stored(bob, server.address).secret == old.secret

    bob.settings.update_contributor(node_secret_max_age_days=365)

    rotation = worker.secret_rotation
    await wait_until(lambda: rotation.rotations, timeout=15, what="the setting to apply")
    assert rotation.rotations == 1
    assert stored(bob, server.address).secret != old.secret


def test_a_credential_stored_without_a_date_is_dated_when_first_read(tmp_path):
    home = tmp_path / "home"
    store = CredentialStore(home, backend="file")
    store.save_node("127.0.0.1:50051", "node-1", "s3cret")
    path = home / "credentials.json"
    data = json.loads(path.read_text())
    service = store.service_name("127.0.0.1:50051")
    data[service]["node"] = json.dumps({"node_id": "node-1", "secret": "s3cret"})  # older form
    path.write_text(json.dumps(data))

    node = store.load_node("127.0.0.1:50051")
    assert (node.node_id, node.secret) == ("node-1", "s3cret")
    assert abs(node.saved_at - time.time()) < 60
    written = json.loads(json.loads(path.read_text())[service]["node"])
    assert written["saved_at"] == node.saved_at  # its age counts from now on
    assert store.load_node("127.0.0.1:50051").saved_at == node.saved_at
