"""Two server processes' worth of servers on one PostgreSQL database (docs/ADMIN.md: several
stateless replicas behind one address): workers of four owners, half on each server, lease
and complete a replicated job at the same time. Every task is done with the right result,
no task goes twice to one owner, each agreeing replica is paid exactly once, and the ledger
still holds exactly what was granted."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import grpc
import pytest

from proto.hivemind.v1 import common_pb2
from server.ledger import audit
from tests.kit.auditor import query
from tests.kit.simulated_nodes import (
    SimNode,
    assert_results_correct,
    job_detail,
    sim_node,
    submit_job,
    work,
)
from tests.kit.stubs import Stubs

pytestmark = pytest.mark.postgres

CPT = 1_000_000
TASKS = 24
ENDED = (common_pb2.JOB_STATE_DONE, common_pb2.JOB_STATE_FAILED)


async def test_two_servers_on_one_database_share_a_job(make_server, user_session, tmp_path):
    first = await make_server()
    alice = await user_session(first, "alice")
    owners = [await user_session(first, name) for name in ("hana", "ivo", "jun", "kai")]
    # The replica shares the database (server.toml) and the token signing key: tokens
    # issued by one server are good on the other, as behind a load balancer.
    first_dir, second_dir = Path(first.settings.data_dir), tmp_path / "replica"
    second_dir.mkdir()
    for name in ("server.toml", "token.key"):
        shutil.copy2(first_dir / name, second_dir / name)
    second = await make_server(data_dir=second_dir)
    assert second.settings.database_url == first.settings.database_url

    async with (
        grpc.aio.insecure_channel(first.address) as first_channel,
        grpc.aio.insecure_channel(second.address) as second_channel,
    ):
        stubs = [Stubs(first_channel, first.address), Stubs(second_channel, second.address)]
        sims = [
            (stubs[i % 2], await sim_node(stubs[i % 2], owner, f"{owner.username}-box"))
            for i, owner in enumerate(owners)
        ]
        job = await submit_job(stubs[0], alice, task_count=TASKS, replicas=2)

        async def keep_working(node_stubs: Stubs, sim: SimNode) -> None:
            while (await job_detail(node_stubs, alice, job.job_id)).job.state not in ENDED:
                if not await work(node_stubs, sim, max_tasks=3):
                    await asyncio.sleep(0.02)

        await asyncio.wait_for(asyncio.gather(*(keep_working(*pair) for pair in sims)), 120)
        detail = await job_detail(stubs[1], alice, job.job_id)  # read through the replica

    assert detail.job.state == common_pb2.JOB_STATE_DONE
    assert_results_correct(detail)
    assert {sim.name for _, sim in sims if sim.results} == {
        "hana-box",
        "ivo-box",
        "jun-box",
        "kai-box",
    }
    db_file = first_dir / "hivemind.db"
    # Two agreeing results of two owners per task, each paid once.
    per_task = query(
        db_file,
        "SELECT a.task_id, count(*), count(DISTINCT n.owner_id) FROM payouts p"
        " JOIN attempts a ON a.id = p.attempt_id JOIN nodes n ON n.id = a.node_id"
        " GROUP BY a.task_id",
    )
    assert len(per_task) == TASKS
    assert {(count, owners_paid) for _, count, owners_paid in per_task} == {(2, 2)}
    twice = query(
        db_file,
        "SELECT attempt_id FROM ledger_transactions WHERE reason = 'payout'"
        " GROUP BY attempt_id HAVING count(*) > 1",
    )
    assert twice == []
    report = await first.ctx.db.run(audit.check_ledger)
    assert report.ok, report.problems
    assert report.total_granted_ucpt == report.total_in_accounts_ucpt == 5 * 100 * CPT
