"""The database handle: SQLAlchemy Core engine plus the thread that talks to it.

SQLite (WAL) in the data directory is the default. SQLite allows one writer at a time,
so every transaction runs on one dedicated thread: the event loop never blocks on the
database, and writers never wait on each other's locks.

PostgreSQL gets a pool and several threads, so transactions overlap; they run SERIALIZABLE
and are run again when they lose a conflict (server/store/postgres.py), so the domain code
sees the same one-at-a-time world as on SQLite. Transaction functions therefore must not have
effects outside the connection: they return what the caller then acts on.

Waiting transactions are served fairly between accounts, not first come first served: each
one is queued under `current_account` (the RPC edge sets it per call, server/rpc/budgets.py;
background work has none), and a free thread takes the oldest transaction of the account
next in turn. However many transactions one account queues (the batches of a huge job, a
flood of calls), another account's next transaction waits for at most one of each other
account's.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import functools
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event

from server.store.db_work import count_database_work
from server.store.postgres import make_postgres_engine, run_serializable

T = TypeVar("T")

# Threads running PostgreSQL transactions; the pool holds one connection for each.
POSTGRES_THREADS = 8

# Whose work the running task does ("" = the server's own); Database.run queues by it.
current_account: contextvars.ContextVar[str] = contextvars.ContextVar(
    "hivemind_account", default=""
)


@dataclass
class _Waiting:
    call: Callable[[], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


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
    else:
        engine = make_postgres_engine(url, POSTGRES_THREADS)
    count_database_work(engine)  # the hivemind_db_* metrics
    return engine


class Database:
    """Runs transactions off the event loop: `await db.run(fn, *args)` calls
    `fn(conn, *args)` inside one transaction on the database thread."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = url.startswith("sqlite")
        self._workers = 1 if self.is_sqlite else POSTGRES_THREADS
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=self._workers, thread_name_prefix="hivemind-db"
        )
        # account -> its waiting transactions; the order of keys is the order of turns.
        self._waiting: OrderedDict[str, deque[_Waiting]] = OrderedDict()
        self._running = 0
        self._lock = threading.Lock()

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
        """Runs `fn(conn, ...)` in one transaction on the database thread, in the calling
        account's turn (see the module docstring)."""
        loop = asyncio.get_running_loop()
        waiting = _Waiting(
            functools.partial(self.transaction_sync, fn, *args, **kwargs),
            loop.create_future(),
            loop,
        )
        with self._lock:
            self._waiting.setdefault(current_account.get(), deque()).append(waiting)
        self._dispatch()
        return await waiting.future

    def _dispatch(self) -> None:
        """Hands waiting transactions to free threads, one account after another. Any thread."""
        while True:
            with self._lock:
                if self._running >= self._workers or not self._waiting:
                    return
                account, queue = next(iter(self._waiting.items()))
                waiting = queue.popleft()
                if queue:
                    self._waiting.move_to_end(account)  # the others go first next time
                else:
                    del self._waiting[account]
                if waiting.future.cancelled():  # its caller stopped waiting: never run
                    continue
                self._running += 1
            try:
                started = self._executor.submit(waiting.call)
            except RuntimeError as error:  # closed
                with self._lock:
                    self._running -= 1
                _answer(waiting, None, error)
                continue
            started.add_done_callback(functools.partial(self._finished, waiting))

    def _finished(self, waiting: _Waiting, done: concurrent.futures.Future[Any]) -> None:
        with self._lock:
            self._running -= 1
        try:
            result, error = done.result(), None
        except BaseException as exc:  # the transaction's own error, or cancelled at close
            result, error = None, exc
        _answer(waiting, result, error)
        self._dispatch()

    def connect(self) -> Connection:
        return self.engine.connect()

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        with self._lock:
            left = [waiting for queue in self._waiting.values() for waiting in queue]
            self._waiting.clear()
        for waiting in left:
            _answer(waiting, None, RuntimeError("the database is closed"))
        self.engine.dispose()


def _answer(waiting: _Waiting, result: Any, error: BaseException | None) -> None:
    """Resolves a caller's future on its own loop (from any thread)."""
    with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits any more
        waiting.loop.call_soon_threadsafe(_settle, waiting.future, result, error)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if isinstance(error, concurrent.futures.CancelledError):
        future.cancel()
    elif error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
