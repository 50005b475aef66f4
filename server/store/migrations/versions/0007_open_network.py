"""An open network: the networks nodes and submitters call from, each node's lease quota,
day counters and quarantine, and replica slots kept for established nodes
(docs/SECURITY.md, "A hostile account").

Only new columns, each with a server default that fills the rows already there: nodes and
jobs seen before have no network yet (a node's is recorded at its next call), every node
starts at the initial lease quota with a fresh day, and no slot is kept for established
nodes. The defaults stay (schema.py declares them too), so no table is rebuilt.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

NODE_TRUST_COLUMNS = (
    ("lease_quota", sa.Integer(), "0"),
    ("day_started_at", sa.Float(), "0"),
    ("leases_today", sa.Integer(), "0"),
    ("results_today", sa.Integer(), "0"),
    ("errors_today", sa.Integer(), "0"),
    ("refuted_today", sa.Integer(), "0"),
    ("earned_today_ucpt", sa.BigInteger(), "0"),
    ("quarantined_until", sa.Float(), "0"),
    ("quarantine_reason", sa.Text(), ""),
)


def _network() -> sa.Column:
    return sa.Column("network", sa.String(length=64), nullable=False, server_default="")


def _add_missing(table: str, column: sa.Column) -> None:
    """Adds the column unless the table has it (a test that builds the tables of commit
    14b38c0 from today's metadata gives them every column already)."""
    have = {found["name"] for found in sa.inspect(op.get_bind()).get_columns(table)}
    if column.name not in have:
        op.add_column(table, column)


def upgrade() -> None:
    _add_missing("nodes", _network())
    _add_missing("jobs", _network())
    _add_missing("result_checks", _network())
    for name, kind, default in NODE_TRUST_COLUMNS:
        _add_missing("node_trust", sa.Column(name, kind, nullable=False, server_default=default))
    _add_missing(
        "task_replicas",
        sa.Column("needs_established", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("task_replicas") as table:
        table.drop_column("needs_established")
    with op.batch_alter_table("node_trust") as table:
        for name, _, _ in reversed(NODE_TRUST_COLUMNS):
            table.drop_column(name)
    for name in ("result_checks", "jobs", "nodes"):
        with op.batch_alter_table(name) as table:
            table.drop_column("network")
