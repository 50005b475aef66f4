"""Rounds: jobs with an aggregate command (training, map-reduce; server/jobs/rounds.py).

Jobs gain their round settings and the round they are in; tasks gain their round, and a task
is unique per (job, round, index) instead of per (job, index); table job_rounds holds each
round of a job with rounds. Every job already there is a job without rounds: one round, no
aggregate, its tasks in round 0, `round_tasks` its task count.

The new NOT NULL columns need a server default to fill the rows already there; the default
is dropped afterwards, as in 0002 (create_all's tables have none).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

JOB_COLUMNS = (
    ("rounds", sa.Integer(), "1"),
    ("aggregate_json", sa.Text(), ""),
    ("min_results", sa.Integer(), "0"),
    ("round_deadline_s", sa.Integer(), "0"),
    ("round_tasks", sa.Integer(), "0"),
    ("current_round", sa.Integer(), "0"),
)


def upgrade() -> None:
    op.create_table(
        "job_rounds",
        sa.Column("job_id", sa.String(length=40), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("model_digest", sa.String(length=64), nullable=False),
        sa.Column("tasks_accepted", sa.Integer(), nullable=False),
        sa.Column("result_digest", sa.String(length=64), nullable=False),
        sa.Column("result_size", sa.BigInteger(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("closed_at", sa.Float(), nullable=True),
        sa.Column("ended_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"]),
        sa.PrimaryKeyConstraint("job_id", "round"),
    )
    op.create_index("ix_job_rounds_state", "job_rounds", ["state", "started_at"], unique=False)
    with op.batch_alter_table("jobs") as jobs:
        for name, kind, default in JOB_COLUMNS:
            jobs.add_column(sa.Column(name, kind, nullable=False, server_default=default))
    op.execute("UPDATE jobs SET round_tasks = tasks_total")
    with op.batch_alter_table("jobs") as jobs:
        for name, kind, _default in JOB_COLUMNS:
            jobs.alter_column(name, existing_type=kind, server_default=None)
    with op.batch_alter_table("tasks") as tasks:
        tasks.add_column(sa.Column("round", sa.Integer(), nullable=False, server_default="0"))
        tasks.drop_constraint("uq_tasks_job_idx", type_="unique")
        tasks.create_unique_constraint("uq_tasks_job_round_idx", ["job_id", "round", "idx"])
    with op.batch_alter_table("tasks") as tasks:
        tasks.alter_column("round", existing_type=sa.Integer(), server_default=None)


def downgrade() -> None:
    # Only jobs without rounds fit the older schema: their tasks are all in round 0.
    with op.batch_alter_table("tasks") as tasks:
        tasks.drop_constraint("uq_tasks_job_round_idx", type_="unique")
        tasks.create_unique_constraint("uq_tasks_job_idx", ["job_id", "idx"])
        tasks.drop_column("round")
    with op.batch_alter_table("jobs") as jobs:
        for name, _kind, _default in reversed(JOB_COLUMNS):
            jobs.drop_column(name)
    op.drop_index("ix_job_rounds_state", table_name="job_rounds")
    op.drop_table("job_rounds")
