"""Brings a server database to the schema this code expects (Alembic; server/store/migrations).

`upgrade(db)` runs where the server and the admin commands open a data dir
(`Database.create_schema`):
- an empty database gets schema.py's tables (create_all) stamped with the head revision:
  new installs are built from the one description the code uses, in one step, and
  tests/server/test_migrations.py proves the revisions build the same schema;
- a database made by create_all before migrations existed (tables, no alembic_version) is
  recognised by its columns, stamped with the revision it matches, then upgraded;
- a database at a revision this code does not know (the server was downgraded) is refused
  with one line, untouched;
- otherwise the pending revisions run in one transaction. SQLite first gets a copy,
  `hivemind.db.before-<revision>` beside it (SQLite's backup API, consistent under WAL);
  PostgreSQL runs it under an advisory lock, so servers starting together migrate once.

Adding a revision: every change to schema.py needs one, the next number in
migrations/versions/ (`0003_<what>.py`, `down_revision` = the previous), written out with
explicit `op.*` calls and never importing schema.py, so it builds the same thing forever.
`python -m server.store.migrate revision "what changed"` drafts one from the difference
between schema.py and a database at the current head; read and edit the draft.
"""

from __future__ import annotations

import argparse
import functools
import logging
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Alembic logs INFO lines that tell an admin nothing ("setup plugin ..." as it is imported,
# "Context impl SQLiteImpl."); this module logs what it did. Set before alembic is imported;
# an explicit logging configuration of "alembic" still wins.
if logging.getLogger("alembic").level == logging.NOTSET:
    logging.getLogger("alembic").setLevel(logging.WARNING)

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.pool import NullPool

from server.store.db import Database
from server.store.schema import metadata

log = logging.getLogger("hivemind.db")

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")
VERSION_TABLE = "alembic_version"
# Advisory locks are per database; this one is held by the server that migrates ("HIMG"),
# apart from the one every transaction takes (server/store/postgres.py).
MIGRATION_LOCK_KEY = 0x48494D47


class SchemaError(Exception):
    """The database cannot be used or upgraded by this code; one line, nothing changed."""


@dataclass(frozen=True)
class Revision:
    revision: str
    description: str


@dataclass(frozen=True)
class SchemaStatus:
    """Where a database stands. state: empty | current | pending | newer."""

    state: str
    current: str | None  # None: empty
    head: str
    stamped: bool  # False: made before migrations; `current` is what its tables match
    pending: tuple[Revision, ...]


@dataclass(frozen=True)
class UpgradeResult:
    from_revision: str | None  # None: the database was empty and is now created
    to_revision: str
    stamped_legacy: bool  # a database made before migrations was recognised and stamped
    backup: Path | None

    @property
    def changed(self) -> bool:
        return self.from_revision != self.to_revision or self.stamped_legacy


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, built here: nothing to find on disk but the migrations."""
    config = Config()
    # Config values go through configparser interpolation, where "%" is special.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection
    return config


@functools.cache
def script_directory() -> ScriptDirectory:
    """The revisions shipped with this code, read once per process (they cannot change while
    it runs; reading them is most of what a start on a current database costs)."""
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    return _head(script_directory())


def status(db: Database) -> SchemaStatus:
    """Reads where the database stands; changes nothing."""
    script = script_directory()
    with db.engine.connect() as conn:
        return _read_status(conn, script)


def upgrade(db: Database) -> UpgradeResult:
    """Brings the database to the head revision (see the module docstring)."""
    script = script_directory()
    head = _head(script)
    if db.is_sqlite and _sqlite_file(db.url) is None:
        # An in-memory database is new every time, and only db.engine's connection sees it.
        metadata.create_all(db.engine)
        return UpgradeResult(None, head, False, None)
    # Most starts find the database current: a plain read says so, without a migration
    # engine and its write lock (admin commands run beside a running server).
    with db.engine.connect() as conn:
        seen = _read_status(conn, script)
    if seen.state == "current" and seen.stamped:
        return UpgradeResult(head, head, False, None)
    engine = _migration_engine(db.url)
    try:
        with engine.connect() as conn, conn.begin():
            if engine.dialect.name == "postgresql":
                # Until commit: a second server waits here, then finds the database current.
                conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
            found = _read_status(conn, script)
            if found.state == "newer":
                raise SchemaError(
                    f"database is at revision {found.current}, newer than this server"
                    f" (head {head}); upgrade hivemind-server"
                )
            if found.state == "empty":
                metadata.create_all(conn)
                _alembic(conn, command.stamp, head)
                log.debug("database created at revision %s", head)
                return UpgradeResult(None, head, False, None)
            if found.state == "current" and found.stamped:
                return UpgradeResult(head, head, False, None)
            assert found.current is not None
            backup = None
            if found.state == "pending" and engine.dialect.name == "sqlite":
                backup = _backup_sqlite(engine, found.current)
            if not found.stamped:
                _alembic(conn, command.stamp, found.current)
                log.info(
                    "database made before migrations matches revision %s; stamping it",
                    found.current,
                )
            if found.state == "pending":
                _alembic(conn, command.upgrade, head)
                if engine.dialect.name == "sqlite":
                    _check_foreign_keys(conn)
    finally:
        engine.dispose()
    if found.state == "pending":
        log.info("database upgraded from %s to %s", found.current, head)
    return UpgradeResult(found.current, head, not found.stamped, backup)


def _head(script: ScriptDirectory) -> str:
    head = script.get_current_head()  # raises when the history has several heads
    if head is None:
        raise SchemaError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def _read_status(conn: Connection, script: ScriptDirectory) -> SchemaStatus:
    head = _head(script)
    tables = set(inspect(conn).get_table_names())
    versions: list[str] = []
    if VERSION_TABLE in tables:
        versions = list(conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())
    if len(versions) > 1:
        raise SchemaError(f"database names several revisions ({', '.join(versions)}); fix it")
    if versions:
        current, stamped = versions[0], True
    elif "jobs" in tables:
        current, stamped = _legacy_revision(conn), False
    else:
        return SchemaStatus("empty", None, head, False, ())
    known = {rev.revision for rev in script.walk_revisions()}
    if current not in known:
        return SchemaStatus("newer", current, head, stamped, ())
    if current == head:
        return SchemaStatus("current", current, head, stamped, ())
    pending = tuple(
        Revision(rev.revision, (rev.doc or "").strip().splitlines()[0] if rev.doc else "")
        for rev in reversed(list(script.iterate_revisions(head, current)))
    )
    return SchemaStatus("pending", current, head, stamped, pending)


def _legacy_revision(conn: Connection) -> str:
    """The revision a database made by create_all (before migrations existed) matches."""
    job_columns = {column["name"] for column in inspect(conn).get_columns("jobs")}
    return "0002" if "compare_json" in job_columns else "0001"


def _alembic(conn: Connection, action: Any, revision: str) -> None:
    action(alembic_config(conn), revision)


def _migration_engine(url: str) -> Engine:
    """An engine for one migration. On SQLite the driver must not manage transactions: it
    would run DDL outside them (SQLAlchemy's "Serializable isolation / Savepoints /
    Transactional DDL" recipe for pysqlite), and a half-rebuilt table must not survive a
    crash. So BEGIN IMMEDIATE is sent here: it also keeps writers out while the backup is
    taken and the upgrade runs."""
    if not url.startswith("sqlite"):
        return create_engine(url, poolclass=NullPool)
    engine = create_engine(url, poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        # Rebuilding a table drops the old one, which with foreign keys on deletes (or
        # refuses) the rows pointing at it. SQLite's own procedure for altering a table
        # turns them off and runs foreign_key_check before commit (_check_foreign_keys).
        cursor.execute("PRAGMA foreign_keys=OFF")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _check_foreign_keys(conn: Connection) -> None:
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        table, rowid, parent, _ = broken[0]
        raise SchemaError(
            f"{len(broken)} row(s) break foreign keys after the upgrade (first: {table} row"
            f" {rowid} -> {parent}); nothing was changed"
        )


def _sqlite_file(url: Any) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database)


def _backup_sqlite(engine: Engine, revision: str) -> Path | None:
    source_path = _sqlite_file(engine.url)
    if source_path is None:
        return None
    target = source_path.with_name(f"{source_path.name}.before-{revision}")
    copy = 1
    while target.exists():  # an earlier backup is never overwritten
        target = source_path.with_name(f"{source_path.name}.before-{revision}.{copy}")
        copy += 1
    # The backup API copies a consistent snapshot, WAL included (a file copy would not).
    source = sqlite3.connect(source_path)
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)
    finally:
        destination.close()
        source.close()
    log.info("database backup before upgrade: %s", target)
    return target


# Running revisions by name (tests, drafting) ----------------------------------------------


def migrate_to(db: Database, revision: str, *, downgrade: bool = False) -> None:
    """Runs the revisions up (or down) to `revision` ("head", "0001", "base"), without the
    checks and backup of `upgrade`: for tests and for drafting a revision."""
    engine = _migration_engine(db.url)
    try:
        with engine.connect() as conn, conn.begin():
            _alembic(conn, command.downgrade if downgrade else command.upgrade, revision)
            if engine.dialect.name == "sqlite":
                _check_foreign_keys(conn)
    finally:
        engine.dispose()


def draft_revision(message: str) -> Path:
    """Writes migrations/versions/<next>_<slug>.py from what schema.py has that head lacks."""
    number = int(head_revision()) + 1
    with tempfile.TemporaryDirectory() as scratch:
        db = Database(f"sqlite:///{Path(scratch) / 'head.db'}")
        try:
            migrate_to(db, "head")
            with db.engine.connect() as conn:
                made = command.revision(
                    alembic_config(conn), message, autogenerate=True, rev_id=f"{number:04d}"
                )
        finally:
            db.close()
    if made is None or isinstance(made, list):
        raise SchemaError("alembic made no single revision")
    return Path(made.path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server.store.migrate")
    sub = parser.add_subparsers(dest="command", required=True)
    revision = sub.add_parser("revision", help="draft the next revision from schema.py")
    revision.add_argument("message", help="what changed, e.g. 'jobs get a deadline'")
    args = parser.parse_args(argv)
    print(f"drafted {draft_revision(args.message)}: read it, edit it, keep it frozen")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
