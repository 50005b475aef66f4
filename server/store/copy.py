"""Moving a server's data from its SQLite file to PostgreSQL (`hivemind-server admin db copy`).

A network that outgrows SQLite keeps every user, job and micro-CPT: each table of schema.py's
metadata is copied, parents before children (metadata.sorted_tables), so a table added by a
later revision is copied without a change here.

What makes it safe:
- the source is held with SQLite's EXCLUSIVE locking mode for the whole copy. It cannot be
  had while any other connection is open (a running server keeps its pooled connections, each
  holding a shared lock on the file in WAL mode), so "database is locked" means the server, or
  an admin command, is still running; and while it is held nobody can read or write the file;
- the target must have no rows in any table: two networks are never merged;
- every row goes in ONE target transaction, which also locks the tables against a server
  started on the target too early. Row counts and the ledger audit are checked inside it
  before commit: any failure rolls back and leaves the target without a row;
- rows are read in batches (one batch in memory at a time), in primary key order.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    Table,
    create_engine,
    event,
    func,
    insert,
    inspect,
    make_url,
    select,
    text,
)
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import NullPool

from server.store import migrate
from server.store.db import Database
from server.store.schema import metadata

BATCH_ROWS = 1000
# How long to wait for the source's exclusive lock: a server that is running holds its shared
# locks for good, so waiting longer only delays the refusal.
SOURCE_LOCK_WAIT_S = 2.0
# How long to wait for the target's table locks (a server started on the target holds them).
TARGET_LOCK_WAIT = "10s"
CONNECT_TIMEOUT_S = 10

LedgerAudit = Callable[[Connection], list[str]]


class CopyError(Exception):
    """The copy was refused or failed; one line. The target has no rows afterwards."""


class CopyProgress(Protocol):
    """What the copy reports as it goes (the CLI draws a bar or prints lines)."""

    def table_started(self, table: str, rows: int) -> None: ...

    def rows_copied(self, table: str, rows: int) -> None: ...  # rows: this batch

    def table_finished(self, table: str, rows: int) -> None: ...


class _Silent:
    def table_started(self, table: str, rows: int) -> None:
        pass

    def rows_copied(self, table: str, rows: int) -> None:
        pass

    def table_finished(self, table: str, rows: int) -> None:
        pass


@dataclass(frozen=True)
class TableCopy:
    table: str
    rows: int


@dataclass(frozen=True)
class CopyReport:
    target: str  # the URL without its password
    revision: str  # the schema revision of both databases
    tables: tuple[TableCopy, ...]
    seconds: float
    sequences_reset: tuple[str, ...]  # "table.column" whose PostgreSQL sequence was set

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def copy_sqlite_to_postgres(
    source_file: Path,
    target_url: str,
    *,
    ledger_audit: LedgerAudit,
    progress: CopyProgress | None = None,
    batch_rows: int = BATCH_ROWS,
) -> CopyReport:
    """Copies the SQLite database `source_file` into the empty PostgreSQL database at
    `target_url`; `ledger_audit(conn)` lists the ledger's problems (must be none on the
    target). Raises CopyError, with the target left without rows."""
    started = time.monotonic()
    progress = progress or _Silent()
    target = _postgres_url(target_url)
    shown = target.render_as_string(hide_password=True)
    if not Path(source_file).is_file():
        raise CopyError(f"no SQLite database at {source_file}")
    # Refuse a running server before anything, even the source's upgrade, touches a file.
    _exclusive_source(source_file).dispose()
    target_engine = _target_engine(target, shown)
    try:
        _refuse_rows(target_engine, shown)
        revision = _upgrade(f"sqlite:///{source_file}", str(source_file))
        target_revision = _upgrade(target.render_as_string(hide_password=False), shown)
        if target_revision != revision:
            raise CopyError(f"{shown} is at revision {target_revision}, the source at {revision}")
        source_engine = _exclusive_source(source_file)
        try:
            with source_engine.connect() as source, source.begin():
                tables, sequences = _copy_all(
                    source, target_engine, shown, ledger_audit, progress, batch_rows
                )
        finally:
            source_engine.dispose()
    finally:
        target_engine.dispose()
    return CopyReport(shown, revision, tables, time.monotonic() - started, sequences)


def _postgres_url(target_url: str) -> URL:
    try:
        url = make_url(target_url)
    except ArgumentError:
        raise CopyError(
            "--to is not a database URL; expected postgresql+psycopg://USER:PASSWORD@HOST/DB"
        ) from None
    if url.get_backend_name() != "postgresql":
        raise CopyError(
            f"--to must be a PostgreSQL URL (postgresql+psycopg://...), not {url.drivername}"
        )
    return url


def _target_engine(url: URL, shown: str) -> Engine:
    try:
        engine = create_engine(
            url, poolclass=NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT_S}
        )
        with engine.connect():
            pass
    except (NoSuchModuleError, ImportError) as error:
        raise CopyError(f"no driver for {shown} ({error}); use postgresql+psycopg://") from None
    except DBAPIError as error:
        raise CopyError(f"cannot connect to {shown}: {_reason(error)}") from None
    return engine


def _exclusive_source(source_file: Path) -> Engine:
    """An engine whose one connection holds the SQLite file exclusively from its first
    transaction until it closes; raises CopyError when another connection has it open."""

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(source_file, timeout=SOURCE_LOCK_WAIT_S, isolation_level=None)
        try:
            # Before the first read: in WAL mode the connection then takes the file's
            # EXCLUSIVE lock at once (and keeps it), which fails while others hold SHARED.
            conn.execute("PRAGMA locking_mode=EXCLUSIVE")
            conn.execute("BEGIN EXCLUSIVE")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            conn.execute("COMMIT")
        except sqlite3.OperationalError as error:
            conn.close()
            if "locked" in str(error) or "busy" in str(error):
                raise CopyError(
                    f"{source_file} is in use by another process: stop the server (and any"
                    " admin command on this data dir) first; nothing was changed"
                ) from None
            raise CopyError(f"cannot read {source_file}: {error}") from None
        return conn

    engine = create_engine("sqlite://", creator=connect, poolclass=NullPool)

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN EXCLUSIVE")

    with engine.connect():  # refuses now, not in the middle
        pass
    return engine


def _upgrade(url: str, shown: str) -> str:
    """Brings a database to head, as the server does at start; returns the revision."""
    db = Database(url)
    try:
        return migrate.upgrade(db).to_revision
    except migrate.SchemaError as error:
        raise CopyError(f"{shown}: {error}") from None
    except DBAPIError as error:
        raise CopyError(f"cannot upgrade {shown}: {_reason(error)}") from None
    finally:
        db.close()


def _refuse_rows(engine: Engine, shown: str) -> None:
    with engine.connect() as conn:
        names = [n for n in inspect(conn).get_table_names() if n != migrate.VERSION_TABLE]
        found = _first_with_rows(conn, names)
    if found:
        raise CopyError(
            f"{shown} already has data (table {found} has rows): the copy goes only into an"
            " empty database, never merging two networks; nothing was changed"
        )


def _first_with_rows(conn: Connection, names: Sequence[str]) -> str | None:
    quote = conn.dialect.identifier_preparer.quote
    for name in names:
        if conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM {quote(name)})")).scalar():
            return name
    return None


def _copy_all(
    source: Connection,
    target_engine: Engine,
    shown: str,
    ledger_audit: LedgerAudit,
    progress: CopyProgress,
    batch_rows: int,
) -> tuple[tuple[TableCopy, ...], tuple[str, ...]]:
    tables = metadata.sorted_tables
    copied: list[TableCopy] = []
    current = "(locking)"
    try:
        with target_engine.connect() as target, target.begin():
            quote = target.dialect.identifier_preparer.quote
            target.execute(text(f"SET LOCAL lock_timeout = '{TARGET_LOCK_WAIT}'"))
            names = ", ".join(quote(t.name) for t in tables)
            target.execute(text(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE"))
            found = _first_with_rows(target, [t.name for t in tables])
            if found:  # written to since the first look
                raise CopyError(f"{shown} got data while the copy began (table {found})")
            for table in tables:
                current = table.name
                copied.append(_copy_table(source, target, table, progress, batch_rows))
            current = "(sequences)"
            sequences = _reset_sequences(target, tables)
            current = "(verification)"
            _verify(source, target, copied, ledger_audit)
            current = "(commit)"
    except DBAPIError as error:
        raise CopyError(
            f"copy failed at table {current}: {_reason(error)}; {shown} was left without rows"
        ) from None
    return tuple(copied), sequences


def _copy_table(
    source: Connection, target: Connection, table: Table, progress: CopyProgress, batch: int
) -> TableCopy:
    total = source.execute(select(func.count()).select_from(table)).scalar_one()
    progress.table_started(table.name, total)
    rows = 0
    ordered = select(table).order_by(*table.primary_key.columns)
    # pysqlite steps through the result as it is fetched: one batch in memory at a time.
    for batch_rows in source.execute(ordered).mappings().partitions(batch):
        target.execute(insert(table), [dict(row) for row in batch_rows])
        rows += len(batch_rows)
        progress.rows_copied(table.name, len(batch_rows))
    progress.table_finished(table.name, rows)
    return TableCopy(table.name, rows)


def _reset_sequences(target: Connection, tables: Sequence[Table]) -> tuple[str, ...]:
    """Rows kept their ids, so each sequence behind an integer key must continue after the
    largest, or the next insert (a new ledger entry) would collide with a copied one."""
    reset = []
    quote = target.dialect.identifier_preparer.quote
    for table in tables:
        for column in table.primary_key.columns:
            if not isinstance(column.type, Integer):
                continue
            sequence = target.execute(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": quote(table.name), "column": column.name},
            ).scalar()
            if sequence is None:
                continue
            # Non-transactional in PostgreSQL: after a rollback the sequence stays ahead of
            # an empty table, which costs nothing (the next copy sets it again).
            target.execute(
                text(
                    f"SELECT setval(:sequence, COALESCE(max({quote(column.name)}), 0) + 1, false)"
                    f" FROM {quote(table.name)}"
                ),
                {"sequence": sequence},
            )
            reset.append(f"{table.name}.{column.name}")
    return tuple(reset)


def _verify(
    source: Connection, target: Connection, copied: list[TableCopy], ledger_audit: LedgerAudit
) -> None:
    for done in copied:
        table = metadata.tables[done.table]
        count = select(func.count()).select_from(table)
        have, want = target.execute(count).scalar_one(), source.execute(count).scalar_one()
        if have != want or done.rows != want:
            raise CopyError(
                f"table {done.table}: {have} rows in the target, {want} in the source;"
                " nothing was committed"
            )
    problems = ledger_audit(target)
    if problems:
        raise CopyError(
            f"the ledger audit fails on the copy ({problems[0]}; {len(problems)} problem(s)):"
            " run `admin check-ledger` on the source; nothing was committed"
        )


def _reason(error: DBAPIError) -> str:
    lines = str(error.orig).strip().splitlines() or [type(error.orig).__name__]
    return lines[0]


def describe(report: CopyReport) -> dict[str, Any]:
    """The report as JSON-ready values."""
    return {
        "target": report.target,
        "revision": report.revision,
        "tables": {t.table: t.rows for t in report.tables},
        "rows": report.rows,
        "seconds": round(report.seconds, 3),
        "sequences_reset": list(report.sequences_reset),
    }
