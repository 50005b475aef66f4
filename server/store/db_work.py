"""What the database does for this server, counted as it happens: statements, rows written,
time spent waiting for the transaction lock (the hivemind_db_* counters of server/metrics.py,
served on /metrics).

The server's engine makes its driver connections through the cursors below (a `do_connect`
engine event hands the driver their class: server/store/db.py attaches it where the engine is
made), which count each statement as they send it: a counter increment or two, 1-2 µs.
SQLAlchemy's own statement events would do the same at several µs a statement: merely having
a listener sends every execution through their slower path.

- Statements, by kind: the first keyword (select, insert, update, delete); PostgreSQL's
  advisory-lock calls are `lock`; the rest (PRAGMA, DDL) `other`. An executemany of N
  parameter sets is N statements: the database runs each. Transaction control (BEGIN,
  COMMIT) is not a statement the drivers send through a cursor, so it is not counted.
- Rows written: what INSERT, UPDATE and DELETE changed (and COPY: one insert statement,
  its rows written). On PostgreSQL the cursor's rowcount; on SQLite the connection's
  `total_changes` (its rowcount lags behind for statements with RETURNING until their rows
  are read), read after each statement and at commit.
- Lock waits: on PostgreSQL, the time each `pg_advisory_lock*` call took (every transaction
  takes that lock first, server/store/postgres.py: shared, or alone after losing a conflict;
  a round trip is included, about 0.1 ms). Waits for a row lock inside an ordinary statement
  cannot be told apart from the statement's own work from here; sampling pg_stat_activity
  (bench/coordinator.py does) sees those. On SQLite one thread runs every transaction of a
  server, so its transactions never wait for each other: nothing is counted.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from sqlalchemy import Engine, event

from server import metrics

KINDS = ("select", "insert", "update", "delete", "lock", "other")
_STATEMENTS = {kind: metrics.DB_STATEMENTS.labels(kind) for kind in KINDS}
_BY_KEYWORD = {"SELECT": "select", "INSERT": "insert", "UPDATE": "update", "DELETE": "delete"}
_WRITES = frozenset({"insert", "update", "delete"})
_ADVISORY = "SELECT PG_ADVISORY_"
_TAKE_LOCK = "SELECT pg_advisory_lock"  # not _unlock: giving it back never waits

# Statement text -> kind. SQLAlchemy hands the same few strings again and again (its compiled
# cache); the ones it renders anew (IN lists, multi-row VALUES) fill it only up to this.
_KIND_CACHE_SIZE = 2048
_kinds: dict[str, str] = {}


def statement_kind(statement: str) -> str:
    kind = _kinds.get(statement)
    if kind is None:
        head = statement.lstrip()[: len(_ADVISORY)].upper()
        kind = "lock" if head.startswith(_ADVISORY) else _BY_KEYWORD.get(head[:6], "other")
        if len(_kinds) < _KIND_CACHE_SIZE:
            _kinds[statement] = kind
    return kind


def _executions(params: Any) -> int:
    return len(params) if isinstance(params, list | tuple) else 1


def count_database_work(engine: Engine) -> None:
    """Counts what `engine` runs into the hivemind_db_* metrics, on every driver connection
    it makes from now on."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "do_connect", _sqlite_factory)
    elif engine.dialect.driver == "psycopg":
        event.listen(engine, "do_connect", _psycopg_factory)


def _sqlite_factory(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
    cparams["factory"] = CountingSQLiteConnection


def _psycopg_factory(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
    cparams["cursor_factory"] = _psycopg_cursor_class()


# -- SQLite --------------------------------------------------------------------------------------


class CountingSQLiteConnection(sqlite3.Connection):
    """sqlite3's connection, whose cursors count, and which counts at commit what statements
    with RETURNING wrote after their cursor's count."""

    changes_seen = 0  # total_changes counted so far (it counts from the connection's start)

    def cursor(self, factory: Any = None) -> Any:
        return super().cursor(factory or CountingSQLiteCursor)

    def count_changes(self) -> None:
        total = self.total_changes
        if total > self.changes_seen:
            metrics.DB_ROWS_WRITTEN.inc(total - self.changes_seen)
            self.changes_seen = total

    def commit(self) -> None:
        self.count_changes()
        super().commit()

    def rollback(self) -> None:
        self.count_changes()
        super().rollback()


class CountingSQLiteCursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        _STATEMENTS[statement_kind(sql)].inc()
        try:
            return super().execute(sql, parameters)
        finally:
            self.connection.count_changes()

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> Any:
        _STATEMENTS[statement_kind(sql)].inc(_executions(seq_of_parameters))
        try:
            return super().executemany(sql, seq_of_parameters)
        finally:
            self.connection.count_changes()


# -- PostgreSQL (psycopg 3) ----------------------------------------------------------------------

_psycopg_cursor: type | None = None


def count_copied(rows: int) -> None:
    """A COPY ... FROM STDIN of `rows` rows (server/store/bulk.py): one insert statement, and
    its rows written; psycopg's copy does not pass through the cursor's execute."""
    _STATEMENTS["insert"].inc()
    if rows > 0:
        metrics.DB_ROWS_WRITTEN.inc(rows)


def _psycopg_cursor_class() -> type:
    """psycopg's cursor, counting; made on first use (psycopg is only needed on PostgreSQL)."""
    global _psycopg_cursor
    if _psycopg_cursor is not None:
        return _psycopg_cursor
    import psycopg

    class CountingPsycopgCursor(psycopg.Cursor):  # type: ignore[type-arg]
        def execute(self, query: Any, params: Any = None, **options: Any) -> Any:
            kind = statement_kind(query) if isinstance(query, str) else "other"
            _STATEMENTS[kind].inc()
            if kind == "lock" and query.startswith(_TAKE_LOCK):
                began = time.perf_counter()
                try:
                    return super().execute(query, params, **options)
                finally:
                    metrics.DB_LOCK_WAIT_SECONDS.inc(time.perf_counter() - began)
            result = super().execute(query, params, **options)
            if kind in _WRITES and self.rowcount > 0:
                metrics.DB_ROWS_WRITTEN.inc(self.rowcount)
            return result

        def executemany(self, query: Any, params_seq: Any, **options: Any) -> None:
            kind = statement_kind(query) if isinstance(query, str) else "other"
            _STATEMENTS[kind].inc(_executions(params_seq))
            super().executemany(query, params_seq, **options)
            if kind in _WRITES and self.rowcount > 0:
                metrics.DB_ROWS_WRITTEN.inc(self.rowcount)

    _psycopg_cursor = CountingPsycopgCursor
    return _psycopg_cursor
