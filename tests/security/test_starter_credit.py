"""Starter credit instead of free money (server/ledger/starter.py, server/scheduling/funding.py),
against a real server: the sign-up grant cannot be transferred or turned into CPT any other
way, a job it pays for runs only on capacity no paid job wants, the default grant pays for a
small job of one's own, and the ledger audit covers it.

With --db=postgres they run again on PostgreSQL.
"""

from __future__ import annotations

import grpc
import pytest

from proto.hivemind.v1 import account_pb2, common_pb2, job_pb2
from server.config import ServerSettings
from server.ledger import audit
from server.ledger import journal as ledger
from tests.kit.simulated_nodes import (
    assert_results_correct,
    run_job,
    sim_node,
    submit_job,
)
from tests.kit.stubs import (
    Stubs,
    lease,
    make_package,
    register_node,
    rpc_error,
    submit,
    upload,
)

# Also on PostgreSQL (--db=postgres): every replica shares what the database holds.
pytestmark = pytest.mark.db

CPT = 1_000_000
DEFAULT_GRANT = ServerSettings().signup_grant_ucpt  # what a server gives unless told otherwise


@pytest.fixture
def server_settings() -> dict:
    return {"signup_grant_ucpt": DEFAULT_GRANT}


async def balances(stubs: Stubs, who) -> account_pb2.Balance:
    return await stubs.account.GetBalance(account_pb2.GetBalanceRequest(), metadata=who.metadata)


def give_cpt(server, who, amount: int) -> None:
    """CPT as an admin grants it."""
    server.ctx.db.transaction_sync(
        ledger.grant, who.user_id, amount, idempotency_key=f"cpt:{who.user_id}", memo="admin"
    )


async def test_the_default_grant_pays_for_a_small_job_of_ones_own(server, user_session, stubs):
    assert DEFAULT_GRANT == 3 * CPT  # docs/REWARDS.md and docs/ADMIN.md say so
    dana = await user_session(server, "dana")
    held = await balances(stubs, dana)
    assert (held.balance_ucpt, held.starter_ucpt) == (0, DEFAULT_GRANT)

    def estimate(tasks: int) -> job_pb2.EstimateCostRequest:
        return job_pb2.EstimateCostRequest(
            resources=common_pb2.Resources(cores=1, memory_mb=256, timeout_s=60), tasks=tasks
        )

    # examples/pi as shipped: 8 one-core tasks of at most 60 s.
    pi = await stubs.jobs.EstimateCost(estimate(8), metadata=dana.metadata)
    assert (pi.worst_case_ucpt, pi.funded_from) == (2_600_000, "starter")
    too_big = await stubs.jobs.EstimateCost(estimate(20), metadata=dana.metadata)
    assert too_big.funded_from == ""
    package = await upload(stubs, dana.metadata, make_package())
    refused = await rpc_error(submit(stubs, dana.metadata, package.digest, task_count=20))
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert refused.details() == (
        "insufficient balance: this job needs 6.5 CPT in escrow, you have 0 CPT and 3 CPT of"
        " starter credit (which pays only for a whole job)"
    )
    give_cpt(server, dana, 10 * CPT)
    paid = await stubs.jobs.EstimateCost(estimate(20), metadata=dana.metadata)
    assert paid.funded_from == "cpt"  # CPT goes first when it covers the job


async def test_starter_credit_cannot_be_transferred_or_turned_into_cpt(server, user_session, stubs):
    mallory = await user_session(server, "mallory")
    carol = await user_session(server, "carol")
    # Sent to anyone: refused, there is no CPT to send.
    refused = await rpc_error(
        stubs.account.Transfer(
            account_pb2.TransferRequest(to_username="carol", amount_ucpt=1),
            metadata=mallory.metadata,
        )
    )
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "you have 0 CPT" in refused.details()

    # A cancelled job gives it back as starter credit, not CPT.
    cancelled = await submit_job(stubs, mallory, task_count=2)
    assert (await balances(stubs, mallory)).starter_escrow_ucpt == cancelled.max_cost_ucpt
    await stubs.jobs.CancelJob(
        job_pb2.CancelJobRequest(job_id=cancelled.job_id), metadata=mallory.metadata
    )
    held = await balances(stubs, mallory)
    assert (held.balance_ucpt, held.starter_ucpt, held.escrow_ucpt) == (0, DEFAULT_GRANT, 0)

    # Her own node runs her own job (carol's node checks it): what her node is paid goes back
    # into her starter credit; carol, another owner, earns ordinary CPT.
    own_node = await sim_node(stubs, mallory, "mallory-box")
    checker = await sim_node(stubs, carol, "carol-box")
    job = await submit_job(stubs, mallory, task_count=4)
    detail = await run_job(stubs, mallory, job.job_id, [own_node, checker])
    assert_results_correct(detail)
    assert own_node.results, "her own node did some of the work"
    held = await balances(stubs, mallory)
    carol_held = await balances(stubs, carol)
    assert held.balance_ucpt == 0
    assert carol_held.balance_ucpt > 0 and carol_held.starter_ucpt == DEFAULT_GRANT
    assert held.starter_ucpt == DEFAULT_GRANT - carol_held.balance_ucpt
    earnings = await stubs.account.GetEarnings(
        account_pb2.GetEarningsRequest(), metadata=mallory.metadata
    )
    assert (earnings.month_ucpt, list(earnings.payouts)) == (0, [])
    history = await stubs.account.ListHistory(
        account_pb2.ListHistoryRequest(), metadata=mallory.metadata
    )
    assert {e.account for e in history.entries} == {"starter"}

    report = await server.ctx.db.run(audit.check_ledger)
    assert report.ok, report.problems
    assert report.total_starter_ucpt == held.starter_ucpt + carol_held.starter_ucpt

    # The audit would catch starter credit moved anywhere else (a bug, simulated here).
    def leak(conn) -> None:
        ledger.post(
            conn,
            idempotency_key="leak",
            reason="transfer",
            entries=[
                (ledger.starter_account_id(conn, mallory.user_id), -1),
                (ledger.user_account_id(conn, mallory.user_id), 1),
            ],
        )

    await server.ctx.db.run(leak)
    leaked = await server.ctx.db.run(audit.check_ledger)
    assert not leaked.ok
    assert any("moved starter credit to or from user:" in p for p in leaked.problems)


async def test_a_starter_funded_job_runs_only_on_capacity_no_paid_job_wants(
    server, user_session, stubs
):
    sybil = await user_session(server, "sybil")
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    give_cpt(server, alice, 10 * CPT)
    package = await upload(stubs, sybil.metadata, make_package())
    # Older and at three times the priority, yet paid from starter credit.
    spare = await submit(
        stubs, sybil.metadata, package.digest, task_count=3, priority=3.0,
        resources=common_pb2.Resources(cores=1, memory_mb=64, timeout_s=60),
    )  # fmt: skip
    package = await upload(stubs, alice.metadata, make_package())
    paid = await submit(
        stubs, alice.metadata, package.digest, task_count=3,
        resources=common_pb2.Resources(cores=2, memory_mb=64, timeout_s=60),
    )  # fmt: skip
    assert (await balances(stubs, sybil)).starter_escrow_ucpt == spare.max_cost_ucpt
    assert (await balances(stubs, alice)).starter_escrow_ucpt == 0
    node = await register_node(stubs, bob.metadata, "bob-box")

    # A node a paid task fits gets the paid task, one lease after another.
    for _ in range(3):
        [taken] = await lease(stubs, node, max_tasks=1, cores=2)
        assert taken.job_id == paid.job_id
    # Room no paid task fits (one core), or left once paid work is all leased: starter work.
    [small] = await lease(stubs, node, max_tasks=1, cores=1)
    assert small.job_id == spare.job_id
    rest = await lease(stubs, node, max_tasks=8, cores=8)
    assert {lease.job_id for lease in rest} == {spare.job_id} and len(rest) == 2


async def test_a_batch_fills_with_paid_work_first(server, user_session, stubs):
    sybil = await user_session(server, "sybil")
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    give_cpt(server, alice, 10 * CPT)
    spare = await submit_job(stubs, sybil, task_count=6)
    paid = await submit_job(stubs, alice, task_count=2)
    node = await register_node(stubs, bob.metadata, "bob-box")
    batch = await lease(stubs, node, max_tasks=4, cores=8)
    # Both paid tasks, then two starter-funded ones in the room they left.
    assert [lease.job_id for lease in batch] == [paid.job_id] * 2 + [spare.job_id] * 2
