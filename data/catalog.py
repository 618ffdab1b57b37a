"""The writes the ETL makes: idempotent upserts of the catalog, demo users, ratings and tags.

One dialect-aware helper serves every table, so SQLite and PostgreSQL get the same
``INSERT ... ON CONFLICT`` semantics and a rerun of the same load changes nothing; the ratings'
and tags' merge rules (``RATINGS``, ``TAGS``) are shared with the bulk path (``data.bulk``).
Every function runs in the caller's connection and transaction: the ETL wraps a whole load in
one transaction so that a failure leaves the store exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Table,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from data.migrations import StoreError
from data.schema import (
    genres,
    movie_genres,
    movie_rating_stats,
    movies,
    ratings,
    tags,
    user_rating_vectors,
    user_versions,
    users,
)

Row = Mapping[str, Any]
# Keeps each DELETE ... IN (...) well under SQLite's bound-parameter limit.
_IN_CHUNK = 900


def insert_on_conflict(conn: Connection, table: Table) -> sqlite.Insert | postgresql.Insert:
    """An INSERT that takes ``on_conflict_do_*``: the two dialects spell the same SQL apart."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        return sqlite.insert(table)
    if dialect == "postgresql":
        return postgresql.insert(table)
    raise StoreError(f"upserts are not implemented for the {dialect} dialect")


@dataclass(frozen=True)
class Merge:
    """How incoming rows of ``table`` meet the stored ones: a row whose ``key`` is already
    stored updates ``update_columns`` (none: the stored row is kept), and with ``newer`` only
    when its value of that column is greater, so that a fresher row already in the store (a
    rating made through the API) is never overwritten by an older source row.

    One description serves the row-by-row ``upsert`` and the ETL's bulk path
    (``data.bulk``), so the two cannot merge differently. ``rebuild_derived`` rebuilds, from the
    table's rows, what its triggers keep current: given it, a bulk load into the empty table
    drops the triggers and calls it once at the end, instead of firing them for every row.
    """

    table: Table
    key: tuple[str, ...]
    update_columns: tuple[str, ...] = ()
    newer: str | None = None
    rebuild_derived: Callable[[Connection], None] | None = None

    def on_conflict(
        self, statement: sqlite.Insert | postgresql.Insert
    ) -> sqlite.Insert | postgresql.Insert:
        """``statement`` (an insert into ``table``) with this merge as its conflict clause."""
        if not self.update_columns:
            return statement.on_conflict_do_nothing(index_elements=list(self.key))
        return statement.on_conflict_do_update(
            index_elements=list(self.key),
            set_={column: statement.excluded[column] for column in self.update_columns},
            where=(
                None
                if self.newer is None
                else self.table.c[self.newer] < statement.excluded[self.newer]
            ),
        )


def rebuild_movie_rating_stats(conn: Connection) -> None:
    """``movie_rating_stats`` again from every rating, in one ``INSERT ... SELECT``.

    Called before the load's secondary indexes are built again: SQLite then groups a scan of
    the table (sorted once) instead of following ``ix_ratings_movie`` with a look-up per rating.
    """
    conn.execute(delete(movie_rating_stats))
    aggregates = select(
        ratings.c.movie_id, func.count(), func.sum(ratings.c.rating), func.min(ratings.c.rated_at)
    ).group_by(ratings.c.movie_id)
    conn.execute(
        insert(movie_rating_stats).from_select(
            ["movie_id", "rating_count", "rating_sum", "first_rated_at"], aggregates
        )
    )


# migration 0007's random 62-bit value on PostgreSQL (random() carries 52 bits: two of them).
_POSTGRES_RANDOM = literal_column(
    "(((random() * 2147483648)::bigint << 31) | (random() * 2147483648)::bigint)", BigInteger
)


def bump_rated_user_versions(conn: Connection) -> None:
    """A fresh ``user_versions`` value for every user with a rating, in one upsert: what the
    triggers of migration 0007 would have done for a load that ran without them.

    The users are found by one probe of the ratings' primary key (user first) per account,
    not by ``DISTINCT`` over every rating: at 25 M ratings the scan took 7.4 s on PostgreSQL,
    inside the load's one transaction (ratings cannot name a user who is not in ``users``).
    """
    fresh = func.random() if conn.dialect.name == "sqlite" else _POSTGRES_RANDOM
    rated = exists().where(ratings.c.user_id == users.c.id)
    statement = insert_on_conflict(conn, user_versions).from_select(
        ["user_id", "version"], select(users.c.id, fresh).where(rated)
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id"], set_={"version": statement.excluded.version}
        )
    )


def rebuild_ratings_derived(conn: Connection) -> None:
    """Everything the triggers on ``ratings`` keep, after a load that ran without them: the
    packed ratings (``user_rating_vectors``), which the load did not mark stale, are deleted
    (the ETL packs them again: ``data.ratings.pack_users``)."""
    rebuild_movie_rating_stats(conn)
    bump_rated_user_versions(conn)
    conn.execute(delete(user_rating_vectors))


RATINGS = Merge(
    ratings,
    ("user_id", "movie_id"),
    ("rating", "rated_at"),
    newer="rated_at",
    rebuild_derived=rebuild_ratings_derived,
)
TAGS = Merge(tags, ("user_id", "movie_id", "tag"), ("tagged_at",))
# Movies keyed by MovieLens id; every column follows the source on a rerun.
MOVIES = Merge(
    movies, ("id",), tuple(column.name for column in movies.columns if column.name != "id")
)
# A movie's genres: the ETL deletes a movie's links (``delete_movie_genres``) and merges the
# source's, so they become exactly the source's.
MOVIE_GENRES = Merge(movie_genres, ("movie_id", "genre_id"), ("position",))
# Demo accounts (id, username, password_hash, is_demo): an existing id is kept as it is, so a
# rerun never resets a password a demo user may have changed.
DEMO_USERS = Merge(users, ("id",))


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[Row],
    *,
    key: Sequence[str],
    update_columns: Sequence[str] = (),
    newer: str | None = None,
) -> None:
    """Insert ``rows``; on a ``key`` conflict update ``update_columns`` (none: keep the row),
    with ``newer`` only when the incoming value of that column is greater (see ``Merge``)."""
    merge_rows(conn, Merge(table, tuple(key), tuple(update_columns), newer), rows)


def merge_rows(conn: Connection, merge: Merge, rows: Sequence[Row]) -> None:
    """Insert ``rows`` (dicts by column name) into ``merge.table`` as ``merge`` says."""
    if rows:
        conn.execute(merge.on_conflict(insert_on_conflict(conn, merge.table)), list(rows))


def update_movie_metadata(conn: Connection, rows: Sequence[Row]) -> None:
    """Set columns of existing movies: each row carries ``id`` and the same other columns,
    which are what is set (the caller's record type decides, so no list of columns here)."""
    if not rows:
        return
    columns = [column for column in rows[0] if column != "id"]
    statement = (
        update(movies)
        .where(movies.c.id == bindparam("movie_id"))
        .values({column: bindparam(column) for column in columns})
    )
    conn.execute(
        statement, [{"movie_id": row["id"], **{c: row[c] for c in columns}} for row in rows]
    )


def genre_ids(conn: Connection, names: Iterable[str]) -> dict[str, int]:
    """Ids of the named genres, creating the missing ones."""
    wanted = sorted(set(names))
    upsert(conn, genres, [{"name": name} for name in wanted], key=["name"])
    found = conn.execute(select(genres.c.name, genres.c.id).where(genres.c.name.in_(wanted)))
    return {row.name: row.id for row in found}


def delete_movie_genres(conn: Connection, movie_ids: Sequence[int]) -> None:
    """Unlink ``movie_ids`` from every genre (before their genres are merged again)."""
    for start in range(0, len(movie_ids), _IN_CHUNK):
        chunk = movie_ids[start : start + _IN_CHUNK]
        conn.execute(delete(movie_genres).where(movie_genres.c.movie_id.in_(chunk)))


def accounts_by_id(conn: Connection) -> dict[int, tuple[str, bool]]:
    """Every account as ``id -> (username, is_demo)``, to check demo ids before writing."""
    rows = conn.execute(select(users.c.id, users.c.username, users.c.is_demo))
    return {row.id: (row.username, row.is_demo) for row in rows}


def sync_user_id_sequence(conn: Connection) -> None:
    """After inserting explicit user ids, move PostgreSQL's sequence past them so that sign-ups
    get fresh ids. SQLite picks ``max(id) + 1`` by itself."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('users', 'id'), "
                "(SELECT COALESCE(MAX(id), 1) FROM users))"
            )
        )
