"""Sign-ups per client address: the sign-up limit moves from each server process's memory into
the database, so every server on one database counts the same sign-ups and a restart keeps
them (server/accounts/signup_limits.py).

Only a new table: no row of an older database changes. The limit starts counting at the
upgrade (accounts opened before it are not counted, as a restart forgot them before).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_signups_address_created", "signups", ["address_hash", "created_at"], unique=False
    )
    op.create_index("ix_signups_created", "signups", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_signups_created", table_name="signups")
    op.drop_index("ix_signups_address_created", table_name="signups")
    op.drop_table("signups")
