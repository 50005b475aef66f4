"""What the server counts as it works, for Prometheus (`/metrics`, served by server/web).

Counters and histograms here are process-wide and cheap to bump (an atomic add under a lock,
no query): the RPC interceptor counts every call, the scheduler counts the tasks it leases
and times each lease, result intake counts what nodes report, the PostgreSQL transaction
runner counts the transactions it runs again, and the database engine counts the statements
it runs and the rows they write (server/store/db_work.py). What is cheaper to read than to
count (tasks, jobs and nodes by state, queue depth, ledger totals, bytes the seeder served) is
read when Prometheus scrapes, through a short cache (server/web/metrics.py).

The metrics are made without a registry: each server's web endpoint registers them (with its
own state collector) in a registry of its own, so several servers in one process (tests) can
each serve their own page.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram, disable_created_metrics
from prometheus_client.registry import Collector

# `*_created` series (when each counter was made) double what a scrape carries and nothing
# here reads them.
disable_created_metrics()

# Latency buckets from a heartbeat's sub-millisecond answer to a stalled upload's minutes.
SECONDS_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)

RPC_HANDLED = Counter(
    "hivemind_rpc_handled",
    "gRPC calls the server finished, by method and status code",
    ["method", "code"],
    registry=None,
)
RPC_SECONDS = Histogram(
    "hivemind_rpc_handling_seconds",
    "How long the server took to answer a gRPC call, by method and status code",
    ["method", "code"],
    buckets=SECONDS_BUCKETS,
    registry=None,
)
TASKS_LEASED = Counter(
    "hivemind_tasks_leased",
    "Attempts handed to nodes by LeaseTasks (a replica or a comparison counts as one)",
    registry=None,
)
LEASE_SECONDS = Histogram(
    "hivemind_lease_seconds",
    "How long choosing and recording one LeaseTasks batch took (the transaction and its wait"
    " for the database thread)",
    buckets=SECONDS_BUCKETS,
    registry=None,
)
ATTEMPTS_REPORTED = Counter(
    "hivemind_attempts_reported",
    "Attempts nodes reported, by what they said (completed, failed) and whether the server"
    " took the report (accepted) or refused it",
    ["report", "outcome"],
    registry=None,
)
DB_RETRIES = Counter(
    "hivemind_db_transaction_retries",
    "Transactions run again after losing a serialization conflict (PostgreSQL)",
    registry=None,
)
DB_STATEMENTS = Counter(
    "hivemind_db_statements",
    "SQL statements this server ran, by kind (select, insert, update, delete, lock: PostgreSQL"
    " advisory locks, other); an executemany of N rows counts N",
    ["kind"],
    registry=None,
)
DB_ROWS_WRITTEN = Counter(
    "hivemind_db_rows_written",
    "Rows this server's statements inserted, updated or deleted",
    registry=None,
)
DB_LOCK_WAIT_SECONDS = Counter(
    "hivemind_db_lock_wait_seconds",
    "Seconds spent taking the transaction lock every PostgreSQL transaction takes (the"
    " round trip included); row locks waited for inside other statements are not in it",
    registry=None,
)


def process_collectors() -> list[Collector]:
    """Every metric of this module, for a server's registry."""
    return [
        RPC_HANDLED,
        RPC_SECONDS,
        TASKS_LEASED,
        LEASE_SECONDS,
        ATTEMPTS_REPORTED,
        DB_RETRIES,
        DB_STATEMENTS,
        DB_ROWS_WRITTEN,
        DB_LOCK_WAIT_SECONDS,
    ]


def count_reports(report: str, accepted: int, refused: int) -> None:
    """What a batch of node reports (completions or failures) came to."""
    if accepted:
        ATTEMPTS_REPORTED.labels(report, "accepted").inc(accepted)
    if refused:
        ATTEMPTS_REPORTED.labels(report, "refused").inc(refused)
