"""AccountService and AdminService against a real server: balances, transfers, history,
earnings, and the admin role."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from sqlalchemy import insert, select

from proto.hivemind.v1 import (
    account_pb2,
    account_pb2_grpc,
    admin_pb2,
    admin_pb2_grpc,
    auth_pb2,
    auth_pb2_grpc,
    common_pb2,
)
from server.ledger import journal as ledger
from server.store.schema import jobs, payouts, users
from tests.kit.stubs import Stubs, lease, make_package, register_node, submit, upload

pytestmark = pytest.mark.db

CPT = 1_000_000
SIGNUP = 100 * CPT


async def rpc_error(call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


@pytest.fixture
def account(grpc_channel) -> account_pb2_grpc.AccountServiceStub:
    return account_pb2_grpc.AccountServiceStub(grpc_channel)


@pytest.fixture
def admin_api(grpc_channel) -> admin_pb2_grpc.AdminServiceStub:
    return admin_pb2_grpc.AdminServiceStub(grpc_channel)


async def balance_of(account, session) -> int:
    """The user's CPT (starter credit apart)."""
    reply = await account.GetBalance(account_pb2.GetBalanceRequest(), metadata=session.metadata)
    return reply.balance_ucpt


def give_cpt(server, *sessions, amount: int = SIGNUP) -> None:
    """CPT for each user, as an admin grants it (sign-ups bring starter credit only)."""
    for session in sessions:
        server.ctx.db.transaction_sync(
            ledger.grant,
            session.user_id,
            amount,
            idempotency_key=f"test-cpt:{session.user_id}",
            memo="admin grant",
        )


async def test_signup_grant_shows_in_balance_and_history(account, server, user_session):
    alice = await user_session(server, "alice")
    reply = await account.GetBalance(account_pb2.GetBalanceRequest(), metadata=alice.metadata)
    assert (reply.balance_ucpt, reply.starter_ucpt) == (0, SIGNUP)  # starter credit, not CPT
    history = await account.ListHistory(account_pb2.ListHistoryRequest(), metadata=alice.metadata)
    [entry] = history.entries
    assert (entry.reason, entry.amount_ucpt, entry.counterparty) == ("grant", SIGNUP, "system")
    assert (entry.account, entry.memo, entry.balance_after_ucpt) == (
        "starter",
        "starter credit",
        SIGNUP,
    )


async def test_transfer_moves_money_once_per_key(account, server, user_session):
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    give_cpt(server, alice, bob)
    request = account_pb2.TransferRequest(
        to_username="BOB", amount_ucpt=2_500_000, idempotency_key="rent-may", memo="rent"
    )
    first = await account.Transfer(request, metadata=alice.metadata)
    again = await account.Transfer(request, metadata=alice.metadata)
    assert first.tx_id == again.tx_id
    assert first.balance_ucpt == again.balance_ucpt == SIGNUP - 2_500_000
    assert await balance_of(account, bob) == SIGNUP + 2_500_000

    # Reusing the key for another amount is refused rather than silently ignored.
    changed = await rpc_error(
        account.Transfer(
            account_pb2.TransferRequest(
                to_username="bob", amount_ucpt=1, idempotency_key="rent-may"
            ),
            metadata=alice.metadata,
        )
    )
    assert changed.code() == grpc.StatusCode.FAILED_PRECONDITION

    sent = await account.ListHistory(account_pb2.ListHistoryRequest(), metadata=alice.metadata)
    assert [(e.reason, e.amount_ucpt, e.counterparty, e.memo, e.account) for e in sent.entries] == [
        ("transfer", -2_500_000, "bob", "rent", "cpt"),
        ("grant", SIGNUP, "system", "admin grant", "cpt"),
        ("grant", SIGNUP, "system", "starter credit", "starter"),
    ]
    received = await account.ListHistory(account_pb2.ListHistoryRequest(), metadata=bob.metadata)
    assert (received.entries[0].amount_ucpt, received.entries[0].counterparty) == (
        2_500_000,
        "alice",
    )


async def test_history_pages_newest_first(account, server, user_session):
    alice = await user_session(server, "alice")
    await user_session(server, "bob")
    give_cpt(server, alice)
    for i in range(5):
        await account.Transfer(
            account_pb2.TransferRequest(to_username="bob", amount_ucpt=i + 1, memo=f"#{i}"),
            metadata=alice.metadata,
        )
    memos, token = [], ""
    while True:
        page = await account.ListHistory(
            account_pb2.ListHistoryRequest(
                page=common_pb2.PageRequest(page_size=2, page_token=token)
            ),
            metadata=alice.metadata,
        )
        assert len(page.entries) <= 2
        memos += [e.memo for e in page.entries]
        token = page.next_page_token
        if not token:
            break
    assert memos == ["#4", "#3", "#2", "#1", "#0", "admin grant", "starter credit"]
    bad = await rpc_error(
        account.ListHistory(
            account_pb2.ListHistoryRequest(page=common_pb2.PageRequest(page_token="@@nonsense")),
            metadata=alice.metadata,
        )
    )
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize(
    ("to", "amount", "code", "message"),
    [
        ("bob", 101 * CPT, grpc.StatusCode.FAILED_PRECONDITION, "needs 101 CPT, you have 100 CPT"),
        ("bob", 0, grpc.StatusCode.INVALID_ARGUMENT, "positive"),
        ("bob", -5, grpc.StatusCode.INVALID_ARGUMENT, "positive"),
        ("alice", 1, grpc.StatusCode.INVALID_ARGUMENT, "yourself"),
        ("zed", 1, grpc.StatusCode.NOT_FOUND, "no user named 'zed'"),
    ],
)
async def test_bad_transfers_change_nothing(
    account, server, user_session, to, amount, code, message
):
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    give_cpt(server, alice, bob)
    error = await rpc_error(
        account.Transfer(
            account_pb2.TransferRequest(to_username=to, amount_ucpt=amount),
            metadata=alice.metadata,
        )
    )
    assert error.code() == code
    assert message in error.details()
    assert await balance_of(account, alice) == await balance_of(account, bob) == SIGNUP
    history = await account.ListHistory(account_pb2.ListHistoryRequest(), metadata=alice.metadata)
    assert len(history.entries) == 2  # the two grants: starter credit and CPT
    assert server.ctx.db.transaction_sync(ledger.check) == []


def _add_job_with_escrow(server, owner_id: str, amount: int) -> str:
    job_id = "job-test00000000000000001"

    def create(conn):
        escrow = ledger.escrow_account_id(conn, job_id)
        now = time.time()
        conn.execute(
            insert(jobs).values(
                id=job_id,
                owner_id=owner_id,
                name="j",
                state="pending",
                runtime="python-3.11",
                command_json="[]",
                package_digest="0" * 64,
                cores=1,
                memory_mb=64,
                disk_mb=64,
                timeout_s=60,
                max_attempts=3,
                max_cost_ucpt=amount,
                escrow_account_id=escrow,
                tasks_total=1,
                created_at=now,
                updated_at=now,
            )
        )
        ledger.post(
            conn,
            idempotency_key=f"escrow:{job_id}",
            reason="escrow",
            entries=[(ledger.user_account_id(conn, owner_id), -amount), (escrow, amount)],
            job_id=job_id,
        )

    server.ctx.db.transaction_sync(create)
    return job_id


async def test_balance_shows_escrow_of_unfinished_jobs(account, server, user_session):
    alice = await user_session(server, "alice")
    give_cpt(server, alice)
    job_id = _add_job_with_escrow(server, alice.user_id, 7 * CPT)
    reply = await account.GetBalance(account_pb2.GetBalanceRequest(), metadata=alice.metadata)
    assert (reply.balance_ucpt, reply.escrow_ucpt) == (93 * CPT, 7 * CPT)
    assert (reply.starter_ucpt, reply.starter_escrow_ucpt) == (SIGNUP, 0)
    history = await account.ListHistory(account_pb2.ListHistoryRequest(), metadata=alice.metadata)
    assert (history.entries[0].counterparty, history.entries[0].job_id) == (f"job {job_id}", job_id)


def _pay(server, user_id: str, amount: int, when: float, attempt: str) -> None:
    server.ctx.db.transaction_sync(
        lambda conn: conn.execute(
            insert(payouts).values(
                attempt_id=attempt,
                tx_id=f"tx-{attempt}",
                job_id="job-x",
                node_id="node-x",
                user_id=user_id,
                core_ms=3_600_000,
                base_ucpt=amount,
                bonus_ucpt=0,
                amount_ucpt=amount,
                created_at=when,
            )
        )
    )


async def test_earnings_per_utc_day_with_zero_days(account, server, user_session):
    alice = await user_session(server, "alice")
    now = time.time()
    today = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    _pay(server, alice.user_id, 3 * CPT, today.timestamp() + 1, "a1")
    _pay(server, alice.user_id, 2 * CPT, today.timestamp() + 2, "a2")
    _pay(server, alice.user_id, 5 * CPT, (today - timedelta(days=3)).timestamp() + 10, "a3")
    _pay(server, alice.user_id, 11 * CPT, (today - timedelta(days=20)).timestamp(), "a4")
    _pay(server, alice.user_id, 99 * CPT, (today - timedelta(days=40)).timestamp(), "a5")

    reply = await account.GetEarnings(
        account_pb2.GetEarningsRequest(days=7), metadata=alice.metadata
    )
    assert len(reply.days) == 7
    assert reply.days[-1].day == today.strftime("%Y-%m-%d")
    assert [(d.amount_ucpt, d.payouts) for d in reply.days] == [
        (0, 0),
        (0, 0),
        (0, 0),
        (5 * CPT, 1),
        (0, 0),
        (0, 0),
        (5 * CPT, 2),
    ]
    assert (reply.today_ucpt, reply.week_ucpt, reply.month_ucpt) == (5 * CPT, 10 * CPT, 21 * CPT)
    assert [p.attempt_id for p in reply.payouts] == ["a2", "a1", "a3", "a4", "a5"]

    default = await account.GetEarnings(account_pb2.GetEarningsRequest(), metadata=alice.metadata)
    assert len(default.days) == 30
    bob = await user_session(server, "bob")
    empty = await account.GetEarnings(account_pb2.GetEarningsRequest(), metadata=bob.metadata)
    assert empty.month_ucpt == 0 and not empty.payouts


async def test_rates_come_from_settings(account, server, user_session):
    alice = await user_session(server, "alice")
    rates = await account.GetRates(account_pb2.GetRatesRequest(), metadata=alice.metadata)
    assert rates.base_ucpt_per_core_hour == server.settings.base_ucpt_per_core_hour
    assert rates.signup_grant_ucpt == SIGNUP


async def test_admin_rpcs_need_the_admin_role(admin_api, server, user_session):
    alice = await user_session(server, "alice")
    calls = [
        admin_api.ListUsers(admin_pb2.ListUsersRequest(), metadata=alice.metadata),
        admin_api.Grant(
            admin_pb2.GrantRequest(username="alice", amount_ucpt=CPT), metadata=alice.metadata
        ),
        admin_api.SetAdmin(
            admin_pb2.SetAdminRequest(username="alice", is_admin=True), metadata=alice.metadata
        ),
        admin_api.ListNodes(admin_pb2.ListNodesRequest(), metadata=alice.metadata),
        admin_api.BanNode(admin_pb2.BanNodeRequest(node_id="node-x"), metadata=alice.metadata),
        admin_api.ListRuntimes(admin_pb2.ListRuntimesRequest(), metadata=alice.metadata),
        admin_api.AddRuntime(
            admin_pb2.AddRuntimeRequest(name="evil", image="evil:latest"), metadata=alice.metadata
        ),
        admin_api.GetStats(admin_pb2.GetStatsRequest(), metadata=alice.metadata),
    ]
    for call in calls:
        error = await rpc_error(call)
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "admin role" in error.details()
    # Nothing changed: no grant, no new runtime, alice is no admin.
    assert server.ctx.db.transaction_sync(ledger.total_granted) == SIGNUP
    assert not server.ctx.db.transaction_sync(
        lambda c: c.execute(select(users.c.is_admin).where(users.c.username == "alice")).scalar()
    )


async def test_admin_grants_manages_roles_runtimes_and_sees_stats(
    admin_api, grpc_channel, server, user_session
):
    root = await user_session(server, "root", admin=True)
    alice = await user_session(server, "alice")
    granted = await admin_api.Grant(
        admin_pb2.GrantRequest(username="alice", amount_ucpt=5 * CPT, idempotency_key="g1"),
        metadata=root.metadata,
    )
    again = await admin_api.Grant(
        admin_pb2.GrantRequest(username="alice", amount_ucpt=5 * CPT, idempotency_key="g1"),
        metadata=root.metadata,
    )
    assert granted.tx_id == again.tx_id and again.balance_ucpt == 5 * CPT  # CPT, not starter

    listed = await admin_api.ListUsers(
        admin_pb2.ListUsersRequest(page=common_pb2.PageRequest(page_size=1)),
        metadata=root.metadata,
    )
    assert [u.user.username for u in listed.users] == ["alice"]
    rest = await admin_api.ListUsers(
        admin_pb2.ListUsersRequest(
            page=common_pb2.PageRequest(page_size=1, page_token=listed.next_page_token)
        ),
        metadata=root.metadata,
    )
    assert [(u.user.username, u.user.is_admin) for u in rest.users] == [("root", True)]
    assert not rest.next_page_token

    runtimes = await admin_api.ListRuntimes(admin_pb2.ListRuntimesRequest(), metadata=root.metadata)
    assert [(r.name, r.image) for r in runtimes.runtimes] == [
        ("python-3.11", "hivemind/python:3.11")
    ]
    await admin_api.AddRuntime(
        admin_pb2.AddRuntimeRequest(name="python-3.12", image="hivemind/python:3.12"),
        metadata=root.metadata,
    )
    bad = await rpc_error(
        admin_api.AddRuntime(
            admin_pb2.AddRuntimeRequest(name="Bad Name", image="x"), metadata=root.metadata
        )
    )
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT

    stats = await admin_api.GetStats(admin_pb2.GetStatsRequest(), metadata=root.metadata)
    assert stats.users == 2
    assert stats.total_granted_ucpt == stats.total_in_accounts_ucpt == 2 * SIGNUP + 5 * CPT

    # The role applies at once; her client refreshes and gets a token that says so.
    await admin_api.SetAdmin(
        admin_pb2.SetAdminRequest(username="alice", is_admin=True), metadata=root.metadata
    )
    fresh = await auth_pb2_grpc.AuthServiceStub(grpc_channel).Refresh(
        auth_pb2.RefreshRequest(refresh_token=alice.refresh_token)
    )
    assert fresh.user.is_admin
    assert await admin_api.GetStats(
        admin_pb2.GetStatsRequest(),
        metadata=(("authorization", f"Bearer {fresh.access_token}"),),
    )
    own = await rpc_error(
        admin_api.SetAdmin(
            admin_pb2.SetAdminRequest(username="root", is_admin=False), metadata=root.metadata
        )
    )
    assert own.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_banning_a_node_refuses_it_and_frees_its_tasks(grpc_channel, server, user_session):
    root = await user_session(server, "root", admin=True)
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    carol = await user_session(server, "carol")
    stubs = Stubs(grpc_channel)
    package = await upload(stubs, alice.metadata, make_package())
    job = await submit(stubs, alice.metadata, package.digest, task_count=1)
    bad_node = await register_node(stubs, bob.metadata, name="bad")
    good_node = await register_node(stubs, carol.metadata, name="good")
    [taken] = await lease(stubs, bad_node)
    assert taken.job_id == job.job_id
    assert await lease(stubs, good_node) == []  # the only task is out

    admin_api = admin_pb2_grpc.AdminServiceStub(grpc_channel)
    banned = await admin_api.BanNode(
        admin_pb2.BanNodeRequest(node_id=bad_node.node_id, reason="wrong results"),
        metadata=root.metadata,
    )
    assert banned.banned and not banned.online

    refused = await rpc_error(lease(stubs, bad_node))
    assert refused.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "banned: wrong results" in refused.details()
    [retaken] = await lease(stubs, good_node)
    assert retaken.task_id == taken.task_id

    nodes = await admin_api.ListNodes(admin_pb2.ListNodesRequest(), metadata=root.metadata)
    by_name = {n.name: n for n in nodes.nodes}
    assert by_name["bad"].banned and by_name["bad"].owner == "bob"
    assert (by_name["good"].running, by_name["good"].cores) == (1, 8)
    missing = await rpc_error(
        admin_api.BanNode(admin_pb2.BanNodeRequest(node_id="node-nope"), metadata=root.metadata)
    )
    assert missing.code() == grpc.StatusCode.NOT_FOUND
