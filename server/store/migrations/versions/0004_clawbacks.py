"""Clawbacks: what a caught node's owner gave back for paid results that were then discarded
(server/ledger/clawbacks.py), and what their balance could not cover.

Only a new table: no row of an older database changes. Results discarded before the upgrade
stay paid (nothing was recorded to take back).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clawbacks",
        sa.Column("attempt_id", sa.String(length=40), nullable=False),
        sa.Column("tx_id", sa.String(length=40), nullable=True),
        sa.Column("job_id", sa.String(length=40), nullable=False),
        sa.Column("node_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("paid_ucpt", sa.BigInteger(), nullable=False),
        sa.Column("taken_ucpt", sa.BigInteger(), nullable=False),
        sa.Column("shortfall_ucpt", sa.BigInteger(), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("attempt_id"),
    )
    op.create_index("ix_clawbacks_user_time", "clawbacks", ["user_id", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_clawbacks_user_time", table_name="clawbacks")
    op.drop_table("clawbacks")
