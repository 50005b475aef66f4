"""A database as a server at revision 0001 left it, and other helpers of the migration tests
(test_migrations.py, test_migrations_cli.py, test_signup_limits_shared.py). The database
itself comes from the `open_database` fixture (conftest.py): SQLite, or PostgreSQL with
--db=postgres.

Rows are written with plain SQL, not with the current code: that code expects the current
schema, and these rows must look exactly as an old server wrote them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from server.accounts.passwords import hash_password
from server.store import migrate
from server.store.db import Database
from tests.kit.accounts import PASSWORD

CPT = 1_000_000
HEAD = "0011"


def insert_0001_rows(conn: Any) -> None:
    """What a server at revision 0001 had written: alice with a grant, a node of hers, and a
    cancelled job with its task, attempt, escrow and refund (plain SQL: no current code)."""
    rows = {
        "users": [
            {
                "id": "user-alice",
                "username": "alice",
                "username_key": "alice",
                "password_hash": hash_password(PASSWORD),
                "is_admin": False,
                "created_at": 1.0,
                "failed_logins": 0,
                "locked_until": 0.0,
            }
        ],
        "accounts": [
            {"id": "acct-mint", "name": "system:mint", "kind": "system", "balance": -100 * CPT},
            {"id": "acct-alice", "name": "user:user-alice", "kind": "user", "balance": 100 * CPT},
            {"id": "acct-escrow", "name": "escrow:job-old", "kind": "escrow", "balance": 0},
        ],
        "ledger_transactions": [
            ("tx-grant", "signup:user-alice", "grant"),
            ("tx-escrow", "escrow:job-old", "escrow"),
            ("tx-refund", "refund:job-old", "refund"),
        ],
        "ledger_entries": [
            ("tx-grant", "acct-mint", -100 * CPT, -100 * CPT),
            ("tx-grant", "acct-alice", 100 * CPT, 100 * CPT),
            ("tx-escrow", "acct-alice", -5000, 100 * CPT - 5000),
            ("tx-escrow", "acct-escrow", 5000, 5000),
            ("tx-refund", "acct-escrow", -5000, 0),
            ("tx-refund", "acct-alice", 5000, 100 * CPT),
        ],
    }
    conn.execute(
        text(
            "INSERT INTO users (id, username, username_key, password_hash, is_admin, created_at,"
            " failed_logins, locked_until) VALUES (:id, :username, :username_key,"
            " :password_hash, :is_admin, :created_at, :failed_logins, :locked_until)"
        ),
        rows["users"],
    )
    conn.execute(
        text(
            "INSERT INTO accounts (id, name, kind, user_id, job_id, balance_ucpt, created_at)"
            " VALUES (:id, :name, :kind, NULL, NULL, :balance, 1.0)"
        ),
        rows["accounts"],
    )
    conn.execute(
        text(
            "INSERT INTO ledger_transactions (id, idempotency_key, reason, memo, created_at,"
            " job_id, attempt_id) VALUES (:id, :key, :reason, '', 2.0, NULL, NULL)"
        ),
        [{"id": i, "key": k, "reason": r} for i, k, r in rows["ledger_transactions"]],
    )
    conn.execute(
        text(
            "INSERT INTO ledger_entries (tx_id, account_id, amount_ucpt, balance_after_ucpt)"
            " VALUES (:tx, :account, :amount, :after)"
        ),
        [{"tx": t, "account": a, "amount": m, "after": b} for t, a, m, b in rows["ledger_entries"]],
    )
    conn.execute(
        text(
            "INSERT INTO nodes (id, owner_id, name, secret_hash, hardware_json, benchmark_score,"
            " runtimes_json, executors_json, usage_json, created_at, last_seen, online,"
            " paused, banned, ban_reason, bt_endpoint) VALUES ('node-old', 'user-alice',"
            " 'old box', :secret, '{}', 1.5, '[]', '[\"process\"]', '{}', 3.0, 3.0, :no, :no,"
            " :no, '', '')"
        ),
        {"secret": "0" * 64, "no": False},
    )
    conn.execute(
        text(
            "INSERT INTO jobs (id, owner_id, name, state, runtime, command_json, package_digest,"
            " cores, memory_mb, disk_mb, gpus, timeout_s, max_attempts, replicas,"
            " priority_permille, max_cost_ucpt, cost_ucpt, refunded_ucpt, escrow_account_id,"
            " idempotency_key, tasks_total, tasks_done, tasks_failed, tasks_cancelled,"
            " created_at, updated_at, finished_at) VALUES ('job-old', 'user-alice', 'old job',"
            " 'cancelled', 'python-3.11', '[\"python3\", \"main.py\"]', :digest, 1, 64, 0, 0,"
            " 60, 3, 1, 1000, 5000, 0, 5000, 'acct-escrow', 'key-old', 1, 0, 0, 1, 4.0, 5.0,"
            " 5.0)"
        ),
        {"digest": "a" * 64},
    )
    conn.execute(
        text(
            "INSERT INTO tasks (id, job_id, idx, state, input_digest, input_name, input_size,"
            " attempts, error, result_digest, result_size, accepted_attempt_id, node_id,"
            " cost_ucpt, log, updated_at) VALUES ('task-old', 'job-old', 0, 'cancelled', '',"
            " '', 0, 1, 'cancelled by owner', '', 0, NULL, 'node-old', 0, 'partial log\n', 5.0)"
        )
    )
    conn.execute(
        text(
            "INSERT INTO attempts (id, task_id, job_id, node_id, state, leased_at,"
            " lease_deadline, started_at, finished_at, exit_code, error, result_digest,"
            " result_size, log, cpu_seconds, wall_seconds, peak_memory_mb, cancel_requested)"
            " VALUES ('attempt-old', 'task-old', 'job-old', 'node-old', 'cancelled', 4.0, 64.0,"
            " 4.5, 5.0, NULL, 'cancelled', '', 0, 'partial log\n', 0.25, 0.5, 12, :yes)"
        ),
        {"yes": True},
    )


ROW_COUNTS_0001 = {
    "users": 1,
    "accounts": 3,
    "ledger_transactions": 3,
    "ledger_entries": 6,
    "nodes": 1,
    "jobs": 1,
    "tasks": 1,
    "attempts": 1,
}


def count_rows(conn: Any) -> dict[str, int]:
    return {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar() for t in ROW_COUNTS_0001}


def make_0001_database(data_dir: Path, open_database: Callable[[Path], Database]) -> None:
    db = open_database(data_dir)
    try:
        migrate.migrate_to(db, "0001")
        db.transaction_sync(insert_0001_rows)
        assert db.transaction_sync(count_rows) == ROW_COUNTS_0001
    finally:
        db.close()
