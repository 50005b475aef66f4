"""What the database does for this server, counted as it happens: statements, rows written,
time spent waiting for the transaction lock (the hivemind_db_* counters of server/metrics.py,
served on /metrics).

Engine events count every statement the server's engine sends (server/store/db.py attaches
them where the engine is made): a counter increment per statement, nothing read back.

- Statements, by kind: the first keyword (select, insert, update, delete); PostgreSQL's
  advisory-lock calls are `lock`; the rest (PRAGMA, DDL) `other`. An executemany of N
  parameter sets is N statements: the database runs each. Transaction control (BEGIN,
  COMMIT) is not a statement the drivers send through a cursor, so it is not counted.
- Rows written: what INSERT, UPDATE and DELETE changed. On PostgreSQL the cursor's rowcount;
  on SQLite the connection's `total_changes` (its rowcount lags behind for statements with
  RETURNING until their rows are read), read after each statement and at commit.
- Lock waits: on PostgreSQL, the time each `pg_advisory_lock*` call took (every transaction
  takes that lock first, server/store/postgres.py: shared, or alone after losing a conflict;
  a round trip is included, about 0.1 ms). Waits for a row lock inside an ordinary statement
  cannot be told apart from the statement's own work from here; sampling pg_stat_activity
  (bench/coordinator.py does) sees those. On SQLite one thread runs every transaction of a
  server, so its transactions never wait for each other: nothing is counted.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, Engine, event

from server import metrics

KINDS = ("select", "insert", "update", "delete", "lock", "other")
_STATEMENTS = {kind: metrics.DB_STATEMENTS.labels(kind) for kind in KINDS}
_BY_KEYWORD = {"SELECT": "select", "INSERT": "insert", "UPDATE": "update", "DELETE": "delete"}
_WRITES = frozenset({"insert", "update", "delete"})
_ADVISORY = "SELECT PG_ADVISORY_"
_LOCK_TAKEN_AT = "hivemind_lock_taken_at"  # Connection.info key: when a lock call began
_CHANGES_SEEN = "hivemind_changes_seen"  # Connection.info key: SQLite's total_changes so far


def statement_kind(statement: str) -> str:
    head = statement.lstrip()[: len(_ADVISORY)].upper()
    if head.startswith(_ADVISORY):
        return "lock"
    return _BY_KEYWORD.get(head[:6], "other")


def count_database_work(engine: Engine) -> None:
    """Counts what `engine` runs into the hivemind_db_* metrics from now on."""
    event.listen(engine, "before_cursor_execute", _before)
    event.listen(engine, "after_cursor_execute", _after)
    event.listen(engine, "commit", _ending)
    event.listen(engine, "rollback", _ending)


def _before(
    conn: Connection, cursor: Any, statement: str, params: Any, context: Any, many: bool
) -> None:
    if statement.startswith("SELECT pg_advisory_lock"):  # not _unlock: that never waits
        conn.info[_LOCK_TAKEN_AT] = time.perf_counter()


def _after(
    conn: Connection, cursor: Any, statement: str, params: Any, context: Any, many: bool
) -> None:
    kind = statement_kind(statement)
    _STATEMENTS[kind].inc(len(params) if many and isinstance(params, list | tuple) else 1)
    if kind == "lock":
        began = conn.info.pop(_LOCK_TAKEN_AT, None)
        if began is not None:
            metrics.DB_LOCK_WAIT_SECONDS.inc(time.perf_counter() - began)
        return
    total = getattr(cursor.connection, "total_changes", None)  # sqlite3 only
    if total is not None:
        _count_sqlite_changes(conn, total)
    elif kind in _WRITES and cursor.rowcount > 0:
        metrics.DB_ROWS_WRITTEN.inc(cursor.rowcount)


def _ending(conn: Connection) -> None:
    """At commit or rollback: what SQLite statements with RETURNING wrote after their event."""
    dbapi = conn.connection.dbapi_connection
    total = getattr(dbapi, "total_changes", None)
    if total is not None:
        _count_sqlite_changes(conn, total)


def _count_sqlite_changes(conn: Connection, total: int) -> None:
    seen = conn.info.get(_CHANGES_SEEN, 0)  # total_changes counts from the connection's start
    conn.info[_CHANGES_SEEN] = total
    if total > seen:
        metrics.DB_ROWS_WRITTEN.inc(total - seen)
