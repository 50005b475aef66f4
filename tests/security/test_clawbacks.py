"""Clawbacks: when a caught node's unverified results are discarded and run again, what it was
paid for them is taken back into the job's escrow, so the cheat keeps nothing and the
submitter pays for honest work only; never below zero, never twice."""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from proto.hivemind.v1 import account_pb2, admin_pb2, admin_pb2_grpc, common_pb2
from server.ledger import audit
from server.ledger.payouts import EscrowTracker
from server.validation.spot_checks import distrust_node_results
from tests.kit.auditor import db_file, query, trust_of
from tests.kit.simulated_nodes import (
    SimNode,
    assert_results_correct,
    job_detail,
    run_job,
    sim_node,
    submit_job,
    work,
    wrong_output,
)

pytestmark = pytest.mark.db

CPT = 1_000_000
SPOT_CHECK_WHY = "its node failed a spot check"


@pytest.fixture
def server_settings() -> dict:
    # Established (and so trusted) after 2 independent valid results, at any age: the cheat
    # here must first earn trust (tests/security/test_spot_checks.py says the same).
    return {"trust_threshold": 2, "established_min_valid": 2, "established_min_age_s": 0}


def balance(server: Any, user_id: str) -> int:
    """The user's CPT: what a clawback takes from (never starter credit, never escrow)."""
    return query(
        db_file(server), "SELECT balance_ucpt FROM accounts WHERE name = ?", f"user:{user_id}"
    )[0][0]


def holdings(server: Any, user_id: str) -> int:
    """CPT and starter credit together (the sign-up grant is starter credit)."""
    rows = query(
        db_file(server),
        "SELECT balance_ucpt FROM accounts WHERE name IN (?, ?)",
        f"user:{user_id}",
        f"starter:{user_id}",
    )
    return sum(row[0] for row in rows)


def payouts_to(server: Any, node_id: str, job_id: str) -> dict[str, int]:
    rows = query(
        db_file(server),
        "SELECT attempt_id, amount_ucpt FROM payouts WHERE node_id = ? AND job_id = ?",
        node_id,
        job_id,
    )
    return dict(rows)


def discarded(server: Any, node_id: str, job_id: str) -> set[str]:
    rows = query(
        db_file(server),
        "SELECT attempt_id FROM result_checks WHERE node_id = ? AND job_id = ?"
        " AND status = 'discarded'",
        node_id,
        job_id,
    )
    return {attempt_id for (attempt_id,) in rows}


def clawbacks_of(server: Any, job_id: str) -> dict[str, tuple[int, int, int]]:
    """attempt id -> (paid, taken, shortfall)."""
    rows = query(
        db_file(server),
        "SELECT attempt_id, paid_ucpt, taken_ucpt, shortfall_ucpt FROM clawbacks WHERE job_id = ?",
        job_id,
    )
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def clawback_entries(server: Any, user_id: str) -> dict[str, int]:
    """attempt id -> the clawback entry on the user's account (negative)."""
    rows = query(
        db_file(server),
        "SELECT t.attempt_id, e.amount_ucpt FROM ledger_transactions t"
        " JOIN ledger_entries e ON e.tx_id = t.id JOIN accounts a ON a.id = e.account_id"
        " WHERE t.reason = 'clawback' AND a.name = ?",
        f"user:{user_id}",
    )
    return dict(rows)


async def trusted_cheat(server: Any, user_session: Any, stubs: Any) -> tuple[Any, SimNode, list]:
    """alice submits; mallory earns trust honestly on replicated work, then cheats."""
    server.ctx.spot_check_rng = random.Random(20260101)  # the same run every time
    alice = await user_session(server, "alice")
    mallory = await sim_node(stubs, await user_session(server, "mallory"), "mallory-box")
    honest = [
        await sim_node(stubs, await user_session(server, name), f"{name}-box")
        for name in ("hana", "ivo")
    ]
    earning = await submit_job(stubs, alice, task_count=4, replicas=2)
    await run_job(stubs, alice, earning.job_id, [mallory, *honest])
    assert trust_of(db_file(server), mallory.node_id)["consecutive_valid"] >= 2
    mallory.output = wrong_output
    return alice, mallory, honest


async def cheat_until_caught(
    server: Any,
    stubs: Any,
    mallory: SimNode,
    honest: list,
    after_cheating: Callable[[], Awaitable[None]] | None = None,
) -> None:
    for _ in range(30):
        await work(stubs, mallory)
        if after_cheating is not None:
            await after_cheating()
        for sim in honest:
            await work(stubs, sim)
        if trust_of(db_file(server), mallory.node_id)["spot_checks_failed"]:
            return
    raise AssertionError("the cheat was never caught")


async def test_a_caught_node_gives_back_what_its_discarded_results_were_paid(
    server,
    user_session,
    stubs,
    cli,
):
    alice, mallory, honest = await trusted_cheat(server, user_session, stubs)
    grant = server.settings.signup_grant_ucpt
    job = await submit_job(stubs, alice, task_count=24)
    await cheat_until_caught(server, stubs, mallory, honest)

    paid = payouts_to(server, mallory.node_id, job.job_id)
    thrown_away = discarded(server, mallory.node_id, job.job_id)
    # Every result she was paid for in this job was unverified, so all of it is discarded...
    assert thrown_away and set(paid) == thrown_away
    # ...and taken back whole, once per attempt, in the ledger and in table clawbacks.
    assert clawbacks_of(server, job.job_id) == {a: (paid[a], paid[a], 0) for a in paid}
    assert clawback_entries(server, mallory.owner.user_id) == {a: -paid[a] for a in paid}

    detail = await run_job(stubs, alice, job.job_id, honest)
    assert detail.job.state == common_pb2.JOB_STATE_DONE
    assert_results_correct(detail)
    # The re-runs were done and paid to honest nodes.
    honest_ids = {s.node_id for s in honest}
    for attempt_id in thrown_away:
        (task_id,) = query(
            db_file(server), "SELECT task_id FROM attempts WHERE id = ?", attempt_id
        )[0]
        (node_id,) = query(
            db_file(server),
            "SELECT p.node_id FROM payouts p JOIN tasks t ON t.accepted_attempt_id = p.attempt_id"
            " WHERE t.id = ?",
            task_id,
        )[0]
        assert node_id in honest_ids
    # alice paid for honest work only: her cost is what honest nodes were paid in the job.
    honest_paid = sum(sum(payouts_to(server, s.node_id, job.job_id).values()) for s in honest)
    assert detail.job.cost_ucpt == honest_paid
    # Both her jobs have ended and refunded the rest: her balance shows what they cost.
    jobs_cost = query(
        db_file(server), "SELECT sum(cost_ucpt) FROM jobs WHERE owner_id = ?", alice.user_id
    )[0][0]
    assert holdings(server, alice.user_id) == grant - jobs_cost
    # mallory keeps what she earned honestly, nothing of this job.
    everything_paid = query(
        db_file(server),
        "SELECT sum(amount_ucpt) FROM payouts WHERE node_id = ?",
        mallory.node_id,
    )[0][0]
    assert holdings(server, mallory.owner.user_id) == grant + everything_paid - sum(paid.values())
    report = await server.ctx.db.run(audit.check_ledger)
    assert report.ok, report.problems

    # Her earnings count the clawback against the day.
    earnings = await stubs.account.GetEarnings(
        account_pb2.GetEarningsRequest(days=7), metadata=mallory.owner.metadata
    )
    assert earnings.today_ucpt == everything_paid - sum(paid.values())
    assert earnings.days[-1].amount_ucpt == earnings.today_ucpt

    # And her history says what was taken and why.
    login = await cli(
        "account", "login", "-u", "mallory", "--password-stdin", "--json",
        server=server, stdin=mallory.owner.password + "\n",
    )  # fmt: skip
    assert login.code == 0, login.stderr
    entries = (await cli("account", "history", "--json", server=server)).json()["entries"]
    taken = [e for e in entries if e["reason"] == "clawback"]
    assert {e["attempt_id"]: e["amount_ucpt"] for e in taken} == {a: -paid[a] for a in paid}
    for entry in taken:
        assert entry["counterparty"] == f"job {job.job_id}"
        assert entry["memo"].startswith("result of task ")
        assert entry["memo"].endswith(f" of job {job.job_id} discarded: {SPOT_CHECK_WHY}")
    human = await cli("account", "history", server=server)
    assert human.code == 0, human.stderr
    assert "clawback" in human.stdout


async def test_a_cheat_who_moved_the_money_away_gives_back_what_is_left(
    server, user_session, stubs
):
    alice, mallory, honest = await trusted_cheat(server, user_session, stubs)
    accomplice = await user_session(server, "trudy")
    # Money mallory holds in escrow for her own job (which no node here can run) is not hers
    # to give back: it pays for work others do for her.
    own = await submit_job(
        stubs,
        mallory.owner,
        task_count=1,
        resources=common_pb2.Resources(cores=32, memory_mb=64, timeout_s=60),
    )
    own_escrow = (
        await stubs.account.GetBalance(
            account_pb2.GetBalanceRequest(), metadata=mallory.owner.metadata
        )
    ).escrow_ucpt
    assert own_escrow > 0
    kept = 10  # less than any one payout here (about 30 ucpt: a second of one core)

    async def cash_out() -> None:
        left = balance(server, mallory.owner.user_id)
        if left > kept:
            await stubs.account.Transfer(
                account_pb2.TransferRequest(to_username="trudy", amount_ucpt=left - kept),
                metadata=mallory.owner.metadata,
            )

    job = await submit_job(stubs, alice, task_count=24)
    await cheat_until_caught(server, stubs, mallory, honest, cash_out)

    paid = payouts_to(server, mallory.node_id, job.job_id)
    clawed = clawbacks_of(server, job.job_id)
    assert set(clawed) == set(paid) and set(paid) == discarded(server, mallory.node_id, job.job_id)
    assert all(p == paid[a] and t + s == p for a, (p, t, s) in clawed.items())
    taken = sum(t for _, t, _ in clawed.values())
    shortfall = sum(s for _, _, s in clawed.values())
    assert sum(paid.values()) > kept
    assert taken == kept and shortfall == sum(paid.values()) - kept
    assert balance(server, mallory.owner.user_id) == 0
    still_held = await stubs.account.GetBalance(
        account_pb2.GetBalanceRequest(), metadata=mallory.owner.metadata
    )
    assert still_held.escrow_ucpt == own_escrow
    assert (await job_detail(stubs, mallory.owner, own.job_id)).job.cost_ucpt == 0

    detail = await run_job(stubs, alice, job.job_id, honest)
    assert_results_correct(detail)
    honest_paid = sum(sum(payouts_to(server, s.node_id, job.job_id).values()) for s in honest)
    # The shortfall is the one thing the submitter still pays for the cheat.
    assert detail.job.cost_ucpt == honest_paid + shortfall
    assert balance(server, accomplice.user_id) > 0
    report = await server.ctx.db.run(audit.check_ledger)
    assert report.ok, report.problems


async def test_a_ban_takes_back_once_however_often_the_node_is_caught(
    server, user_session, stubs, grpc_channel
):
    root = await user_session(server, "root", admin=True)
    alice = await user_session(server, "alice")
    bad = await sim_node(stubs, await user_session(server, "bob"), "bob-box", wrong_output)
    grant = server.settings.signup_grant_ucpt
    # Alone on the network, the bad node's results are taken unverified and paid.
    job = await submit_job(stubs, alice, task_count=4, max_cost_ucpt=5 * CPT)
    for _ in range(3):
        await work(stubs, bad)
    paid = payouts_to(server, bad.node_id, job.job_id)
    assert len(paid) == 3
    assert holdings(server, bad.owner.user_id) == grant + sum(paid.values())

    admin_stub = admin_pb2_grpc.AdminServiceStub(grpc_channel)
    for _ in range(2):  # banned twice
        await admin_stub.BanNode(
            admin_pb2.BanNodeRequest(node_id=bad.node_id, reason="wrong results"),
            metadata=root.metadata,
        )
    # And caught by a spot check as well, later.
    again = await server.ctx.db.run(
        lambda conn: distrust_node_results(
            conn,
            [bad.node_id],
            SPOT_CHECK_WHY,
            EscrowTracker(conn, []),
            server.settings,
            time.time(),
        )
    )
    assert (again.rerun, again.clawed_back_ucpt) == (0, 0)

    assert clawback_entries(server, bad.owner.user_id) == {a: -paid[a] for a in paid}
    assert clawbacks_of(server, job.job_id) == {a: (paid[a], paid[a], 0) for a in paid}
    memos = query(db_file(server), "SELECT memo FROM clawbacks WHERE job_id = ?", job.job_id)
    assert all(m.endswith("discarded: its node was banned") for (m,) in memos)
    assert holdings(server, bad.owner.user_id) == grant

    honest = [
        await sim_node(stubs, await user_session(server, name), f"{name}-box")
        for name in ("carol", "dave")
    ]
    detail = await run_job(stubs, alice, job.job_id, honest)
    assert_results_correct(detail)
    honest_paid = sum(sum(payouts_to(server, s.node_id, job.job_id).values()) for s in honest)
    assert detail.job.cost_ucpt == honest_paid
    assert holdings(server, alice.user_id) == grant - honest_paid
    report = await server.ctx.db.run(audit.check_ledger)
    assert report.ok, report.problems
