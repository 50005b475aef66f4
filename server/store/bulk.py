"""One statement run for many rows, without SQLAlchemy's work for each row.

`conn.execute(statement, rows)` builds, for every row, the full parameter set of the compiled
statement (defaults, bind processors, positional order): on the hot path (a lease's attempts,
a completed batch's attempts, tasks, result checks, payouts and ledger rows) that was an
eighth of the database thread's time. `execute_many` compiles the statement once per dialect
and hands the driver the rows as they are, in the order its placeholders want; on PostgreSQL
the rows of an INSERT go through COPY.

On PostgreSQL the rows of an UPDATE by primary key (`WHERE table.key = :param`, one row
each, keys distinct) become one statement: `UPDATE ... FROM unnest(arrays) AS v WHERE
table.key = v.key`, where an executemany costs psycopg and the server a statement per row.

The statement must be built once (a module constant) and take every value from the rows:
each of its bind parameters is a key of every row (a constant too: SQLAlchemy makes a bind
parameter of it, which execute_many refuses to guess). It suits plain values only: strings,
numbers, booleans and None, which sqlite3 and psycopg adapt themselves.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, Column, Connection, Insert, Update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import BinaryExpression
from sqlalchemy.types import NullType

from server.store.db_work import count_copied


@dataclass(frozen=True)
class _Compiled:
    sql: str
    values: Callable[[Mapping[str, Any]], Any]  # a row -> the driver's parameters
    # PostgreSQL UPDATE by key: the SQL that updates all rows at once, and the key's name.
    unnest_sql: str = ""
    key: str = ""


# (dialect, statement, the rows' keys) -> how to run it. Statements are module constants, so
# this holds a handful of entries; the bound is a guard.
_compiled: dict[tuple[str, Executable, tuple[str, ...]], _Compiled] = {}
MAX_COMPILED = 256
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


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
        if len(_compiled) >= MAX_COMPILED:
            _compiled.clear()
        found = _compiled[cache_key] = _compile(conn, statement, keys)
    if found.unnest_sql and len(rows) > 1 and len({row[found.key] for row in rows}) == len(rows):
        columns = {name: [row[name] for row in rows] for name in keys}
        conn.exec_driver_sql(found.unnest_sql, columns)
        return
    conn.exec_driver_sql(found.sql, [found.values(row) for row in rows])


def _compile(conn: Connection, statement: Executable, keys: tuple[str, ...]) -> _Compiled:
    compiled = statement.compile(dialect=conn.dialect, column_keys=list(keys))
    if compiled.positional:
        names = tuple(compiled.positiontup or ())
    else:
        names = tuple(compiled.bind_names.values())
    missing = sorted(set(names) - set(keys))
    if missing:
        raise ValueError(f"execute_many: the rows lack {', '.join(missing)}")
    if not compiled.positional:  # named placeholders (psycopg): the rows as they are
        return _Compiled(compiled.string, dict, *_unnest_update(conn, statement, compiled))
    if len(names) == 1:
        name = names[0]
        return _Compiled(compiled.string, lambda row: (row[name],))
    return _Compiled(compiled.string, operator.itemgetter(*names))


def _unnest_update(conn: Connection, statement: Executable, compiled: Any) -> tuple[str, str]:
    """PostgreSQL: (the SQL that runs an UPDATE by primary key for all rows at once, the
    key's parameter), or ("", "") for any other statement."""
    where = getattr(statement, "whereclause", None)
    if not isinstance(statement, Update) or not isinstance(where, BinaryExpression):
        return "", ""
    column, key = where.left, where.right
    if not (
        isinstance(column, Column)
        and column.primary_key
        and isinstance(key, BindParameter)
        and where.operator is operator.eq
    ):
        return "", ""
    binds = compiled.binds
    names = list(dict.fromkeys(compiled.bind_names.values()))
    if any(isinstance(binds[name].type, NullType) for name in names):
        return "", ""  # a type PostgreSQL's arrays cannot be cast to
    arrays = ", ".join(
        f"%({name})s::{binds[name].type.compile(dialect=conn.dialect)}[]" for name in names
    )
    sql = _PLACEHOLDER.sub(lambda match: f"v.{match.group(1)}", compiled.string)
    head, where_sql = sql.rsplit(" WHERE ", 1)
    sql = f"{head} FROM unnest({arrays}) AS v({', '.join(names)}) WHERE {where_sql}"
    return sql, key.key


def _copy_rows(
    conn: Connection, statement: Insert, keys: tuple[str, ...], rows: Sequence[Mapping[str, Any]]
) -> None:
    """PostgreSQL: the rows of a plain INSERT through COPY, in the caller's transaction. A
    pipelined executemany costs psycopg and the server one statement per row; COPY streams
    them (it checks constraints and fails as INSERT would)."""
    preparer = conn.dialect.identifier_preparer
    table = preparer.format_table(statement.table)
    columns = ", ".join(preparer.quote(key) for key in keys)
    sql = f"COPY {table} ({columns}) FROM STDIN"
    dbapi_error = conn.dialect.loaded_dbapi.Error
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        with cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(tuple(row[key] for key in keys))
        count_copied(len(rows))
    except dbapi_error as error:
        # As SQLAlchemy raises a failed statement's error, so that callers (and retries of
        # conflicts: server/store/postgres.py) see a COPY fail as they see an INSERT fail.
        raise DBAPIError.instance(sql, None, error, dbapi_error) from error
    finally:
        cursor.close()
