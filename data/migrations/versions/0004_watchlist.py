"""The watchlist table: movies a user saved to watch later (issue 13).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 04:28:33.164510
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
        "watchlist",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["movie_id"], ["movies.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "movie_id"),
    )
    with op.batch_alter_table("watchlist", schema=None) as batch_op:
        batch_op.create_index("ix_watchlist_user_time", ["user_id", "added_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("watchlist", schema=None) as batch_op:
        batch_op.drop_index("ix_watchlist_user_time")

    op.drop_table("watchlist")
