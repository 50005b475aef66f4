"""A task's attempts are looked up by task and state together: one index on both.

Leasing asks, for each pending task, whether it has attempts in some states on this node's
owner or network (scheduling/lease_trust.py). With an index on task_id alone, PostgreSQL
could plan that as a BitmapAnd of it and ix_attempts_state_deadline, whose state part
matches most attempts: while a new network's tables grew faster than their statistics, a
lease then read every live attempt's index entry for each task it looked at (60 to 460 ms
instead of 1 to 3). An index on (task_id, state) answers the question by itself and serves
every look-up by task_id, so it replaces ix_attempts_task_id.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_attempts_task_state", "attempts", ["task_id", "state"], unique=False)
    op.drop_index("ix_attempts_task_id", table_name="attempts")


def downgrade() -> None:
    op.create_index("ix_attempts_task_id", "attempts", ["task_id"], unique=False)
    op.drop_index("ix_attempts_task_state", table_name="attempts")
