"""The database work a server counts (server/store/db_work.py): statements by kind, rows
written and lock waits, on its own engine and as /metrics serves them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from server import metrics
from server.store.bulk import execute_many
from server.store.db import Database
from tests.kit.simulated_nodes import sim_node, submit_job, work
from tests.kit.stubs import balance, get_job

KINDS = ("select", "insert", "update", "delete", "lock", "other")


@pytest.fixture
def server_settings() -> dict:
    # Nothing of the server's own runs between two scrapes (no sweep, no chart sample, the
    # network's state read once): what the counters show is what the test's calls did.
    return {
        "http_listen": "127.0.0.1:0",
        "metrics_token": "",
        "sweep_interval_s": 3600,
        "web_sample_interval_s": 3600,
        "web_state_cache_s": 3600,
    }


async def scraped(url: str) -> dict[str, float]:
    """The database work in what the server's /metrics serves now."""
    async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics") as reply:
        assert reply.status == 200
        return database_work(await reply.text())


def counted() -> dict[str, float]:
    """The database work the process-wide counters hold now."""
    registry = CollectorRegistry()
    for collector in (metrics.DB_STATEMENTS, metrics.DB_ROWS_WRITTEN, metrics.DB_LOCK_WAIT_SECONDS):
        registry.register(collector)
    return database_work(generate_latest(registry).decode())


def database_work(text: str) -> dict[str, float]:
    found = {
        (sample.name, sample.labels.get("kind", "")): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    work = {kind: found.get(("hivemind_db_statements_total", kind), 0.0) for kind in KINDS}
    work["rows_written"] = found.get(("hivemind_db_rows_written_total", ""), 0.0)
    work["lock_wait_s"] = found.get(("hivemind_db_lock_wait_seconds_total", ""), 0.0)
    return work


def grown(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: after[name] - before[name] for name in before}


@pytest.mark.db
def test_each_statement_and_row_written_is_counted(
    open_database: Callable[[Path], Database], tmp_path: Path
) -> None:
    db = open_database(tmp_path / "data")
    rows = Table(
        "db_work_probe", MetaData(), Column("id", Integer, primary_key=True), Column("v", Integer)
    )
    rows.metadata.create_all(db.engine)

    def transaction(conn: Connection) -> list[int]:
        conn.execute(insert(rows), [{"id": i, "v": 0} for i in range(5)])  # 5 statements
        changed = conn.execute(update(rows).where(rows.c.id < 3).values(v=1).returning(rows.c.id))
        conn.execute(delete(rows).where(rows.c.id == 4))
        conn.execute(select(rows)).all()
        return sorted(changed.scalars())

    try:
        before = counted()
        assert db.transaction_sync(transaction) == [0, 1, 2]
        moved = grown(before, counted())
    finally:
        rows.metadata.drop_all(db.engine)
        db.close()
    # 5 inserted, 3 updated (their ids read back after the statement), 1 deleted.
    assert moved["rows_written"] == 9
    statements = {kind: moved[kind] for kind in KINDS}
    if db.is_sqlite:
        assert statements == {"select": 1, "insert": 5, "update": 1, "delete": 1} | {
            "lock": 0,
            "other": 0,
        }
        assert moved["lock_wait_s"] == 0
    else:  # every PostgreSQL transaction takes its lock and gives it back, and the pool
        # checks its connection is alive first (an empty statement: `other`)
        assert statements == {"select": 1, "insert": 5, "update": 1, "delete": 1} | {
            "lock": 2,
            "other": 1,
        }
        assert 0 < moved["lock_wait_s"] < 5


@pytest.mark.db
def test_bulk_inserts_are_counted_on_both_databases(
    open_database: Callable[[Path], Database], tmp_path: Path
) -> None:
    db = open_database(tmp_path / "data")
    rows = Table(
        "db_work_bulk", MetaData(), Column("id", Integer, primary_key=True), Column("v", Integer)
    )
    rows.metadata.create_all(db.engine)
    add = insert(rows).values(id=bindparam("id"), v=bindparam("v"))
    try:
        before = counted()
        db.transaction_sync(
            lambda conn: execute_many(conn, add, [{"id": i, "v": i} for i in range(4)])
        )
        moved = grown(before, counted())
        assert (
            db.transaction_sync(
                lambda conn: conn.execute(select(func.count()).select_from(rows)).scalar()
            )
            == 4
        )
    finally:
        rows.metadata.drop_all(db.engine)
        db.close()
    assert moved["rows_written"] == 4
    # SQLite runs the statement once a row; PostgreSQL streams the rows through one COPY.
    assert moved["insert"] == (4 if db.is_sqlite else 1)


@pytest.mark.db
def test_bulk_updates_by_key_are_one_statement_on_postgresql(
    open_database: Callable[[Path], Database], tmp_path: Path
) -> None:
    db = open_database(tmp_path / "data")
    rows = Table(
        "db_work_bulk_update",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("v", Integer),
        Column("total", Integer),
    )
    rows.metadata.create_all(db.engine)
    change = (
        update(rows)
        .where(rows.c.id == bindparam("b_id"))
        .values(v=bindparam("b_v"), total=rows.c.total + bindparam("b_add"))
    )
    values = [{"b_id": i, "b_v": 10 * i, "b_add": i} for i in range(4)]
    try:
        db.transaction_sync(
            lambda conn: conn.execute(
                insert(rows), [{"id": i, "v": 0, "total": 1} for i in range(5)]
            )
        )
        before = counted()
        db.transaction_sync(lambda conn: execute_many(conn, change, values))
        moved = grown(before, counted())
        # The same key twice: applied once per row, in order, as an executemany does.
        again = [{"b_id": 4, "b_v": 1, "b_add": 2}, {"b_id": 4, "b_v": 2, "b_add": 3}]
        db.transaction_sync(lambda conn: execute_many(conn, change, again))
        found = db.transaction_sync(
            lambda conn: conn.execute(select(rows).order_by(rows.c.id)).all()
        )
    finally:
        rows.metadata.drop_all(db.engine)
        db.close()
    assert [tuple(row) for row in found] == [(i, 10 * i, 1 + i) for i in range(4)] + [(4, 2, 6)]
    assert moved["rows_written"] == 4
    # SQLite runs the statement once a row; PostgreSQL updates them all in one statement.
    assert moved["update"] == (4 if db.is_sqlite else 1)


@pytest.mark.db
async def test_metrics_show_what_calls_cost_the_database(server, stubs, user_session):
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    node = await sim_node(stubs, bob, "bob-box")
    job_id = (await submit_job(stubs, alice, task_count=3)).job_id
    before = await scraped(server.http_url)  # reads the network's state

    # Reading writes nothing.
    for _ in range(5):
        await balance(stubs, alice.metadata)
        await get_job(stubs, alice.metadata, job_id)
    read = grown(before, await scraped(server.http_url))
    assert read["select"] >= 10
    assert (read["insert"], read["update"], read["delete"], read["rows_written"]) == (0, 0, 0, 0)

    # Two tasks leased and completed: each one's attempt is written and its task moved on.
    middle = await scraped(server.http_url)
    assert await work(stubs, node, max_tasks=2) == 2
    done = grown(middle, await scraped(server.http_url))
    assert done["insert"] >= 2 and done["update"] >= 2
    assert done["rows_written"] >= 4
    if server.ctx.db.is_sqlite:
        assert done["lock"] == 0 and done["lock_wait_s"] == 0
    else:
        assert done["lock"] >= 2 and done["lock_wait_s"] > 0
