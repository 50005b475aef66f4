"""Transfers to names without an account, counted per sender and hour (server/accounts/
recipients.py), so that Transfer cannot enumerate usernames for free.

Existing users start with no misses. The new NOT NULL columns need a server default to fill
the rows already there; it is dropped afterwards, as in 0002, so a migrated database equals
a new one.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as users:
        users.add_column(
            sa.Column("transfer_misses", sa.Integer(), nullable=False, server_default="0")
        )
        users.add_column(
            sa.Column("transfer_misses_since", sa.Float(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("users") as users:
        users.alter_column("transfer_misses", existing_type=sa.Integer(), server_default=None)
        users.alter_column("transfer_misses_since", existing_type=sa.Float(), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("users") as users:
        users.drop_column("transfer_misses_since")
        users.drop_column("transfer_misses")
