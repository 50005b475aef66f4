"""Earnings per day in the contributor's own time zone ("today" starts at their midnight, not
at UTC's), and each payout named by its job and task. Real server, real gRPC."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from proto.hivemind.v1 import account_pb2
from server.errors import InvalidArgument
from server.ledger import statements
from server.store.schema import payouts
from tests.kit.stubs import complete, lease, make_package, register_node, submit, upload


def _at(hour: int, minute: int = 0) -> float:
    return datetime(2026, 1, 1, hour, minute, tzinfo=UTC).timestamp()


async def test_days_start_at_the_users_midnight(server, user_session):
    def paid(conn) -> None:
        for attempt, when in (("att-a", _at(15)), ("att-b", _at(20))):
            conn.execute(
                insert(payouts).values(
                    attempt_id=attempt,
                    tx_id=f"tx-{attempt}",
                    job_id="job-x",
                    node_id="node-x",
                    user_id="user-x",
                    core_ms=1000,
                    base_ucpt=1_000_000,
                    bonus_ucpt=0,
                    amount_ucpt=1_000_000,
                    created_at=when,
                )
            )

    await server.ctx.db.run(paid)
    now = _at(21)  # 21:00 in London is already 05:00 of the next day in Taipei
    utc = await server.ctx.db.run(statements.earnings, "user-x", 2, now)
    taipei = await server.ctx.db.run(statements.earnings, "user-x", 2, now, "Asia/Taipei")
    assert (utc.time_zone, utc.today_ucpt) == ("UTC", 2_000_000)
    assert [(d.day, d.amount_ucpt) for d in utc.days] == [
        ("2025-12-31", 0),
        ("2026-01-01", 2_000_000),
    ]
    # 15:00 UTC is 23:00 on Jan 1 in Taipei; 20:00 UTC is 04:00 on Jan 2.
    assert (taipei.time_zone, taipei.today_ucpt) == ("Asia/Taipei", 1_000_000)
    assert [(d.day, d.amount_ucpt) for d in taipei.days] == [
        ("2026-01-01", 1_000_000),
        ("2026-01-02", 1_000_000),
    ]
    with pytest.raises(InvalidArgument):
        statements.day_zone("../../etc/passwd")


async def test_payouts_name_their_job_and_task(server, user_session, stubs):
    _, alice = await user_session(server, "alice")
    _, bob = await user_session(server, "bob")
    digest = (await upload(stubs, alice, make_package())).digest
    job = await submit(stubs, alice, digest, name="render frames", task_count=2)
    node = await register_node(stubs, bob)
    leases = await lease(stubs, node, max_tasks=2)
    await complete(stubs, node, [x.attempt_id for x in leases], wall_seconds=2.0)
    reply = await stubs.account.GetEarnings(
        account_pb2.GetEarningsRequest(time_zone="Europe/Paris"), metadata=bob
    )
    assert reply.time_zone == "Europe/Paris"
    assert sorted((p.job_id, p.job_name, p.task_index) for p in reply.payouts) == [
        (job.job_id, "render frames", 0),
        (job.job_id, "render frames", 1),
    ]
