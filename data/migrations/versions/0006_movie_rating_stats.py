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

SQLite runs one writer at a time and fires row triggers as each row is written, so its triggers
need no locking. PostgreSQL fires statement triggers over the statement's transition tables
(one update per movie per statement, however many of its ratings the statement wrote); they
lock the movies' rows first, in id order, so that looking a first rating up again (a new
snapshot in READ COMMITTED) sees every rating a concurrent writer of that movie committed.

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

# SQLite: row triggers. What a removed rating (OLD) takes away (DELETE and UPDATE share it).
_REMOVE_OLD = """
    DELETE FROM movie_rating_stats WHERE movie_id = OLD.movie_id AND rating_count = 1;
    UPDATE movie_rating_stats SET
        rating_count = rating_count - 1,
        rating_sum = rating_sum - OLD.rating,
        first_rated_at = CASE WHEN first_rated_at < OLD.rated_at THEN first_rated_at
            ELSE (SELECT min(rated_at) FROM ratings WHERE movie_id = OLD.movie_id) END
    WHERE movie_id = OLD.movie_id;
"""
# What an added rating (NEW) brings.
_ADD_NEW = f"""
    INSERT INTO movie_rating_stats ({COLUMNS})
    VALUES (NEW.movie_id, 1, NEW.rating, NEW.rated_at)
    ON CONFLICT (movie_id) DO UPDATE SET
        rating_count = movie_rating_stats.rating_count + 1,
        rating_sum = movie_rating_stats.rating_sum + excluded.rating_sum,
        first_rated_at = min(movie_rating_stats.first_rated_at, excluded.first_rated_at);
"""
SQLITE_TRIGGERS = {
    "ratings_stats_insert": f"AFTER INSERT ON ratings BEGIN {_ADD_NEW} END",
    "ratings_stats_delete": f"AFTER DELETE ON ratings BEGIN {_REMOVE_OLD} END",
    "ratings_stats_update": (
        f"AFTER UPDATE OF movie_id, rating, rated_at ON ratings BEGIN {_REMOVE_OLD} {_ADD_NEW} END"
    ),
}

# PostgreSQL: statement triggers over the transition tables (old_rows, new_rows), so that a
# statement writing many ratings of a movie updates its row once: row triggers would update it
# once per rating, and in one transaction each update leaves a row version the next one walks
# past (a bulk merge into a filled table slowed down quadratically).
POSTGRES_FUNCTION = "movie_rating_stats_apply"


def _lock(movie_ids: str) -> str:
    """Lock the movies' rows, in id order, before anything is read: a first rating looked up
    again then sees every rating committed by a writer that held one of them."""
    return f"""
        PERFORM 1 FROM movie_rating_stats WHERE movie_id IN ({movie_ids})
        ORDER BY movie_id FOR UPDATE;
    """


def _remove(removed: str) -> str:
    """Take ``removed``'s ratings away; a movie's row goes with its last rating, and its first
    rating is looked up again when one removed was its earliest."""
    return f"""
        UPDATE movie_rating_stats AS s SET
            rating_count = s.rating_count - d.n, rating_sum = s.rating_sum - d.total
        FROM (SELECT movie_id, count(*) AS n, sum(rating) AS total FROM {removed}
              GROUP BY movie_id) AS d
        WHERE s.movie_id = d.movie_id;
        DELETE FROM movie_rating_stats
        WHERE rating_count = 0 AND movie_id IN (SELECT movie_id FROM {removed});
        UPDATE movie_rating_stats AS s SET first_rated_at =
            (SELECT min(r.rated_at) FROM ratings AS r WHERE r.movie_id = s.movie_id)
        FROM (SELECT movie_id, min(rated_at) AS earliest FROM {removed} GROUP BY movie_id) AS d
        WHERE s.movie_id = d.movie_id AND d.earliest <= s.first_rated_at;
    """


def _add(added: str) -> str:
    """Add ``added``'s ratings: one upsert per movie."""
    return f"""
        INSERT INTO movie_rating_stats ({COLUMNS})
        SELECT {AGGREGATES} FROM {added} GROUP BY movie_id ORDER BY movie_id
        ON CONFLICT (movie_id) DO UPDATE SET
            rating_count = movie_rating_stats.rating_count + excluded.rating_count,
            rating_sum = movie_rating_stats.rating_sum + excluded.rating_sum,
            first_rated_at = LEAST(movie_rating_stats.first_rated_at, excluded.first_rated_at);
    """


_POSTGRES_BODY = f"""
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_lock("SELECT movie_id FROM new_rows")}
        {_add("new_rows")}
    ELSIF TG_OP = 'DELETE' THEN
        {_lock("SELECT movie_id FROM old_rows")}
        {_remove("old_rows")}
    ELSE
        {_lock("SELECT movie_id FROM old_rows UNION SELECT movie_id FROM new_rows")}
        {_remove("old_rows")}
        {_add("new_rows")}
    END IF;
    RETURN NULL;
END
"""
POSTGRES_TRIGGERS = {
    "ratings_stats_insert": "AFTER INSERT ON ratings REFERENCING NEW TABLE AS new_rows",
    "ratings_stats_delete": "AFTER DELETE ON ratings REFERENCING OLD TABLE AS old_rows",
    "ratings_stats_update": (
        "AFTER UPDATE ON ratings REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
    ),
}


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
    for name, definition in POSTGRES_TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {name} {definition} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {POSTGRES_FUNCTION}()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    else:
        for name in POSTGRES_TRIGGERS:
            op.execute(f"DROP TRIGGER {name} ON ratings")
        op.execute(f"DROP FUNCTION {POSTGRES_FUNCTION}()")
    op.drop_table("movie_rating_stats")
