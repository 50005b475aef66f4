"""Upload reservations (a storage quota reserved before bytes land, per owner across their
nodes) and when a node last fetched or uploaded each artifact (only then may it say it seeds
it).

Additive: a new table and a nullable column. Artifacts a node held before the upgrade have no
`fetched_at`; the node is listed as their seeder again once it fetches or uploads them.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upload_reservations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("owner_id", sa.String(length=40), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_upload_reservations_owner",
        "upload_reservations",
        ["owner_id", "expires_at"],
        unique=False,
    )
    with op.batch_alter_table("artifact_owners") as batch:
        batch.add_column(sa.Column("fetched_at", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("artifact_owners") as batch:
        batch.drop_column("fetched_at")
    op.drop_index("ix_upload_reservations_owner", table_name="upload_reservations")
    op.drop_table("upload_reservations")
