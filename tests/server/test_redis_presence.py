"""One server with Redis (server/nodes/presence.py): heartbeats write Redis, not the database,
yet silent nodes still go offline, unrenewed leases still lapse, and renewed ones do not;
a Redis that restarts empty loses nothing (the grace after it covers every live node); an
idle worker's LeaseTasks waits for work and is woken by a submission; the dashboard shows
the beats Redis holds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager

import grpc
import pytest
from sqlalchemy import event, select, update

from proto.hivemind.v1 import node_pb2
from server.cli.main import main
from server.store.schema import attempts, nodes
from tests.kit.redis import new_namespace
from tests.kit.stubs import Stubs, lease, make_package, register_node, submit, upload
from tests.web.webkit import WebClient

WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture
def server_settings(redis_url: str) -> dict:
    return {
        "redis_url": redis_url,
        "redis_namespace": new_namespace(),
        "lease_ttl_s": 3,
        "node_offline_after_s": 3,
        "sweep_interval_s": 0.2,
        "http_listen": "127.0.0.1:0",
    }


@contextmanager
def sql_writes(server) -> Iterator[list[str]]:
    """Every INSERT, UPDATE and DELETE the server's database runs inside the block."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith(WRITES):
            seen.append(statement.split("\n")[0][:80])

    engine = server.ctx.db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def beat(stubs: Stubs, node, running: list[str] = ()) -> node_pb2.HeartbeatResponse:
    return await stubs.nodes.Heartbeat(
        node_pb2.HeartbeatRequest(running_attempt_ids=list(running), bt_endpoint="127.0.0.1:6881"),
        metadata=node.metadata,
    )


async def row(server, table, key):
    return await server.ctx.db.run(
        lambda conn: conn.execute(select(table).where(table.c.id == key)).first()
    )


async def test_beats_write_only_state_changes_yet_sweeps_see_them(server, user_session, stubs):
    alice = await user_session(server, "alice")
    node = await register_node(stubs, alice.metadata, "box")
    package = await upload(stubs, alice.metadata, make_package())
    await submit(stubs, alice.metadata, package.digest, task_count=1)
    (leased,) = await lease(stubs, node)

    with sql_writes(server) as writes:
        await beat(stubs, node, [leased.attempt_id])  # it came online in Redis, started its task
    assert any("attempts" in w for w in writes) and any("nodes" in w for w in writes), writes

    registered_seen = (await row(server, nodes, node.node_id)).last_seen
    with sql_writes(server) as writes:
        for _ in range(8):  # 4 s: past the lease lifetime and the offline timeout
            await beat(stubs, node, [leased.attempt_id])
            await asyncio.sleep(0.5)
    assert not [w for w in writes if "nodes" in w or "INSERT" in w], writes
    node_row = await row(server, nodes, node.node_id)
    assert node_row.online and node_row.last_seen == pytest.approx(registered_seen, abs=1.5)
    attempt = await row(server, attempts, leased.attempt_id)
    assert attempt.state == "running"
    # The sweep wrote the renewed deadline as the stored one passed: not the beat.
    assert attempt.lease_deadline > time.time()

    # Silence: offline within the timeout, its lease released, though nothing was written
    # at its last beat.
    await asyncio.sleep(4.5)
    node_row = await row(server, nodes, node.node_id)
    assert not node_row.online
    attempt = await row(server, attempts, leased.attempt_id)
    assert attempt.state == "expired" and "offline" in attempt.error

    # Beating again brings it back: the database hears it once.
    with sql_writes(server) as writes:
        await beat(stubs, node)
        await beat(stubs, node)
    assert len([w for w in writes if "nodes" in w]) == 1, writes
    assert (await row(server, nodes, node.node_id)).online


async def test_redis_restarting_empty_loses_no_node_and_no_lease(
    make_server, redis_server, user_session
):
    server = await make_server(
        redis_url=redis_server.url,
        redis_namespace=new_namespace(),
        lease_ttl_s=3,
        node_offline_after_s=3,
        sweep_interval_s=0.2,
    )
    alice = await user_session(server, "alice")
    async with grpc.aio.insecure_channel(server.address) as channel:
        stubs = Stubs(channel)
        node = await register_node(stubs, alice.metadata, "box")
        package = await upload(stubs, alice.metadata, make_package())
        await submit(stubs, alice.metadata, package.digest, task_count=1)
        (leased,) = await lease(stubs, node)
        await beat(stubs, node, [leased.attempt_id])
        await asyncio.sleep(1.0)

        # Redis dies with every beat and renewal it had, and comes back empty 1.5 s later.
        # Meanwhile beats go to the database; after it, to the new Redis.
        await asyncio.to_thread(redis_server.restart, 1.5)
        for _ in range(12):  # 6 s: two offline timeouts and lease lifetimes
            await beat(stubs, node, [leased.attempt_id])
            await asyncio.sleep(0.5)
        assert server.ctx.redis is not None and server.ctx.redis.healthy

        node_row = await row(server, nodes, node.node_id)
        attempt = await row(server, attempts, leased.attempt_id)
        assert node_row.online
        assert attempt.state == "running", attempt.error


async def test_an_idle_lease_waits_for_work_and_a_submission_wakes_it(server, user_session, stubs):
    alice = await user_session(server, "alice")
    node = await register_node(stubs, alice.metadata, "box")
    package = await upload(stubs, alice.metadata, make_package())
    waiting = asyncio.ensure_future(
        stubs.nodes.LeaseTasks(
            node_pb2.LeaseTasksRequest(
                free_cores=8, free_memory_mb=16384, max_tasks=1, wait_ms=15_000
            ),
            metadata=node.metadata,
        )
    )
    await asyncio.sleep(1.0)
    assert not waiting.done()  # nothing to do: the call is held
    started = time.monotonic()
    job = await submit(stubs, alice.metadata, package.digest, task_count=1)
    reply = await asyncio.wait_for(waiting, 5)
    assert [lease.job_id for lease in reply.leases] == [job.job_id]
    assert time.monotonic() - started < 2.0

    # Without work the wait ends empty at its bound (the server's cap at most).
    started = time.monotonic()
    reply = await stubs.nodes.LeaseTasks(
        node_pb2.LeaseTasksRequest(free_cores=8, free_memory_mb=16384, max_tasks=1, wait_ms=800),
        metadata=node.metadata,
    )
    assert not reply.leases and 0.7 < time.monotonic() - started < 3.0


async def test_the_dashboard_shows_the_last_beat_redis_holds(server, user_session, stubs):
    alice = await user_session(server, "alice", admin=True)
    node = await register_node(stubs, alice.metadata, "box")
    await beat(stubs, node)  # it came online: the database hears of that one
    an_hour_ago = time.time() - 3600
    await server.ctx.db.run(
        lambda conn: conn.execute(
            update(nodes).where(nodes.c.id == node.node_id).values(last_seen=an_hour_ago)
        )
    )
    with sql_writes(server) as writes:
        await beat(stubs, node)
    assert not any("nodes" in w for w in writes), writes  # this beat is in Redis only
    async with WebClient(server.http_url) as web:
        await web.sign_in("alice")
        for path in ("/nodes", "/admin/nodes"):
            page = (await web.get(path)).text
            assert "box" in page, path
            assert " s ago" in page and "1 h ago" not in page, path


async def test_a_ban_by_the_admin_command_reaches_the_running_servers_cache_at_once(
    server, user_session, stubs, monkeypatch
):
    alice = await user_session(server, "alice")
    node = await register_node(stubs, alice.metadata, "box")
    await beat(stubs, node)  # its credential is cached now (for minutes, with Redis)
    monkeypatch.setenv("HIVEMIND_SERVER_REDIS_URL", server.settings.redis_url)
    monkeypatch.setenv("HIVEMIND_SERVER_REDIS_NAMESPACE", server.settings.redis_namespace)
    data_dir = str(server.settings.data_dir)
    ban = ["admin", "ban-node", node.node_id, "--reason", "caught", "--data-dir", data_dir]
    assert await asyncio.to_thread(main, ban) == 0
    deadline = time.monotonic() + 3.0
    while True:
        try:
            await beat(stubs, node)
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.PERMISSION_DENIED
            assert "caught" in error.details()
            break
        assert time.monotonic() < deadline, "the running server still takes the banned node"
        await asyncio.sleep(0.1)
