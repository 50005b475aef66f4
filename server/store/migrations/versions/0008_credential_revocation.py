"""Credential revocation: a credential generation per user, bumped by a role change, a ban or a
password change so that access tokens issued before it are refused (server/accounts/
revocation.py), and user bans.

Existing users start at generation 0, which is what every access token issued before this
revision is read as; nobody is banned. Access tokens of older servers have another format
and are refused anyway: clients refresh them silently.

The new NOT NULL columns need a server default to fill the rows already there; it is dropped
afterwards, as in 0002, so a migrated database equals a new one.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as users:
        users.add_column(
            sa.Column("credential_generation", sa.Integer(), nullable=False, server_default="0")
        )
        users.add_column(
            sa.Column("banned", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        users.add_column(sa.Column("ban_reason", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("users") as users:
        users.alter_column("credential_generation", existing_type=sa.Integer(), server_default=None)
        users.alter_column("banned", existing_type=sa.Boolean(), server_default=None)
        users.alter_column("ban_reason", existing_type=sa.Text(), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("users") as users:
        users.drop_column("ban_reason")
        users.drop_column("banned")
        users.drop_column("credential_generation")
