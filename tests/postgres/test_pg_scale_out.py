"""Replicas of one server as real processes on one PostgreSQL and one Redis (docs/ADMIN.md,
"Scale-out"): any replica serves any call, a replica may die, and so may Redis.

- A job submitted through A, worked by workers on B and C, watched through C (which hears of
  the work done on B at once, not at its next poll), its results downloaded through B (which
  fetches what only C held), its package seeded over BitTorrent by more than one replica.
- A replica SIGKILLed mid-run: the workers move to the other, no task is ever held by two
  attempts at once, no attempt is paid twice, the ledger balances.
- Redis killed and restarted empty mid-run: nothing is lost (no lease lapses, no node goes
  offline, every task done and paid once).
- A node banned through A is refused by B within a second.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import grpc
import pytest

from proto.hivemind.v1 import admin_pb2, admin_pb2_grpc, artifact_pb2, common_pb2, job_pb2
from server.cli.main import main as admin_cli
from server.ledger import audit
from server.store.db import Database
from tests.kit.accounts import PASSWORD, register_user
from tests.kit.auditor import query
from tests.kit.network import download_results, job_detail, submit, wait_for_job, write_package
from tests.kit.replicas import same_owner_workers, start_replicas
from tests.kit.stubs import Stubs, heartbeat, register_node

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CPT = 1_000_000
TASK_CODE = """
import os, pathlib, time
time.sleep(float(os.environ.get("HIVEMIND_TASK_SLEEP", "0.6")))
index = int(os.environ["HIVEMIND_TASK_INDEX"])
pathlib.Path(os.environ["HIVEMIND_OUTPUT"], "square.txt").write_text(f"{index * index}\\n")
"""


def check_results(folder: Path, tasks: int) -> None:
    for index in range(tasks):
        assert (folder / str(index) / "square.txt").read_text() == f"{index * index}\n"


def db_file(replica) -> Path:
    return replica.data_dir / "hivemind.db"  # auditor.query: the database it names


def audit_ledger(replica) -> audit.LedgerReport:
    db = Database.for_data_dir(replica.data_dir, replica.settings.database_url)
    try:
        return db.transaction_sync(audit.check_ledger)
    finally:
        db.close()


def assert_each_task_ran_once(replica, tasks: int) -> None:
    """Every task ended with one accepted attempt (no two nodes ever both ran it to the end;
    a lease lost with a replica would show as an expired attempt before it), none is still
    held, and no attempt was paid twice. For workers of one owner (no spot checks)."""
    rows = query(db_file(replica), "SELECT task_id, state FROM attempts")
    done: dict[str, int] = {}
    for task_id, state in rows:
        assert state not in ("leased", "running"), rows
        done[task_id] = done.get(task_id, 0) + (state == "done")
    assert len(done) == tasks and set(done.values()) == {1}, rows
    twice = query(
        db_file(replica),
        "SELECT attempt_id FROM ledger_transactions WHERE reason = 'payout'"
        " GROUP BY attempt_id HAVING count(*) > 1",
    )
    assert twice == []


async def test_any_replica_serves_any_step_of_a_job(
    server_process, server_database, redis_url, network, tmp_path
):
    a, b, c = await start_replicas(server_process, tmp_path, 3, redis_url, server_database)
    alice = await network.person(a.address, "alice")
    bob = await network.person(b.address, "bob")
    carol = await network.person(c.address, "carol")
    alice_on_c = await network.person(c.address, "alice-on-c", register=False)
    await alice_on_c.session.login("alice", PASSWORD)
    alice_on_b = await network.person(b.address, "alice-on-b", register=False)
    await alice_on_b.session.login("alice", PASSWORD)

    tasks = 8
    package = write_package(tmp_path / "squares", TASK_CODE, tasks=tasks)
    job = await submit(alice, package, tasks=tasks)
    arrivals: list[tuple[float, common_pb2.Task]] = []

    async def watch() -> None:
        request = job_pb2.WatchJobRequest(job_id=job.job_id)
        async for update in alice_on_c.session.jobs.WatchJob(request):
            arrivals.extend((time.time(), task) for task in update.changed_tasks)
            if update.job.state == common_pb2.JOB_STATE_DONE:
                return

    watching = asyncio.create_task(watch())
    await asyncio.sleep(0.5)  # the watch is subscribed before any work happens
    workers = [network.start_worker(bob), network.start_worker(carol)]
    await wait_for_job(alice, job.job_id, timeout=90)
    await asyncio.wait_for(watching, 15)

    # Both replicas' workers worked; C's watcher heard of B's work at once (its own poll
    # comes only every 10 s with Redis).
    bob_node, carol_node = workers[0].node_id, workers[1].node_id
    finished = dict(
        query(db_file(a), "SELECT task_id, finished_at FROM attempts WHERE state = 'done'")
    )
    delays = {
        task.node_id: max(0.0, at - finished[task.task_id])
        for at, task in arrivals
        if task.state == common_pb2.TASK_STATE_DONE
    }
    assert {bob_node, carol_node} <= set(delays), delays
    done_on_b = [
        at - finished[task.task_id]
        for at, task in arrivals
        if task.state == common_pb2.TASK_STATE_DONE and task.node_id == bob_node
    ]
    assert done_on_b and max(done_on_b) < 3.0, done_on_b

    # Results through B: C's workers' results were stored on C, B holds them too.
    results = await download_results(alice_on_b, job.job_id, tmp_path / "results")
    assert len(results.results) == tasks
    check_results(tmp_path / "results", tasks)

    # The package, uploaded through A, is seeded by more than one replica.
    offer = await alice_on_b.session.artifacts.GetTorrent(
        artifact_pb2.GetTorrentRequest(
            digest=(await job_detail(alice, job.job_id)).job.package_digest
        )
    )
    servers = {peer.endpoint for peer in offer.peers if not peer.node_id}
    assert len(servers) >= 2, servers
    report = audit_ledger(a)
    assert report.ok, report.problems
    # Every replica holds every artifact: removing any one of them loses none.
    for replica in (a, b, c):
        await until_holds_everything(replica)


async def until_holds_everything(replica, timeout: float = 15.0) -> None:
    """`admin missing-artifacts` on the replica's data dir says none is missing."""
    argv = ["admin", "missing-artifacts", "--data-dir", str(replica.data_dir), "--json"]
    deadline = time.monotonic() + timeout
    while await asyncio.to_thread(admin_cli, argv) != 0:
        assert time.monotonic() < deadline, f"{replica.data_dir} lacks artifacts"
        await asyncio.sleep(0.5)


async def test_a_replica_killed_mid_run_loses_nothing(
    server_process, server_database, redis_url, network, tmp_path
):
    a, b = await start_replicas(server_process, tmp_path, 2, redis_url, server_database)
    both = f"{a.address},{b.address}"
    alice = await network.person(b.address, "alice")
    # The workers know both replicas, A first: they work through A until it dies.
    workers = await same_owner_workers(network, [both, both], "bob")

    tasks = 12
    package = write_package(tmp_path / "squares", TASK_CODE, tasks=tasks)
    job = await submit(alice, package, tasks=tasks)
    for person in workers:
        network.start_worker(person)
    while (await job_detail(alice, job.job_id)).job.tasks_done < 3:
        await asyncio.sleep(0.1)
    await a.kill()  # mid-run: leases held, results being reported
    ended = await wait_for_job(alice, job.job_id, timeout=120)
    assert ended.state == common_pb2.JOB_STATE_DONE
    assert ended.tasks_done == tasks

    assert_each_task_ran_once(b, tasks)
    report = audit_ledger(b)
    assert report.ok, report.problems
    assert report.total_granted_ucpt == report.total_in_accounts_ucpt == 2 * 100 * CPT

    # A result stored through A a moment before it died may not have reached B: it is on
    # A's disk, and served through B again once A is back (systemd restarts it).
    await a.start()
    await download_results(alice, job.job_id, tmp_path / "results")
    check_results(tmp_path / "results", tasks)


async def test_redis_restarted_mid_run_loses_nothing(
    server_process, server_database, redis_server, network, tmp_path
):
    a, b = await start_replicas(
        server_process, tmp_path, 2, redis_server.url, server_database, lease_ttl_s=4,
        node_offline_after_s=4,
    )  # fmt: skip
    alice = await network.person(a.address, "alice")
    on_a, on_b = await same_owner_workers(network, [a.address, b.address], "bob")
    tasks = 12
    package = write_package(tmp_path / "squares", TASK_CODE, tasks=tasks)
    job = await submit(alice, package, tasks=tasks)
    agents = [network.start_worker(on_a), network.start_worker(on_b)]
    while (await job_detail(alice, job.job_id)).job.tasks_done < 2:
        await asyncio.sleep(0.1)
    await asyncio.to_thread(redis_server.restart, 1.0)  # everything it held is gone
    ended = await wait_for_job(alice, job.job_id, timeout=120)
    assert ended.state == common_pb2.JOB_STATE_DONE

    expired = query(db_file(a), "SELECT id, error FROM attempts WHERE state <> 'done'")
    assert expired == []  # no lease lapsed, no node went offline
    offline = query(db_file(a), "SELECT id FROM nodes WHERE online = false")
    assert offline == []
    assert {agent.tasks_done for agent in agents} != {0}
    assert_each_task_ran_once(a, tasks)
    report = audit_ledger(a)
    assert report.ok, report.problems


async def test_a_ban_through_one_replica_is_refused_by_another_within_a_second(
    server_process, server_database, redis_url, tmp_path
):
    a, b = await start_replicas(server_process, tmp_path, 2, redis_url, server_database)
    admin = await register_user(a.address, "root", admin=True, data_dir=a.data_dir)
    owner = await register_user(a.address, "dana")
    async with grpc.aio.insecure_channel(a.address) as channel:
        node = await register_node(Stubs(channel), owner.metadata, "box")
        secret = node.metadata[0][1].rpartition(".")[2]
        # B has checked (and cached) the credential.
        assert await heartbeat(b.address, node.node_id, secret) == grpc.StatusCode.OK
        await admin_pb2_grpc.AdminServiceStub(channel).BanNode(
            admin_pb2.BanNodeRequest(node_id=node.node_id, reason="cheating"),
            metadata=admin.metadata,
        )
        banned_at = time.monotonic()
    while (code := await heartbeat(b.address, node.node_id, secret)) == grpc.StatusCode.OK:
        assert time.monotonic() - banned_at < 1.0, "B still takes the banned node's credential"
        await asyncio.sleep(0.05)
    assert code == grpc.StatusCode.PERMISSION_DENIED
