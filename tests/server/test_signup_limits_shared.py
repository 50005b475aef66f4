"""The sign-up limit counts in the database (server/accounts/signup_limits.py): two servers on
one database together open only the cap of accounts per address, a restarted server still
counts the last hour, the refusal says how long to wait, and a database of revision 0002
upgrades to the signups table with its rows kept.

With --db=postgres these run again with the servers of each test on one fresh PostgreSQL
database; on SQLite they share one SQLite file.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import shutil
import time
from pathlib import Path

import grpc
import pytest
from sqlalchemy import func, inspect, select, update

from proto.hivemind.v1 import auth_pb2, auth_pb2_grpc
from server.accounts import users
from server.accounts.signing import load_or_create_key
from server.accounts.signup_limits import SignupAddress
from server.errors import ResourceExhausted
from server.store import migrate
from server.store.db import Database, sqlite_url
from server.store.schema import ledger_transactions, signups
from server.store.schema import users as users_table
from tests.kit.accounts import PASSWORD
from tests.kit.postgres import database_url_of
from tests.kit.stubs import rpc_error
from tests.server.migrationkit import HEAD, ROW_COUNTS_0001, count_rows, insert_0001_rows

pytestmark = pytest.mark.db

REFUSED = re.compile(r"too many new accounts from your network; try again in (\d+) s")


async def register(address: str, username: str) -> auth_pb2.Session:
    async with grpc.aio.insecure_channel(address) as channel:
        return await auth_pb2_grpc.AuthServiceStub(channel).Register(
            auth_pb2.RegisterRequest(username=username, password=PASSWORD)
        )


async def refusal_wait(address: str, username: str) -> int:
    """The seconds a refused registration says to wait (fails unless it is refused so)."""
    error = await rpc_error(register(address, username))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, error.details()
    found = REFUSED.fullmatch(error.details())
    assert found, error.details()
    return int(found.group(1))


def assert_waits_for(wait: int, counted_since: float, window_left: float = 3600) -> None:
    """`wait` is when the sign-up that frees a place leaves the hour: that sign-up was made
    after `counted_since` with `window_left` seconds of the hour left then, and the refusal
    came before now (so no fixed slack that a slow machine could exceed)."""
    assert int(window_left - (time.time() - counted_since)) <= wait <= window_left


def server_toml(data_dir: Path, **settings: object) -> None:
    lines = "".join(f"{name} = {json.dumps(value)}\n" for name, value in settings.items())
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "server.toml").write_text("[server]\n" + lines)


def replica_of(first_dir: Path, replica_dir: Path, **settings: object) -> None:
    """A data dir for a second server on the first one's database, with its token.key (which
    servers sharing a database share, docs/ADMIN.md)."""
    url = database_url_of(first_dir) or sqlite_url(first_dir)
    server_toml(replica_dir, database_url=url, **settings)
    load_or_create_key(first_dir)
    shutil.copy2(first_dir / "token.key", replica_dir / "token.key")


def data_dir_database(data_dir: Path) -> Database:
    return Database.for_data_dir(data_dir, database_url_of(data_dir))


def signup_rows(db: Database) -> list[tuple[str, str, float]]:
    return db.transaction_sync(
        lambda conn: [
            (row.address_hash, row.user_id, row.created_at)
            for row in conn.execute(select(signups).order_by(signups.c.created_at))
        ]
    )


def usernames(db: Database) -> list[str]:
    return db.transaction_sync(
        lambda conn: sorted(conn.execute(select(users_table.c.username)).scalars())
    )


async def test_two_servers_on_one_database_together_allow_only_the_cap(
    make_server, server_process, tmp_path
):
    cap = 3
    first = await make_server(registrations_per_network_hour=cap)
    first_dir = Path(first.settings.data_dir)
    replica_of(first_dir, tmp_path / "replica", registrations_per_network_hour=cap)
    second = await server_process(data_dir=tmp_path / "replica")  # another process

    # Eight sign-ups at once, half on each server: each would pass a per-process limit.
    names = [f"user{i}" for i in range(8)]
    started = time.time()
    outcomes = await asyncio.gather(
        *(register([first, second][i % 2].address, name) for i, name in enumerate(names)),
        return_exceptions=True,
    )
    opened = sorted(o.user.username for o in outcomes if isinstance(o, auth_pb2.Session))
    refused = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(opened) == cap and len(refused) == len(names) - cap, outcomes
    for error in refused:
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert REFUSED.fullmatch(error.details()), error.details()
    # Later ones are refused by either server, and no more grants were minted.
    assert_waits_for(await refusal_wait(first.address, "late1"), started)
    assert_waits_for(await refusal_wait(second.address, "late2"), started)
    db = first.ctx.db
    assert usernames(db) == opened
    grants = db.transaction_sync(
        lambda conn: conn.execute(
            select(func.count())
            .select_from(ledger_transactions)
            .where(ledger_transactions.c.memo == "starter credit")
        ).scalar()
    )
    assert grants == cap

    # The table keeps a keyed hash of the network, the same on both servers: never the
    # address or network, nor their plain SHA-256 (all IPv4 /24s are hashed in seconds).
    rows = signup_rows(db)
    assert len(rows) == cap and len({address_hash for address_hash, _, _ in rows}) == 1
    address_hash = rows[0][0]
    assert re.fullmatch(r"[0-9a-f]{64}", address_hash)
    assert address_hash != hashlib.sha256(b"127.0.0.1").hexdigest()
    assert address_hash != hashlib.sha256(b"127.0.0.0/24").hexdigest()


async def test_a_restarted_server_still_counts_the_last_hour(server_process, tmp_path):
    data_dir = tmp_path / "data"
    # The setting's old name still works in server.toml.
    server_toml(data_dir, registrations_per_address_hour=2)
    proc = await server_process(data_dir=data_dir)
    started = time.time()
    await register(proc.address, "first")
    await register(proc.address, "second")
    await proc.kill()  # SIGKILL: nothing is written on the way out
    await proc.start()
    assert_waits_for(await refusal_wait(proc.address, "third"), started)
    db = data_dir_database(data_dir)
    try:
        assert usernames(db) == ["first", "second"]
    finally:
        db.close()


async def test_the_refusal_says_when_the_oldest_sign_up_leaves_the_hour(make_server):
    server = await make_server(registrations_per_network_hour=2)
    db = server.ctx.db

    def backdate(username: str, seconds: float) -> None:
        def move(conn) -> None:
            user_id = users.find_user(conn, username).user_id
            conn.execute(
                update(signups)
                .where(signups.c.user_id == user_id)
                .values(created_at=signups.c.created_at - seconds)
            )

        db.transaction_sync(move)

    started = time.time()
    await register(server.address, "early")
    backdate("early", 3000)  # opened 50 minutes ago: it counts for 10 more
    await register(server.address, "recent")
    assert_waits_for(await refusal_wait(server.address, "third"), started, 600)
    assert usernames(db) == ["early", "recent"]

    backdate("early", 700)  # now opened more than an hour ago: a place is free
    await register(server.address, "third")
    assert usernames(db) == ["early", "recent", "third"]  # accounts stay; counts expire
    remaining = [user_id for _, user_id, _ in signup_rows(db)]
    names = db.transaction_sync(lambda conn: [users.get_user(conn, u).username for u in remaining])
    assert names == ["recent", "third"]  # the expired sign-up was deleted on the way
    # "recent", made after `started`, is now the oldest counted: a full hour from then.
    assert_waits_for(await refusal_wait(server.address, "fourth"), started)


def test_a_lowered_cap_waits_for_the_sign_up_that_frees_a_place(tmp_path, server_database):
    server_database(tmp_path)
    db = data_dir_database(tmp_path)
    try:
        db.create_schema()
        now = time.time()

        def sign_up(conn, name: str, seconds_ago: float) -> None:
            user = users.insert_user(conn, name, "not a real hash")
            SignupAddress("a" * 64, 3).record(conn, user.user_id, now - seconds_ago)

        for name, seconds_ago in (("one", 3500), ("two", 3000), ("three", 1000)):
            db.transaction_sync(sign_up, name, seconds_ago)
        # Three sign-ups in the hour; the cap was lowered to 2: two must leave the hour.
        for per_hour, expected_wait in ((3, 100), (2, 600), (1, 2600)):
            refusal = db.transaction_sync(
                lambda conn, cap=per_hour: _refusal(SignupAddress("a" * 64, cap), conn, now)
            )
            assert refusal == (
                f"too many new accounts from your network; try again in {expected_wait} s"
            )
        # Another address, and the limit turned off, are not refused.
        assert db.transaction_sync(lambda conn: _refusal(SignupAddress("b" * 64, 1), conn, now))
        assert db.transaction_sync(lambda conn: _refusal(SignupAddress("a" * 64, 0), conn, now))
    finally:
        db.close()


def _refusal(limit: SignupAddress, conn, now: float) -> str:
    try:
        limit.check(conn, now)
    except ResourceExhausted as refused:
        return str(refused)
    return "admitted"


async def test_a_limit_of_zero_counts_nothing(make_server):
    server = await make_server(registrations_per_network_hour=0)
    for name in ("one", "two", "three"):
        await register(server.address, name)
    assert usernames(server.ctx.db) == ["one", "three", "two"]
    assert signup_rows(server.ctx.db) == []  # no address kept when nothing is limited


async def test_a_0002_database_upgrades_to_the_signups_table_with_its_rows(
    make_server, server_database, tmp_path
):
    data_dir = tmp_path / "data"
    server_database(data_dir)
    db = data_dir_database(data_dir)
    try:
        migrate.migrate_to(db, "0001")
        db.transaction_sync(insert_0001_rows)
        migrate.migrate_to(db, "0002")
    finally:
        db.close()

    server = await make_server(data_dir=data_dir, registrations_per_network_hour=1)
    db = server.ctx.db
    assert migrate.status(db).current == HEAD
    assert db.transaction_sync(count_rows) == ROW_COUNTS_0001
    assert signup_rows(db) == []  # sign-ups before the upgrade were never kept
    async with grpc.aio.insecure_channel(server.address) as channel:
        await auth_pb2_grpc.AuthServiceStub(channel).Login(
            auth_pb2.LoginRequest(username="alice", password=PASSWORD)
        )
    await register(server.address, "newcomer")
    await refusal_wait(server.address, "another")
    await server.stop()

    # Down to 0002 drops the table and keeps the accounts; up again restores it.
    db = data_dir_database(data_dir)
    try:
        migrate.migrate_to(db, "0002", downgrade=True)
        assert "signups" not in inspect(db.engine).get_table_names()
        assert usernames(db) == ["alice", "newcomer"]
        migrate.migrate_to(db, "head")
        assert usernames(db) == ["alice", "newcomer"] and signup_rows(db) == []
    finally:
        db.close()
