"""The link store's first schema: links (id → canonical query) and one usage row (how much is stored).

Revision ID: 0001_links
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_links"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "links",
        sa.Column("id", sa.String(10), primary_key=True),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    usage = op.create_table(
        "link_usage",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("links", sa.BigInteger, nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.CheckConstraint("id = 1", name="link_usage_one_row"),
    )
    op.bulk_insert(usage, [{"id": 1, "links": 0, "bytes": 0}])


def downgrade() -> None:
    op.drop_table("link_usage")
    op.drop_table("links")
