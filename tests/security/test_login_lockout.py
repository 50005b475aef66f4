"""Password guessing in a burst: the lockout counts each attempt and sets the lock in one
atomic step before any password is checked, so a burst of simultaneous guesses gets no more
tries than guesses made one by one (server/accounts/users.py `claim_login_attempt`).

With --db=postgres they run again on PostgreSQL, where the two-server
test is two replicas on one database.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import grpc
import pytest
from sqlalchemy import select

from proto.hivemind.v1 import auth_pb2, auth_pb2_grpc
from server.accounts.users import FREE_FAILURES, WRONG_LOGIN
from server.store.schema import users
from tests.kit.accounts import PASSWORD as DEFAULT_PASSWORD
from tests.server.test_signup_limits_shared import replica_of

GUESSES = 30
LOCKED = grpc.StatusCode.RESOURCE_EXHAUSTED

# Also on PostgreSQL (--db=postgres): two replicas on one database share the count and lock.
pytestmark = pytest.mark.db


async def login(stub: auth_pb2_grpc.AuthServiceStub, name: str, password: str) -> str:
    """ "ok", "wrong" or "locked": what the caller of Login learns."""
    try:
        await stub.Login(auth_pb2.LoginRequest(username=name, password=password))
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.UNAUTHENTICATED:
            assert error.details() == WRONG_LOGIN
            return "wrong"
        assert error.code() == LOCKED, error.details()
        assert error.details().startswith("too many failed logins; try again in ")
        return "locked"
    return "ok"


def failed_logins(server, name: str) -> int:
    return server.ctx.db.transaction_sync(
        lambda conn: conn.execute(
            select(users.c.failed_logins).where(users.c.username == name)
        ).scalar()
    )


def locked(server, name: str) -> bool:
    until = server.ctx.db.transaction_sync(
        lambda conn: conn.execute(
            select(users.c.locked_until).where(users.c.username == name)
        ).scalar()
    )
    return until > time.time()


# What any burst of wrong guesses gets: FREE_FAILURES are checked, the last of them locks the
# name (and says so), every other guess is refused unchecked.
EXPECTED = Counter({"wrong": FREE_FAILURES - 1, "locked": GUESSES - FREE_FAILURES + 1})


async def test_a_burst_of_guesses_gets_no_more_tries_than_guesses_one_by_one(
    server, user_session, grpc_channel
):
    await user_session(server, "victim")
    stub = auth_pb2_grpc.AuthServiceStub(grpc_channel)
    # 30 wrong guesses at once, and the right password last, while they are still being
    # checked: sent once the lock is in the database (calls racing on one channel may be
    # taken in any order, so "sent last" is made sure of this way).
    burst = [asyncio.ensure_future(login(stub, "victim", f"guess-{i:04d}")) for i in range(GUESSES)]
    while not locked(server, "victim"):
        await asyncio.sleep(0.005)
    right = await login(stub, "victim", DEFAULT_PASSWORD)
    assert right == "locked"  # the right one came too late: the name was locked
    assert Counter(await asyncio.gather(*burst)) == EXPECTED
    assert failed_logins(server, "victim") == FREE_FAILURES  # checked: five, not thirty

    # A name without an account answers a burst exactly the same way.
    ghost = await asyncio.gather(*(login(stub, "ghost", f"x-{i:06d}") for i in range(GUESSES)))
    assert Counter(ghost) == EXPECTED


async def test_two_servers_on_one_database_share_the_count_and_the_lock(
    make_server, user_session, tmp_path
):
    first = await make_server()
    replica_of(Path(first.settings.data_dir), tmp_path / "replica")
    second = await make_server(data_dir=tmp_path / "replica")
    await user_session(first, "victim")
    async with (
        grpc.aio.insecure_channel(first.address) as one,
        grpc.aio.insecure_channel(second.address) as two,
    ):
        stubs = [auth_pb2_grpc.AuthServiceStub(one), auth_pb2_grpc.AuthServiceStub(two)]
        # Half the burst on each server: each would allow five if it counted alone.
        burst = [
            asyncio.ensure_future(login(stubs[i % 2], "victim", f"guess-{i:04d}"))
            for i in range(GUESSES)
        ]
        for answer in asyncio.as_completed(burst):
            if await answer == "locked":
                break
        # Locked by one server: the right password is refused by the other as well.
        assert await login(stubs[1], "victim", DEFAULT_PASSWORD) == "locked"
        assert await login(stubs[0], "victim", DEFAULT_PASSWORD) == "locked"
        outcomes = await asyncio.gather(*burst)
    assert Counter(outcomes) == EXPECTED
    assert failed_logins(first, "victim") == FREE_FAILURES
