"""Transactions on PostgreSQL that behave as SQLite's: as if each ran alone.

The domain code reads, decides in Python, then writes (the escrow left for a payout, whether
two replicas agree, whether a node's trust row exists yet). On SQLite one thread runs every
transaction, so that is safe. On PostgreSQL transactions overlap (several DB threads, several
server replicas), so they run SERIALIZABLE: PostgreSQL aborts any transaction whose outcome
would differ from some serial order, and it is run again from the start.

Under steady contention (many completions paying from one job's escrow, pollers reading the
same tables) a transaction could lose again and again. So every transaction holds a shared
advisory lock while it runs, and one that lost takes that lock exclusively for its next try:
it then runs alone in the database, as every transaction does on SQLite, and cannot lose.
The lock is taken before the transaction begins, so its snapshot already sees everything
that committed while it waited. Escalating after the first loss measured faster than retrying
side by side a few times (bench/coordinator.py on 2 cores: 680 against 530 tasks/s): the
transactions that collide, such as payouts from one escrow, tend to collide again.

The hot path is the exception (`locks_rows`): leasing and completing attempts collide all the
time under SERIALIZABLE (every completion pays from its job's escrow and counts on its job's
row, every lease reads the same pending tasks), and a transaction that loses has done all its
work for nothing. Those functions take the row locks their decisions need instead (the node's
row, the attempts with their tasks, the jobs and their escrows, as late as a completion can;
pending tasks with SKIP LOCKED) and run READ COMMITTED: they wait for a lock, never lose a
conflict, and run again only after a deadlock or a key inserted at the same moment by
another transaction. They hold the shared advisory lock for the transaction, so a
transaction running alone still runs alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.exc import DBAPIError

from server import metrics

T = TypeVar("T")

log = logging.getLogger("hivemind.db")

# serialization_failure, deadlock_detected: the transaction did nothing; run it again.
RETRY_SQLSTATES = frozenset({"40001", "40P01"})
# A READ COMMITTED transaction that checked a key was free and inserted it just after another
# did (unique_violation): run again, it then sees the row.
ROW_LOCKED_RETRY_SQLSTATES = RETRY_SQLSTATES | {"23505"}
ESCALATE_AFTER = 1  # tries side by side with others before one alone
# A try that runs alone cannot lose a conflict: this only bounds a broken loop.
MAX_TRIES = ESCALATE_AFTER + 3
# Advisory locks are per database: one key for HiveMind's transactions ("HIVE").
SERIAL_LOCK_KEY = 0x48495645


def make_postgres_engine(url: str, threads: int) -> Engine:
    psycopg_log = logging.getLogger("psycopg")
    if not any(isinstance(f, _PipelineAbortNoise) for f in psycopg_log.filters):
        psycopg_log.addFilter(_PipelineAbortNoise())
    return create_engine(
        url,
        pool_size=threads,
        max_overflow=4,  # transaction_sync callers outside the DB threads (CLI, tests)
        pool_pre_ping=True,
        isolation_level="SERIALIZABLE",
        # psycopg prepares a statement after a few runs, and PostgreSQL then keeps a generic
        # plan made when the tables were small: on a new network, growing fast, a payout's
        # idempotency-key lookup kept scanning ledger_transactions (4.6 ms, not 1).
        connect_args={"options": "-c plan_cache_mode=force_custom_plan"},
    )


F = TypeVar("F", bound=Callable[..., Any])


def locks_rows(fn: F) -> F:
    """Marks a transaction function that locks the rows its decisions read (SELECT ... FOR
    UPDATE; SKIP LOCKED for work to take), so on PostgreSQL it runs READ COMMITTED (see the
    module docstring). On SQLite, which runs one transaction at a time, nothing changes."""
    fn.locks_rows = True  # type: ignore[attr-defined]
    return fn


def run_serializable(engine: Engine, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Runs `fn(conn, ...)` in one SERIALIZABLE transaction, again while it loses conflicts;
    a `locks_rows` function in one READ COMMITTED transaction."""
    row_locked = getattr(fn, "locks_rows", False)
    retry = ROW_LOCKED_RETRY_SQLSTATES if row_locked else RETRY_SQLSTATES
    for attempt in range(1, MAX_TRIES + 1):
        alone = attempt > ESCALATE_AFTER
        try:
            if row_locked and not alone:
                return _run_read_committed(engine, fn, *args, **kwargs)
            with engine.connect() as conn, _SerialLock(conn, alone), conn.begin():
                return fn(conn, *args, **kwargs)
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) not in retry:
                raise
            if attempt == MAX_TRIES:
                raise
            metrics.DB_RETRIES.inc()
            log.debug("retry fn=%s try=%d alone=%s: %s", _name(fn), attempt, alone, error.orig)
    raise AssertionError("unreachable")


def _run_read_committed(engine: Engine, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="READ COMMITTED")
        with conn.begin():
            # Released at commit: a transaction that must run alone waits for this one.
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock_shared({SERIAL_LOCK_KEY})")
            return fn(conn, *args, **kwargs)


class _SerialLock:
    """Holds the advisory lock (shared, or exclusive when `alone`) around one transaction."""

    def __init__(self, conn: Connection, alone: bool) -> None:
        self.conn = conn
        self.suffix = "" if alone else "_shared"

    def __enter__(self) -> None:
        # Session-level lock, in a transaction of its own that ends before `fn`'s begins.
        with self.conn.begin():
            self.conn.exec_driver_sql(f"SELECT pg_advisory_lock{self.suffix}({SERIAL_LOCK_KEY})")

    def __exit__(self, *exc: object) -> None:
        try:
            with self.conn.begin():
                self.conn.exec_driver_sql(
                    f"SELECT pg_advisory_unlock{self.suffix}({SERIAL_LOCK_KEY})"
                )
        except Exception:
            # A session that may still hold the lock never goes back to the pool: closing
            # it releases the lock (a leaked shared lock would block every escalation).
            self.conn.invalidate()
            if exc[0] is None:
                raise


def _name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)


class _PipelineAbortNoise(logging.Filter):
    """psycopg's executemany() runs in pipeline mode; when a statement in it fails (here: a
    serialization conflict, which run_serializable retries), psycopg also logs a WARNING
    "error ignored terminating <Pipeline>: pipeline aborted" (see psycopg/psycopg#266). The
    error itself is raised and handled: the second message would only alarm admins."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (message.startswith("error ignored terminating") and "aborted" in message)
