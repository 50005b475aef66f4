"""Schema migrations (server/store/migrate.py) on real SQLite files: new databases, databases
of older servers with their rows, databases made before migrations existed, a database newer
than the code, the backup, a failed upgrade. The `admin db` commands: test_migrations_cli.py.

The tests that make sense on PostgreSQL too (marked db) run again there with --db=postgres:
`open_database` then gives each data dir a fresh PostgreSQL database.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from proto.hivemind.v1 import auth_pb2, auth_pb2_grpc, common_pb2, node_pb2
from server.ledger import journal as ledger
from server.store import migrate
from server.store.db import Database
from server.store.schema import attempts, jobs, metadata, tasks
from tests.kit.accounts import PASSWORD
from tests.kit.admin import server_cli
from tests.kit.postgres import database_url_of
from tests.kit.stubs import (
    Stubs,
    balance,
    complete,
    get_job,
    lease,
    make_package,
    register_node,
    submit,
)
from tests.kit.stubs import upload as upload_artifact
from tests.server.migrationkit import (
    CPT,
    HEAD,
    ROW_COUNTS_0001,
    count_rows,
    insert_0001_rows,
    make_0001_database,
)


def schema_shape(db: Database) -> dict[str, Any]:
    """Everything about the tables that code can depend on, in a comparable form."""
    found = inspect(db.engine)
    shape: dict[str, Any] = {}
    for table in sorted(found.get_table_names()):
        shape[table] = {
            "columns": sorted(
                (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                for c in found.get_columns(table)
            ),
            "primary_key": found.get_pk_constraint(table)["constrained_columns"],
            "foreign_keys": sorted(
                (tuple(fk["constrained_columns"]), fk["referred_table"], *fk["referred_columns"])
                for fk in found.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (ix["name"] or "", tuple(ix["column_names"]), bool(ix["unique"]))
                for ix in found.get_indexes(table)
            ),
            "unique": sorted(
                (uq["name"] or "", tuple(uq["column_names"]))
                for uq in found.get_unique_constraints(table)
            ),
        }
    return shape


def schema_differences(db: Database) -> list[Any]:
    with db.engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), metadata)


def revision_of(db: Database) -> str | None:
    return migrate.status(db).current


# -- new databases ------------------------------------------------------------------------


@pytest.mark.db
def test_revisions_from_empty_build_exactly_schema_py(tmp_path, open_database):
    migrated = open_database(tmp_path / "migrated")
    created = open_database(tmp_path / "created")
    try:
        migrate.migrate_to(migrated, "head")
        assert schema_differences(migrated) == [], (
            "server/store/schema.py and the revisions in server/store/migrations/versions"
            " build different schemas: a schema change needs a new revision (see"
            " server/store/migrate.py)"
        )
        # A new database is made by create_all and stamped (the path new installs take):
        # the same tables, columns, keys and indexes as running every revision.
        done = migrate.upgrade(created)
        assert (done.from_revision, done.to_revision, done.backup) == (None, HEAD, None)
        assert schema_shape(created) == schema_shape(migrated)
        assert revision_of(created) == revision_of(migrated) == HEAD
    finally:
        migrated.close()
        created.close()


def test_a_new_database_is_created_quietly_and_needs_nothing_more(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="hivemind.db")
    db = Database.for_data_dir(tmp_path)
    try:
        db.create_schema()
        db.create_schema()  # the next start: current, nothing to do, nothing logged
        assert migrate.status(db).state == "current"
    finally:
        db.close()
    assert [r.getMessage() for r in caplog.records] == []
    assert sorted(p.name for p in tmp_path.iterdir() if ".before-" in p.name) == []


# -- a database of an older server ----------------------------------------------------------


async def login(address: str, username: str) -> tuple[tuple[str, str], ...]:
    async with grpc.aio.insecure_channel(address) as channel:
        session = await auth_pb2_grpc.AuthServiceStub(channel).Login(
            auth_pb2.LoginRequest(username=username, password=PASSWORD)
        )
    return (("authorization", f"Bearer {session.access_token}"),)


@pytest.mark.db
async def test_a_0001_database_keeps_every_row_and_the_server_runs_on_it(
    tmp_path, open_database, make_server, user_session, caplog
):
    caplog.set_level(logging.INFO, logger="hivemind.db")
    data_dir = tmp_path / "data"
    make_0001_database(data_dir, open_database)

    server = await make_server(data_dir=data_dir)  # upgrades at start
    db = server.ctx.db
    assert f"database upgraded from 0001 to {HEAD}" in [r.getMessage() for r in caplog.records]
    assert migrate.status(db).state == "current"
    assert db.transaction_sync(count_rows) == ROW_COUNTS_0001
    old_job = db.transaction_sync(
        lambda conn: conn.execute(select(jobs).where(jobs.c.id == "job-old")).one()._asdict()
    )
    assert old_job["name"] == "old job" and old_job["max_cost_ucpt"] == 5000
    assert old_job["refunded_ucpt"] == 5000 and old_job["idempotency_key"] == "key-old"
    assert (old_job["compare_json"], old_job["compare_timeout_s"]) == ("", 0)  # the defaults
    old_attempt = db.transaction_sync(
        lambda conn: conn.execute(select(attempts).where(attempts.c.id == "attempt-old")).one()
    )
    assert old_attempt.comparison_id is None and old_attempt.cancel_requested is True
    assert old_attempt.log == "partial log\n" and old_attempt.peak_memory_mb == 12
    assert db.transaction_sync(ledger.check) == []

    # Foreign keys survived the rebuilt tables: a task of no job is still refused.
    def orphan_task(conn: Any) -> None:
        conn.execute(
            tasks.insert().values(
                id="task-x", job_id="no-such-job", idx=0, state="pending", updated_at=1.0
            )
        )

    with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
        db.transaction_sync(orphan_task)

    # alice logs in with her old password, sees her balance and her old job, and runs a
    # new job on bob's node: the current code works on the upgraded database.
    alice = await login(server.address, "alice")
    bob = await user_session(server, "bob")
    async with grpc.aio.insecure_channel(server.address) as channel:
        stubs = Stubs(channel)
        assert await balance(stubs, alice) == 100 * CPT
        shown = await get_job(stubs, alice, "job-old", tasks=True)
        assert shown.job.state == common_pb2.JOB_STATE_CANCELLED
        assert [(t.error, t.attempts) for t in shown.tasks] == [("cancelled by owner", 1)]

        digest = (await upload_artifact(stubs, alice, make_package())).digest
        job = await submit(stubs, alice, digest)
        node = await register_node(stubs, bob.metadata)
        [leased] = await lease(stubs, node)
        await stubs.nodes.StartAttempts(
            node_pb2.StartAttemptsRequest(attempt_ids=[leased.attempt_id]), metadata=node.metadata
        )
        [ack] = await complete(stubs, node, [leased.attempt_id], wall_seconds=0.036)
        assert ack.accepted
        done = await get_job(stubs, alice, job.job_id)
        assert done.job.state == common_pb2.JOB_STATE_DONE
        assert await balance(stubs, alice) == 100 * CPT - done.job.cost_ucpt
    assert db.transaction_sync(ledger.check) == []

    if db.is_sqlite:
        # The copy taken before the upgrade opens, at the old revision with the old rows.
        backup = data_dir / "hivemind.db.before-0001"
        with sqlite3.connect(backup) as copy:
            assert copy.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]
            kept = {
                t: copy.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ROW_COUNTS_0001
            }
            assert kept == ROW_COUNTS_0001
            columns = {row[1] for row in copy.execute("PRAGMA table_info(jobs)")}
            assert "compare_json" not in columns
        copy.close()


@pytest.mark.db
def test_servers_starting_together_upgrade_once(tmp_path, open_database):
    data_dir = tmp_path / "data"
    make_0001_database(data_dir, open_database)
    settings_url = database_url_of(data_dir)
    databases = [Database.for_data_dir(data_dir, settings_url) for _ in range(2)]
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(migrate.upgrade, databases))
        assert sorted((r.from_revision, r.to_revision) for r in results) == [
            ("0001", HEAD),
            (HEAD, HEAD),
        ]
        assert databases[0].transaction_sync(count_rows) == ROW_COUNTS_0001
    finally:
        for db in databases:
            db.close()
    backups = sorted(p.name for p in data_dir.iterdir() if ".before-" in p.name)
    assert backups == (["hivemind.db.before-0001"] if settings_url is None else [])


@pytest.mark.db
def test_downgrade_to_0001_and_back_keeps_rows(tmp_path, open_database):
    data_dir = tmp_path / "data"
    make_0001_database(data_dir, open_database)
    db = Database.for_data_dir(data_dir, database_url_of(data_dir))
    try:
        migrate.migrate_to(db, "head")
        migrate.migrate_to(db, "0001", downgrade=True)
        assert revision_of(db) == "0001"
        assert "result_comparisons" not in inspect(db.engine).get_table_names()
        migrate.migrate_to(db, "head")
        assert schema_differences(db) == []
        assert db.transaction_sync(count_rows) == ROW_COUNTS_0001
    finally:
        db.close()


# -- databases made before migrations existed ------------------------------------------------


def make_legacy(data_dir: Path, *, trust_tables: bool = False, newest: bool = False) -> Path:
    """A database a server made with create_all before migrations existed: tables, rows, no
    alembic_version. `trust_tables`: a server of commit 14b38c0 also made node_trust,
    task_replicas and result_checks (create_all adds tables, never columns). `newest`: the
    schema of the last server before migrations (revision 0002)."""
    db = Database.for_data_dir(data_dir)
    try:
        if newest:
            migrate.migrate_to(db, "0002")
        else:
            migrate.migrate_to(db, "0001")
            db.transaction_sync(insert_0001_rows)
            if trust_tables:
                for name in ("node_trust", "task_replicas", "result_checks"):
                    metadata.tables[name].create(db.engine)
        db.transaction_sync(lambda conn: conn.execute(text("DROP TABLE IF EXISTS alembic_version")))
    finally:
        db.close()
    return data_dir / "hivemind.db"


@pytest.mark.parametrize("trust_tables", [False, True], ids=["916073f", "14b38c0"])
def test_a_legacy_database_is_recognised_stamped_and_upgraded(tmp_path, trust_tables):
    make_legacy(tmp_path, trust_tables=trust_tables)
    db = Database.for_data_dir(tmp_path)
    try:
        before = migrate.status(db)
        assert (before.state, before.current, before.stamped) == ("pending", "0001", False)
        assert [r.revision for r in before.pending] == [f"{n:04d}" for n in range(2, int(HEAD) + 1)]
        done = migrate.upgrade(db)
        assert (done.from_revision, done.to_revision, done.stamped_legacy) == ("0001", HEAD, True)
        assert done.backup == tmp_path / "hivemind.db.before-0001"
        assert migrate.status(db).state == "current"
        assert schema_differences(db) == []
        assert db.transaction_sync(count_rows) == ROW_COUNTS_0001
    finally:
        db.close()


def test_a_legacy_database_of_the_newest_schema_is_stamped_0002_and_upgraded(tmp_path):
    make_legacy(tmp_path, newest=True)
    db = Database.for_data_dir(tmp_path)
    try:
        before = migrate.status(db)
        assert (before.state, before.current, before.stamped) == ("pending", "0002", False)
        done = migrate.upgrade(db)
        assert (done.from_revision, done.to_revision, done.stamped_legacy) == ("0002", HEAD, True)
        assert done.backup == tmp_path / "hivemind.db.before-0002"
        assert migrate.status(db).stamped
        assert schema_differences(db) == []
    finally:
        db.close()


# -- a database newer than this code ---------------------------------------------------------


def files_of(data_dir: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in data_dir.iterdir()}


def make_future_database(data_dir: Path) -> None:
    db = Database.for_data_dir(data_dir)
    try:
        db.create_schema()
        db.transaction_sync(
            lambda conn: conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))
        )
    finally:
        db.close()


REFUSAL = (
    f"database is at revision 0999, newer than this server (head {HEAD}); upgrade hivemind-server"
)


def test_a_newer_database_is_refused_and_left_byte_identical(tmp_path):
    make_future_database(tmp_path)
    before = files_of(tmp_path)
    db = Database.for_data_dir(tmp_path)
    try:
        with pytest.raises(migrate.SchemaError) as refused:
            db.create_schema()
        assert str(refused.value) == REFUSAL
    finally:
        db.close()
    assert files_of(tmp_path) == before

    # The server and the admin commands refuse with that one line, and change nothing.
    run = server_cli("run", "--data-dir", str(tmp_path), "--listen", "127.0.0.1:0")
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.strip().splitlines() == [f"error: {REFUSAL}"]
    users = server_cli("admin", "list-users", "--data-dir", str(tmp_path))
    assert users.returncode == 1 and users.stderr.strip().splitlines() == [f"error: {REFUSAL}"]
    status = server_cli("admin", "db", "status", "--data-dir", str(tmp_path), "--json")
    assert status.returncode == 1
    assert json.loads(status.stdout)["state"] == "newer"
    assert files_of(tmp_path) == before


def test_an_upgrade_that_fails_changes_nothing(tmp_path, open_database):
    """A row that breaks a foreign key (written with the keys off) stops the upgrade after the
    tables were rebuilt: everything is rolled back, the database stays at 0001."""
    data_dir = tmp_path / "data"
    make_0001_database(data_dir, open_database)
    with sqlite3.connect(data_dir / "hivemind.db") as conn:
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("UPDATE tasks SET job_id = 'job-gone' WHERE id = 'task-old'")
    conn.close()
    db = Database.for_data_dir(data_dir)
    try:
        with pytest.raises(migrate.SchemaError) as failed:
            migrate.upgrade(db)
        assert str(failed.value) == (
            "1 row(s) break foreign keys after the upgrade (first: tasks row 1 -> jobs);"
            " nothing was changed"
        )
        assert revision_of(db) == "0001"
        job_columns = {c["name"] for c in inspect(db.engine).get_columns("jobs")}
        assert "compare_json" not in job_columns
        assert "result_comparisons" not in inspect(db.engine).get_table_names()
        assert db.transaction_sync(count_rows) == ROW_COUNTS_0001
    finally:
        db.close()
