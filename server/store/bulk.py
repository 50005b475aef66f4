"""One statement run for many rows, without SQLAlchemy's work for each row.

`conn.execute(statement, rows)` builds, for every row, the full parameter set of the compiled
statement (defaults, bind processors, positional order): on the hot path (a lease's attempts,
a completed batch's attempts, tasks, result checks, payouts and ledger rows) that was an
eighth of the database thread's time. `execute_many` compiles the statement once per dialect
and hands the driver the rows as they are, in the order its placeholders want; on PostgreSQL
the rows of an INSERT go through COPY.

The statement must be built once (a module constant) and take every value from the rows:
each of its bind parameters is a key of every row (a constant too: SQLAlchemy makes a bind
parameter of it, which execute_many refuses to guess). It suits plain values only: strings,
numbers, booleans and None, which sqlite3 and psycopg adapt themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Insert
from sqlalchemy.sql import Executable

from server.store.db_work import count_copied

# (dialect, statement, the rows' keys) -> (SQL, placeholder names in order, or None for named).
# Statements are module constants, so this holds a handful of entries; the bound is a guard.
_compiled: dict[tuple[str, Executable, tuple[str, ...]], tuple[str, tuple[str, ...] | None]] = {}
MAX_COMPILED = 256


def execute_many(
    conn: Connection, statement: Executable, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Runs `statement` once for each row (executemany), in the caller's transaction."""
    if not rows:
        return
    keys = tuple(rows[0])
    if conn.dialect.name == "postgresql" and isinstance(statement, Insert):
        _copy_rows(conn, statement, keys, rows)
        return
    cache_key = (conn.dialect.name, statement, keys)
    found = _compiled.get(cache_key)
    if found is None:
        compiled = statement.compile(dialect=conn.dialect, column_keys=list(keys))
        if compiled.positional:
            names = tuple(compiled.positiontup or ())
        else:
            names = tuple(compiled.bind_names.values())
        missing = sorted(set(names) - set(keys))
        if missing:
            raise ValueError(f"execute_many: the rows lack {', '.join(missing)}")
        if len(_compiled) >= MAX_COMPILED:
            _compiled.clear()
        found = _compiled[cache_key] = (compiled.string, names if compiled.positional else None)
    sql, order = found
    if order is None:  # named placeholders (psycopg): the rows as they are
        conn.exec_driver_sql(sql, [dict(row) for row in rows])
    else:
        conn.exec_driver_sql(sql, [tuple(row[name] for name in order) for row in rows])


def _copy_rows(
    conn: Connection, statement: Insert, keys: tuple[str, ...], rows: Sequence[Mapping[str, Any]]
) -> None:
    """PostgreSQL: the rows of a plain INSERT through COPY, in the caller's transaction. A
    pipelined executemany costs psycopg and the server one statement per row; COPY streams
    them (it checks constraints and fails as INSERT would)."""
    preparer = conn.dialect.identifier_preparer
    table = preparer.format_table(statement.table)
    columns = ", ".join(preparer.quote(key) for key in keys)
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(tuple(row[key] for key in keys))
        count_copied(len(rows))
    finally:
        cursor.close()
