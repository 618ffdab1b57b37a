"""Ratings stored in (user, movie) order with every column: the covering index 0003 added goes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 11:05:00

One user's ratings are what every recommendation reads (``data.ratings.user_rating_arrays``).
0003 covered that read with a second copy of the ratings, ``(user_id, movie_id, rating)``, which
every load had to build (a fifth of a 25 M-rating SQLite load) and which still left ``rated_at``
out. Now:

- SQLite: the table is rebuilt ``WITHOUT ROWID``, a B-tree on its primary key holding every
  column, so the read is one range scan and a rating is written once, not into a rowid table and
  again into the key's index. SQLite cannot change a table's kind in place: the rows are copied,
  in key order, into a new table that then takes the old one's name and indexes.
- PostgreSQL: the primary key's index carries ``rating`` and ``rated_at`` (``INCLUDE``), so the
  same read is an index-only scan of one index instead of two indexes kept current.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COVERING_INDEX = "ix_ratings_user_movie_rating"
# The indexes the table keeps (a SQLite rebuild creates them again on the new table).
INDEXES = {
    "ix_ratings_movie": ["movie_id"],
    "ix_ratings_user_time": ["user_id", "rated_at"],
    "ix_ratings_time": ["rated_at"],
}
COLUMNS = "user_id, movie_id, rating, rated_at"


def _create_ratings_table(name: str, *, with_rowid: bool) -> None:
    """The ratings table as 0001 made it (its name and kind aside): what the rebuild copies."""
    op.create_table(
        name,
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Float(), nullable=False),
        sa.Column("rated_at", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "rating >= 0.5 AND rating <= 5.0 AND rating * 2 = CAST(rating * 2 AS INTEGER)",
            name="ck_ratings_half_stars",
        ),
        sa.ForeignKeyConstraint(["movie_id"], ["movies.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "movie_id"),
        sqlite_with_rowid=with_rowid,
    )


def _rebuild_sqlite(*, with_rowid: bool, covering_index: bool) -> None:
    """Copy the ratings into a new table of the wanted kind, in key order, and swap it in.

    Nothing refers to ``ratings`` by foreign key, so dropping the old table checks nothing, and
    the whole swap runs in the upgrade's transaction.
    """
    _create_ratings_table("_ratings_new", with_rowid=with_rowid)
    op.execute(
        f"INSERT INTO _ratings_new ({COLUMNS}) SELECT {COLUMNS} FROM ratings "
        "ORDER BY user_id, movie_id"
    )
    op.drop_table("ratings")  # and its indexes
    op.rename_table("_ratings_new", "ratings")
    indexes = dict(INDEXES)
    if covering_index:
        indexes[COVERING_INDEX] = ["user_id", "movie_id", "rating"]
    for name, columns in indexes.items():
        op.create_index(name, "ratings", columns)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(with_rowid=False, covering_index=False)
        return
    op.drop_index(COVERING_INDEX, table_name="ratings")
    op.execute(
        "ALTER TABLE ratings DROP CONSTRAINT ratings_pkey, "
        "ADD CONSTRAINT ratings_pkey PRIMARY KEY (user_id, movie_id) INCLUDE (rating, rated_at)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(with_rowid=True, covering_index=True)
        return
    op.execute(
        "ALTER TABLE ratings DROP CONSTRAINT ratings_pkey, "
        "ADD CONSTRAINT ratings_pkey PRIMARY KEY (user_id, movie_id)"
    )
    op.create_index(COVERING_INDEX, "ratings", ["user_id", "movie_id", "rating"])
