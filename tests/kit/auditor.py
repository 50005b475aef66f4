"""The server's database read directly and read-only, as an auditor would: by the path of
its `<data_dir>/hivemind.db`, which stands for whatever database the data dir is configured
with (its SQLite file, or the PostgreSQL database its server.toml names)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Row, create_engine, text
from sqlalchemy.pool import NullPool

from server.config import ServerSettings


def db_file(server: Any) -> Path:
    """Where `query` and `trust_of` find a running server's database (see `_database_url`)."""
    return server.settings.data_dir / "hivemind.db"


def _database_url(db_file: Path) -> str:
    """The database behind a server's `<data_dir>/hivemind.db`: the data dir's configured
    database_url (server.toml or environment, as the server itself loads it), else that
    SQLite file, opened read-only."""
    url = ServerSettings.load(db_file.parent).database_url
    return url or f"sqlite:///file:{db_file}?mode=ro&uri=true"


def _rows(db_file: Path, sql: str, args: tuple) -> list[Row]:
    # `?` placeholders (as sqlite3 takes them) become named binds: the same SQL runs on
    # SQLite and PostgreSQL. NullPool: no connection outlives the call (a test database
    # is dropped at the end of its test).
    names = iter(range(len(args)))
    statement = text(re.sub(r"\?", lambda _: f":p{next(names)}", sql))
    engine = create_engine(_database_url(db_file), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(postgresql_readonly=True)
            return conn.execute(statement, {f"p{i}": v for i, v in enumerate(args)}).all()
    finally:
        engine.dispose()


def query(db_file: Path, sql: str, *args: Any) -> list[tuple]:
    """Reads the server's database directly (read-only), as an auditor would."""
    return [tuple(row) for row in _rows(db_file, sql, args)]


def trust_of(db_file: Path, node_id: str) -> dict[str, Any]:
    rows = _rows(db_file, "SELECT * FROM node_trust WHERE node_id = ?", (node_id,))
    return dict(rows[0]._mapping) if rows else {"consecutive_valid": 0, "invalid_results": 0}
