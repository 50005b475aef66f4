"""Verification and compare commands: node trust, task replicas, result checks and comparisons
(commits 14b38c0 and 1052818).

A server of those versions ran `create_all` at every start, which makes missing tables but
never adds a column. So a database that met such a server before migrations existed may
already hold node_trust, task_replicas and result_checks (without jobs.compare_json): those
tables are created here only when missing.

The new NOT NULL columns need a server default to fill the rows already there; the default is
dropped afterwards because create_all's tables have none (the code always writes them), and
a migrated database must equal a new one. On SQLite dropping a default rebuilds the table
(batch mode): foreign keys are kept, and server/store/migrate.py checks them before commit.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _existing_tables() -> set[str]:
    return set(sa.inspect(op.get_bind()).get_table_names())


def upgrade() -> None:
    existing = _existing_tables()
    if "node_trust" not in existing:
        op.create_table(
            "node_trust",
            sa.Column("node_id", sa.String(length=40), nullable=False),
            sa.Column("consecutive_valid", sa.Integer(), nullable=False),
            sa.Column("valid_results", sa.Integer(), nullable=False),
            sa.Column("invalid_results", sa.Integer(), nullable=False),
            sa.Column("errors", sa.Integer(), nullable=False),
            sa.Column("expired_leases", sa.Integer(), nullable=False),
            sa.Column("spot_checks_passed", sa.Integer(), nullable=False),
            sa.Column("spot_checks_failed", sa.Integer(), nullable=False),
            sa.Column("last_invalid_at", sa.Float(), nullable=False),
            sa.Column("last_expired_at", sa.Float(), nullable=False),
            sa.Column("last_offline_at", sa.Float(), nullable=False),
            sa.Column("updated_at", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("node_id"),
        )
    if "task_replicas" not in existing:
        op.create_table(
            "task_replicas",
            sa.Column("task_id", sa.String(length=40), nullable=False),
            sa.Column("job_id", sa.String(length=40), nullable=False),
            sa.Column("quorum", sa.Integer(), nullable=False),
            sa.Column("open_slots", sa.Integer(), nullable=False),
            sa.Column("max_results", sa.Integer(), nullable=False),
            sa.Column("max_paid", sa.Integer(), nullable=False),
            sa.Column("paid", sa.Integer(), nullable=False),
            sa.Column("spot_check", sa.Boolean(), nullable=False),
            sa.Column("subject_attempt_id", sa.String(length=40), nullable=True),
            sa.Column("canonical_digest", sa.String(length=64), nullable=False),
            sa.Column("updated_at", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("task_id"),
        )
        op.create_index(op.f("ix_task_replicas_job_id"), "task_replicas", ["job_id"], unique=False)
    if "result_checks" not in existing:
        op.create_table(
            "result_checks",
            sa.Column("attempt_id", sa.String(length=40), nullable=False),
            sa.Column("task_id", sa.String(length=40), nullable=False),
            sa.Column("job_id", sa.String(length=40), nullable=False),
            sa.Column("node_id", sa.String(length=40), nullable=False),
            sa.Column("owner_id", sa.String(length=40), nullable=False),
            sa.Column("result_digest", sa.String(length=64), nullable=False),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("created_at", sa.Float(), nullable=False),
            sa.Column("decided_at", sa.Float(), nullable=True),
            sa.PrimaryKeyConstraint("attempt_id"),
        )
        op.create_index(
            "ix_result_checks_node_status",
            "result_checks",
            ["node_id", "status", "decided_at"],
            unique=False,
        )
        op.create_index(
            op.f("ix_result_checks_task_id"), "result_checks", ["task_id"], unique=False
        )
    op.create_table(
        "result_comparisons",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("task_id", sa.String(length=40), nullable=False),
        sa.Column("job_id", sa.String(length=40), nullable=False),
        sa.Column("digest_a", sa.String(length=64), nullable=False),
        sa.Column("digest_b", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("attempt_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("decided_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id", "digest_a", "digest_b", name="uq_result_comparisons_pair"),
    )
    op.create_index(
        "ix_result_comparisons_state", "result_comparisons", ["state", "created_at"], unique=False
    )
    op.create_index(
        op.f("ix_result_comparisons_task_id"), "result_comparisons", ["task_id"], unique=False
    )

    with op.batch_alter_table("attempts") as attempts:
        attempts.add_column(sa.Column("comparison_id", sa.String(length=40), nullable=True))
    # Existing jobs had no compare command: "" and 0 mean "digests must be equal".
    with op.batch_alter_table("jobs") as jobs:
        jobs.add_column(sa.Column("compare_json", sa.Text(), nullable=False, server_default=""))
        jobs.add_column(
            sa.Column("compare_timeout_s", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("jobs") as jobs:
        jobs.alter_column("compare_json", existing_type=sa.Text(), server_default=None)
        jobs.alter_column("compare_timeout_s", existing_type=sa.Integer(), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("jobs") as jobs:
        jobs.drop_column("compare_timeout_s")
        jobs.drop_column("compare_json")
    with op.batch_alter_table("attempts") as attempts:
        attempts.drop_column("comparison_id")
    for table in ("result_comparisons", "result_checks", "task_replicas", "node_trust"):
        op.drop_table(table)
