"""Starter credit: jobs say whether their escrow came from the owner's starter credit
(server/ledger/starter.py). Starter accounts are rows of `accounts` (kind "starter"), made on
first use: no table changes for them.

Existing jobs were paid with CPT: they stay so (starter_funded false). CPT that existing
accounts received as a sign-up grant stays CPT; only accounts opened from now on get starter
credit. The NOT NULL column needs a server default to fill the rows already there; it is
dropped afterwards, as in 0002, so a migrated database equals a new one.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as jobs:
        jobs.add_column(
            sa.Column("starter_funded", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("jobs") as jobs:
        jobs.alter_column("starter_funded", existing_type=sa.Boolean(), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("jobs") as jobs:
        jobs.drop_column("starter_funded")
