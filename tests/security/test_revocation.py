"""A role change, a ban or a password change revokes the user's tokens at once: the role that
counts is the current one, never the one a token was issued with (server/accounts/
revocation.py). Against real servers: one, and two replicas on one database (also on
PostgreSQL with --db=postgres).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import grpc
import pytest
from sqlalchemy import func, select

from proto.hivemind.v1 import (
    account_pb2,
    account_pb2_grpc,
    admin_pb2,
    admin_pb2_grpc,
    auth_pb2,
    auth_pb2_grpc,
)
from server.accounts import users
from server.ledger import audit
from server.store.schema import ledger_transactions
from tests.kit.accounts import PASSWORD as DEFAULT_PASSWORD
from tests.kit.admin import admin_json
from tests.kit.stubs import Stubs, heartbeat, register_node, rpc_error
from tests.server.test_signup_limits_shared import replica_of

# Also on PostgreSQL (--db=postgres): every replica shares what the database holds.
pytestmark = pytest.mark.db

CPT = 1_000_000


def admin_stub(channel: grpc.aio.Channel) -> admin_pb2_grpc.AdminServiceStub:
    return admin_pb2_grpc.AdminServiceStub(channel)


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


async def mint(channel: grpc.aio.Channel, metadata, to: str) -> grpc.StatusCode:
    """What the server says to a Grant of 1000 CPT: OK or the code it refused it with."""
    try:
        await admin_stub(channel).Grant(
            admin_pb2.GrantRequest(username=to, amount_ucpt=1000 * CPT, memo="free money"),
            metadata=metadata,
        )
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


def admin_grants(server) -> int:
    return server.ctx.db.transaction_sync(
        lambda conn: conn.execute(
            select(func.count())
            .select_from(ledger_transactions)
            .where(ledger_transactions.c.memo == "free money")
        ).scalar()
    )


async def test_a_demoted_admin_cannot_mint_or_promote_itself(server, user_session, grpc_channel):
    root = await user_session(server, "root", admin=True)
    mallory = await user_session(server, "mallory", admin=True)
    assert await mint(grpc_channel, mallory.metadata, "mallory") == grpc.StatusCode.OK

    await admin_stub(grpc_channel).SetAdmin(
        admin_pb2.SetAdminRequest(username="mallory", is_admin=False), metadata=root.metadata
    )
    # Her token, still within its lifetime, is revoked at once.
    assert await mint(grpc_channel, mallory.metadata, "mallory") == grpc.StatusCode.UNAUTHENTICATED
    stubs = Stubs(grpc_channel)
    revoked = await rpc_error(
        stubs.account.GetBalance(account_pb2.GetBalanceRequest(), metadata=mallory.metadata)
    )
    assert revoked.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "revoked" in revoked.details()
    # Her client refreshes silently: she is signed in, as a plain user.
    auth = auth_pb2_grpc.AuthServiceStub(grpc_channel)
    fresh = await auth.Refresh(auth_pb2.RefreshRequest(refresh_token=mallory.refresh_token))
    assert fresh.user.is_admin is False
    assert await mint(grpc_channel, bearer(fresh.access_token), "mallory") == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    promote = await rpc_error(
        admin_stub(grpc_channel).SetAdmin(
            admin_pb2.SetAdminRequest(username="mallory", is_admin=True),
            metadata=bearer(fresh.access_token),
        )
    )
    assert promote.code() == grpc.StatusCode.PERMISSION_DENIED
    assert await stubs.account.GetBalance(
        account_pb2.GetBalanceRequest(), metadata=bearer(fresh.access_token)
    )
    assert admin_grants(server) == 1  # only the grant made while she was an admin
    assert server.ctx.db.transaction_sync(audit.check_ledger).ok


async def test_a_replica_and_the_admin_cli_revoke_on_every_server(
    make_server, user_session, tmp_path
):
    # A long cache on purpose: admin calls must not depend on it.
    first = await make_server(user_state_cache_s=60)
    data_dir = Path(first.settings.data_dir)
    replica_of(data_dir, tmp_path / "replica", user_state_cache_s=1)
    second = await make_server(data_dir=tmp_path / "replica")
    root = await user_session(first, "root", admin=True)
    mallory = await user_session(first, "mallory", admin=True)
    async with (
        grpc.aio.insecure_channel(first.address) as one,
        grpc.aio.insecure_channel(second.address) as two,
    ):
        # Both servers have seen her as an admin (and cached it).
        for channel in (one, two):
            assert await mint(channel, mallory.metadata, "mallory") == grpc.StatusCode.OK
            assert await account_pb2_grpc.AccountServiceStub(channel).GetBalance(
                account_pb2.GetBalanceRequest(), metadata=mallory.metadata
            )
        # Demoted through the replica: the first server refuses her admin calls at once.
        await admin_stub(two).SetAdmin(
            admin_pb2.SetAdminRequest(username="mallory", is_admin=False), metadata=root.metadata
        )
        assert await mint(one, mallory.metadata, "mallory") == grpc.StatusCode.UNAUTHENTICATED
        assert await mint(two, mallory.metadata, "mallory") == grpc.StatusCode.UNAUTHENTICATED

        # The admin CLI (another process) bans root: every call of his is refused by the
        # replica within its cache time (1 s), admin calls at once by both servers.
        admin_json(data_dir, "ban-user", "root", "--reason", "stolen laptop")
        assert await mint(one, root.metadata, "root") == grpc.StatusCode.PERMISSION_DENIED
        assert await mint(two, root.metadata, "root") == grpc.StatusCode.PERMISSION_DENIED
        banned_at = time.monotonic()
        balance = account_pb2_grpc.AccountServiceStub(two).GetBalance
        while True:
            try:
                await balance(account_pb2.GetBalanceRequest(), metadata=root.metadata)
            except grpc.aio.AioRpcError as error:
                assert error.code() == grpc.StatusCode.PERMISSION_DENIED
                assert error.details() == "this account is banned: stolen laptop"
                break
            assert time.monotonic() - banned_at < 1.5, "the replica kept taking the token"
            await asyncio.sleep(0.05)
    assert admin_grants(first) == 2


async def test_a_banned_user_is_refused_everywhere_and_may_come_back(
    server, user_session, grpc_channel
):
    bob = await user_session(server, "bob")
    stubs = Stubs(grpc_channel)
    node = await register_node(stubs, bob.metadata, "bob-box")
    node_id, secret = node.metadata[0][1].removeprefix("Node ").split(".")
    assert await heartbeat(server.address, node_id, secret) == grpc.StatusCode.OK

    # Banned on the running server (as the dashboard's admin page does): at once.
    await users.ban_user(server.ctx, "bob", True, "sybil farm")
    refused = await rpc_error(
        stubs.account.GetBalance(account_pb2.GetBalanceRequest(), metadata=bob.metadata)
    )
    assert (refused.code(), refused.details()) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "this account is banned: sybil farm",
    )
    assert await heartbeat(server.address, node_id, secret) == grpc.StatusCode.PERMISSION_DENIED
    auth = auth_pb2_grpc.AuthServiceStub(grpc_channel)
    no_refresh = await rpc_error(
        auth.Refresh(auth_pb2.RefreshRequest(refresh_token=bob.refresh_token))
    )
    assert no_refresh.code() == grpc.StatusCode.UNAUTHENTICATED
    # Only whoever knows the password learns of the ban; a guesser learns nothing.
    wrong = await rpc_error(auth.Login(auth_pb2.LoginRequest(username="bob", password="x" * 8)))
    assert wrong.details() == "wrong username or password"
    right = await rpc_error(
        auth.Login(auth_pb2.LoginRequest(username="bob", password=DEFAULT_PASSWORD))
    )
    assert (right.code(), right.details()) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "this account is banned: sybil farm",
    )

    await users.ban_user(server.ctx, "bob", False)
    again = await auth.Login(auth_pb2.LoginRequest(username="bob", password=DEFAULT_PASSWORD))
    assert await stubs.account.GetBalance(
        account_pb2.GetBalanceRequest(), metadata=bearer(again.access_token)
    )
    assert await heartbeat(server.address, node_id, secret) == grpc.StatusCode.OK
    # The tokens from before the ban stay dead.
    stale = await rpc_error(
        stubs.account.GetBalance(account_pb2.GetBalanceRequest(), metadata=bob.metadata)
    )
    assert stale.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_password_change_revokes_every_token_at_once(server, user_session, grpc_channel):
    carol = await user_session(server, "carol")
    laptop = await auth_pb2_grpc.AuthServiceStub(grpc_channel).Login(
        auth_pb2.LoginRequest(username="carol", password=DEFAULT_PASSWORD)
    )
    auth = auth_pb2_grpc.AuthServiceStub(grpc_channel)
    await auth.ChangePassword(
        auth_pb2.ChangePasswordRequest(old_password=DEFAULT_PASSWORD, new_password="n3w-secret!"),
        metadata=carol.metadata,
    )
    for token, refresh_token in (
        (carol.access_token, carol.refresh_token),
        (laptop.access_token, laptop.refresh_token),
    ):
        me = await rpc_error(auth.WhoAmI(auth_pb2.WhoAmIRequest(), metadata=bearer(token)))
        assert me.code() == grpc.StatusCode.UNAUTHENTICATED
        again = await rpc_error(auth.Refresh(auth_pb2.RefreshRequest(refresh_token=refresh_token)))
        assert again.code() == grpc.StatusCode.UNAUTHENTICATED
    fresh = await auth.Login(auth_pb2.LoginRequest(username="carol", password="n3w-secret!"))
    assert (
        await auth.WhoAmI(auth_pb2.WhoAmIRequest(), metadata=bearer(fresh.access_token))
    ).username == "carol"
