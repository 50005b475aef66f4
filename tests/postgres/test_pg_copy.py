"""`hivemind-server admin db copy`: a network that ran on SQLite moves to PostgreSQL and goes on
as if nothing happened (same logins, balances, ledger; new jobs pay), and every refusal or
failure leaves the target without a row."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import grpc
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.pool import NullPool

from proto.hivemind.v1 import account_pb2, auth_pb2, auth_pb2_grpc, common_pb2
from server.accounts import users
from server.accounts.passwords import hash_password
from server.cli.main import main
from server.ledger import audit
from server.ledger import journal as ledger
from server.runtimes import approved as runtimes
from server.store import migrate
from server.store.copy import CopyError, copy_sqlite_to_postgres
from server.store.db import Database
from server.store.schema import metadata
from tests.kit.accounts import PASSWORD
from tests.kit.admin import server_cli
from tests.kit.simulated_nodes import (
    assert_results_correct,
    reconnect,
    run_job,
    sim_node,
    submit_job,
)
from tests.kit.stubs import Stubs, balance

pytestmark = pytest.mark.postgres

CPT = 1_000_000


@pytest.fixture
def server_database() -> Callable[[Path], None]:
    """Servers here start on SQLite (the copy's source); a test names PostgreSQL itself."""
    return lambda data_dir: None


def sqlite_counts(data_dir: Path) -> dict[str, int]:
    with closing(sqlite3.connect(data_dir / "hivemind.db")) as conn:
        return {
            t.name: conn.execute(f'SELECT count(*) FROM "{t.name}"').fetchone()[0]
            for t in metadata.sorted_tables
        }


def postgres_counts(url: str) -> dict[str, int]:
    """Rows per HiveMind table in the database at `url` (tables not made yet count 0)."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            made = set(
                conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                ).scalars()
            )
            return {
                t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                if t.name in made
                else 0
                for t in metadata.sorted_tables
            }
    finally:
        engine.dispose()


def ledger_audit(conn) -> list[str]:
    return audit.check_ledger(conn).problems


def small_network(data_dir: Path, names: tuple[str, ...] = ("alice", "bob")) -> None:
    """A data dir made by the domain code itself (faster than a server): users with grants."""
    db = Database.for_data_dir(data_dir)
    try:
        db.create_schema()
        db.transaction_sync(runtimes.ensure_default_runtime)
        password_hash = hash_password(PASSWORD)
        for name in names:
            db.transaction_sync(users.insert_user, name, password_hash, signup_grant_ucpt=100 * CPT)
    finally:
        db.close()


async def balances(stubs: Stubs, sessions: list) -> dict[str, int]:
    return {s.username: await balance(stubs, s.metadata) for s in sessions}


async def test_a_network_moves_to_postgresql_and_goes_on(
    make_server, user_session, postgres_database
):
    # A network with history on SQLite: transfers, a replicated job paid and refunded.
    server = await make_server()
    data_dir = Path(server.settings.data_dir)
    people = [await user_session(server, n) for n in ("alice", "bob", "carol", "dave")]
    alice, bob, carol, _ = people
    # CPT to send (the sign-up grant is starter credit, which cannot be sent), as an admin.
    server.ctx.db.transaction_sync(
        ledger.grant, alice.user_id, 7 * CPT, idempotency_key="gift", memo="admin grant"
    )
    async with grpc.aio.insecure_channel(server.address) as channel:
        stubs = Stubs(channel, server.address)
        await stubs.account.Transfer(
            account_pb2.TransferRequest(to_username="dave", amount_ucpt=7 * CPT, memo="thanks"),
            metadata=alice.metadata,
        )
        sims = [await sim_node(stubs, owner, f"{owner.username}-box") for owner in (bob, carol)]
        job = await submit_job(stubs, alice, task_count=3, replicas=2)
        detail = await run_job(stubs, alice, job.job_id, sims)
        assert detail.job.state == common_pb2.JOB_STATE_DONE
        assert detail.job.refunded_ucpt > 0 and detail.job.cost_ucpt > 0
        before = await balances(stubs, people)
    assert before["dave"] == 107 * CPT
    target = postgres_database()

    # While the server runs, the copy refuses and the target stays untouched.
    with pytest.raises(CopyError, match="in use by another process: stop the server"):
        copy_sqlite_to_postgres(data_dir / "hivemind.db", target, ledger_audit=ledger_audit)
    assert sum(postgres_counts(target).values()) == 0

    await server.stop()
    counts = sqlite_counts(data_dir)
    for table in ("payouts", "node_trust", "artifacts", "result_checks", "refresh_tokens"):
        assert counts[table] > 0, table
    with closing(sqlite3.connect(data_dir / "hivemind.db")) as conn:
        (last_entry,) = conn.execute("SELECT max(id) FROM ledger_entries").fetchone()

    copied = await asyncio.to_thread(
        server_cli, "admin", "db", "copy", "--data-dir", str(data_dir), "--to", target, "--json"
    )
    assert copied.returncode == 0, copied.stderr
    report = json.loads(copied.stdout)
    assert report["tables"] == counts
    assert report["rows"] == sum(counts.values())
    assert "ledger_entries.id" in report["sequences_reset"]
    assert report["next"]["config"] == str(data_dir / "server.toml")
    assert "***" in report["next"]["database_url"]  # the password is never printed
    assert postgres_counts(target) == counts

    # The admin's next step; token.key and artifacts/ stay where they are.
    (data_dir / "server.toml").write_text(f'[server]\ndatabase_url = "{target}"\n')
    moved = await make_server(data_dir=data_dir)
    assert moved.ctx.db.engine.dialect.name == "postgresql"
    async with grpc.aio.insecure_channel(moved.address) as channel:
        stubs = Stubs(channel, moved.address)
        auth = auth_pb2_grpc.AuthServiceStub(channel)
        # Same users: old access tokens (token.key), refresh tokens and passwords work.
        assert await balances(stubs, people) == before
        refreshed = await auth.Refresh(auth_pb2.RefreshRequest(refresh_token=bob.refresh_token))
        assert refreshed.user.username == "bob"
        login = await auth.Login(auth_pb2.LoginRequest(username="carol", password=PASSWORD))
        assert login.user.user_id == carol.user_id
        assert (await moved.ctx.db.run(audit.check_ledger)).ok

        # The same nodes run a new job and are paid: new ledger entries after the copied ones.
        for sim in sims:  # the server moved to another port: the machines dial it there
            await reconnect(sim, stubs)
        job = await submit_job(stubs, alice, task_count=2, replicas=2)
        detail = await run_job(stubs, alice, job.job_id, sims)
        assert detail.job.state == common_pb2.JOB_STATE_DONE
        assert_results_correct(detail)
        after = await balances(stubs, people)
    earned = sum(after[o.username] - before[o.username] for o in (bob, carol))
    assert earned == detail.job.cost_ucpt > 0
    assert after["alice"] == before["alice"] - detail.job.cost_ucpt
    report_after = await moved.ctx.db.run(audit.check_ledger)
    assert report_after.ok, report_after.problems
    # Without the sequence reset the first new entry would have taken id 1 and collided.
    new_entries = await moved.ctx.db.run(
        lambda conn: conn.execute(
            text("SELECT count(*) FROM ledger_entries WHERE id > :last"), {"last": last_entry}
        ).scalar_one()
    )
    assert new_entries >= 2 * 3  # escrow, payouts and refund: two entries each at least


async def test_a_target_with_data_is_refused_and_unchanged(tmp_path, postgres_database, capsys):
    first, second = tmp_path / "first", tmp_path / "second"
    small_network(first, ("alice",))
    small_network(second, ("zoe", "yan"))
    target = postgres_database()
    assert main(["admin", "db", "copy", "--data-dir", str(first), "--to", target]) == 0
    out = capsys.readouterr().out
    assert "copied users: 1 rows" in out
    assert "next: set database_url in" in out and "token.key and artifacts/" in out
    kept = postgres_counts(target)

    # A second network into the same database: refused, with one line; nothing moved.
    assert main(["admin", "db", "copy", "--data-dir", str(second), "--to", target]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "already has data" in err and "never merging two networks" in err
    assert postgres_counts(target) == kept

    # A database holding anything at all, even another program's table, is no target either.
    other = postgres_database()
    engine = create_engine(other, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE inventory (item text)"))
        conn.execute(text("INSERT INTO inventory VALUES ('hammer')"))
    try:
        with pytest.raises(CopyError, match="table inventory has rows"):
            copy_sqlite_to_postgres(second / "hivemind.db", other, ledger_audit=ledger_audit)
        with engine.connect() as conn:
            tables = conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ).scalars()
            assert list(tables) == ["inventory"]  # no HiveMind table was created
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///elsewhere.db", "must be a PostgreSQL URL"),
        ("mysql+pymysql://u:p@127.0.0.1/hive", "must be a PostgreSQL URL"),
        ("hive.example.org", "is not a database URL"),
        ("postgresql+psycopg://hivemind:secret@127.0.0.1:1/hive", "cannot connect to"),
    ],
)
def test_a_bad_target_url_is_refused_with_one_line(tmp_path, capsys, url, message):
    small_network(tmp_path / "data", ("alice",))
    before = sqlite_counts(tmp_path / "data")
    assert main(["admin", "db", "copy", "--data-dir", str(tmp_path / "data"), "--to", url]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert "secret" not in err  # a password never reaches the terminal
    assert sqlite_counts(tmp_path / "data") == before


def test_a_failure_in_the_middle_leaves_the_target_without_rows(tmp_path, postgres_database):
    small_network(tmp_path / "data")
    counts = sqlite_counts(tmp_path / "data")
    last = [name for name, rows in counts.items() if rows][-1]
    target = postgres_database()
    # The target's tables made beforehand (as the copy would), with a trigger that fails the
    # copy's last table: a real error from PostgreSQL, late in the one transaction.
    db = Database(target)
    try:
        migrate.upgrade(db)
    finally:
        db.close()
    engine = create_engine(target, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS"
                    " $$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$"
                )
            )
            conn.execute(
                text(f'CREATE TRIGGER refuse BEFORE INSERT ON "{last}" EXECUTE FUNCTION refuse()')
            )
    finally:
        engine.dispose()

    seen: list[str] = []

    class Tables:
        def table_started(self, table: str, rows: int) -> None:
            seen.append(table)

        def rows_copied(self, table: str, rows: int) -> None:
            pass

        def table_finished(self, table: str, rows: int) -> None:
            pass

    with pytest.raises(CopyError, match=f"copy failed at table {last}: disk on fire"):
        copy_sqlite_to_postgres(
            tmp_path / "data" / "hivemind.db", target, ledger_audit=ledger_audit, progress=Tables()
        )
    assert seen[-1] == last and len(seen) > 1  # tables before it had been copied ...
    assert sum(postgres_counts(target).values()) == 0  # ... and were rolled back
    # Once the cause is gone, the same copy goes through.
    engine = create_engine(target, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text(f'DROP TRIGGER refuse ON "{last}"'))
    engine.dispose()
    report = copy_sqlite_to_postgres(
        tmp_path / "data" / "hivemind.db", target, ledger_audit=ledger_audit
    )
    assert {t.table: t.rows for t in report.tables} == counts == postgres_counts(target)


def test_a_source_ledger_that_fails_the_audit_is_not_committed(tmp_path, postgres_database):
    small_network(tmp_path / "data", ("alice",))
    # (closed afterwards: an open connection, even idle, makes the copy refuse)
    with closing(sqlite3.connect(tmp_path / "data" / "hivemind.db")) as conn, conn:
        # A cached balance that its entries do not explain: CPT from nowhere.
        conn.execute("UPDATE accounts SET balance_ucpt = balance_ucpt + 1 WHERE kind = 'user'")
    target = postgres_database()
    with pytest.raises(CopyError, match="the ledger audit fails on the copy"):
        copy_sqlite_to_postgres(
            tmp_path / "data" / "hivemind.db", target, ledger_audit=ledger_audit
        )
    assert sum(postgres_counts(target).values()) == 0
