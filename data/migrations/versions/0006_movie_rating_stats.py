"""Per-movie rating aggregates kept current on write: ``movie_rating_stats`` and its triggers.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 14:40:00

The home-screen rails and the catalog's popularity and rating sorts need every movie's count,
average and first rating. Aggregated from ``ratings`` on read, that is a pass over every rating
(minutes at 25 M on SQLite, once per worker per minute). Now one row per rated movie holds them,
and triggers on ``ratings`` keep it exact inside each writing statement's transaction, whoever
writes (the API, the ETL, a cascade from a deleted movie or user):

- insert: count + 1, sum + rating, first rating the earlier of the two (an upsert, so the first
  rating of a movie creates its row);
- delete: the row goes with the movie's last rating; otherwise count - 1, sum - rating, and when
  the deleted rating was the movie's first, the first rating is looked up again for that movie;
- update (of the movie, the rating or its time, as a re-rating or the ETL's merge does): a delete
  of the old row and an insert of the new one.

SQLite runs one writer at a time, so its triggers need no locking. On PostgreSQL the upsert and
the row's update lock the movie's row; the delete branch locks it before it looks the first
rating up again, so that the look-up (a new snapshot in READ COMMITTED) sees every rating a
concurrent writer of that movie committed.

The table is filled from the ratings already stored (on SQLite with a scan of the table, not a
look-up per rating through ``ix_ratings_movie``). The ETL's first load into an empty table drops
the triggers and rebuilds the table in one statement instead (``data.bulk``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COLUMNS = "movie_id, rating_count, rating_sum, first_rated_at"
AGGREGATES = "movie_id, count(*), sum(rating), min(rated_at)"

# What a removed rating (OLD) takes away; the same statements serve DELETE and UPDATE. The
# first rating is looked up in the table as the statement left it: PostgreSQL runs AFTER ROW
# triggers once the whole statement is done, so a DELETE of several of a movie's ratings may
# have removed them all when the first of its triggers looks (the row's value is then kept, and
# the last of those triggers deletes the row).
_REMOVE_OLD = """
    DELETE FROM movie_rating_stats WHERE movie_id = OLD.movie_id AND rating_count = 1;
    UPDATE movie_rating_stats SET
        rating_count = rating_count - 1,
        rating_sum = rating_sum - OLD.rating,
        first_rated_at = CASE WHEN first_rated_at < OLD.rated_at THEN first_rated_at
            ELSE COALESCE(
                (SELECT min(rated_at) FROM ratings WHERE movie_id = OLD.movie_id), first_rated_at
            ) END
    WHERE movie_id = OLD.movie_id;
"""


def _add_new(earlier: str) -> str:
    """What an added rating (NEW) brings; ``earlier`` is the dialect's min of two values."""
    return f"""
    INSERT INTO movie_rating_stats ({COLUMNS})
    VALUES (NEW.movie_id, 1, NEW.rating, NEW.rated_at)
    ON CONFLICT (movie_id) DO UPDATE SET
        rating_count = movie_rating_stats.rating_count + 1,
        rating_sum = movie_rating_stats.rating_sum + excluded.rating_sum,
        first_rated_at = {earlier}(movie_rating_stats.first_rated_at, excluded.first_rated_at);
"""


_UPDATED_COLUMNS = "movie_id, rating, rated_at"
SQLITE_TRIGGERS = {
    "ratings_stats_insert": f"AFTER INSERT ON ratings BEGIN {_add_new('min')} END",
    "ratings_stats_delete": f"AFTER DELETE ON ratings BEGIN {_REMOVE_OLD} END",
    "ratings_stats_update": (
        f"AFTER UPDATE OF {_UPDATED_COLUMNS} ON ratings BEGIN {_REMOVE_OLD} {_add_new('min')} END"
    ),
}

POSTGRES_FUNCTION = "movie_rating_stats_apply"
POSTGRES_TRIGGER = "ratings_stats"
_POSTGRES_BODY = f"""
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM 1 FROM movie_rating_stats WHERE movie_id = OLD.movie_id FOR UPDATE;
        {_REMOVE_OLD}
    END IF;
    IF TG_OP <> 'DELETE' THEN
        {_add_new("LEAST")}
    END IF;
    RETURN NULL;
END
"""


def upgrade() -> None:
    op.create_table(
        "movie_rating_stats",
        sa.Column("movie_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("rating_count", sa.Integer(), nullable=False),
        sa.Column("rating_sum", sa.Float(), nullable=False),
        sa.Column("first_rated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["movie_id"], ["movies.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("movie_id"),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    source = "ratings NOT INDEXED" if sqlite else "ratings"
    op.execute(
        f"INSERT INTO movie_rating_stats ({COLUMNS}) "
        f"SELECT {AGGREGATES} FROM {source} GROUP BY movie_id"
    )
    if sqlite:
        for name, definition in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {definition}")
        return
    op.execute(
        f"CREATE OR REPLACE FUNCTION {POSTGRES_FUNCTION}() RETURNS trigger "
        f"LANGUAGE plpgsql AS $body${_POSTGRES_BODY}$body$"
    )
    op.execute(
        f"CREATE TRIGGER {POSTGRES_TRIGGER} "
        f"AFTER INSERT OR DELETE OR UPDATE OF {_UPDATED_COLUMNS} ON ratings "
        f"FOR EACH ROW EXECUTE FUNCTION {POSTGRES_FUNCTION}()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    else:
        op.execute(f"DROP TRIGGER {POSTGRES_TRIGGER} ON ratings")
        op.execute(f"DROP FUNCTION {POSTGRES_FUNCTION}()")
    op.drop_table("movie_rating_stats")
