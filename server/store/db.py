"""The database handle: SQLAlchemy Core engine plus the thread that talks to it.

SQLite (WAL) in the data directory is the default. SQLite allows one writer at a time,
so every transaction runs on one dedicated thread: the event loop never blocks on the
database, and writers never wait on each other's locks.

PostgreSQL gets a pool and several threads, so transactions overlap; they run SERIALIZABLE
and are run again when they lose a conflict (server/store/postgres.py), so the domain code
sees the same one-at-a-time world as on SQLite. Transaction functions therefore must not have
effects outside the connection: they return what the caller then acts on.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event

from server.store.postgres import make_postgres_engine, run_serializable

T = TypeVar("T")

# Threads running PostgreSQL transactions; the pool holds one connection for each.
POSTGRES_THREADS = 8


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{Path(data_dir) / 'hivemind.db'}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode is durable across process crashes (only power loss can lose
    # the last transactions), which is what "kill -9 loses nothing" needs.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return make_postgres_engine(url, POSTGRES_THREADS)


class Database:
    """Runs transactions off the event loop: `await db.run(fn, *args)` calls
    `fn(conn, *args)` inside one transaction on the database thread."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = url.startswith("sqlite")
        workers = 1 if self.is_sqlite else POSTGRES_THREADS
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="hivemind-db"
        )

    @classmethod
    def for_data_dir(cls, data_dir: Path, url: str | None = None) -> Database:
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        return cls(url or sqlite_url(Path(data_dir)))

    def create_schema(self) -> None:
        """Creates the tables, or upgrades them to this code's revision (migrate.upgrade)."""
        from server.store import migrate  # it imports this module

        migrate.upgrade(self)

    def transaction_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Runs `fn(conn, ...)` in one transaction on the calling thread (CLI, tests)."""
        if not self.is_sqlite:
            return run_serializable(self.engine, fn, *args, **kwargs)
        with self.engine.begin() as conn:
            return fn(conn, *args, **kwargs)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Runs `fn(conn, ...)` in one transaction on the database thread."""
        loop = asyncio.get_running_loop()
        call = functools.partial(self.transaction_sync, fn, *args, **kwargs)
        return await loop.run_in_executor(self._executor, call)

    def connect(self) -> Connection:
        return self.engine.connect()

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.engine.dispose()
