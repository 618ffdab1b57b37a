"""The ETL's bulk merge: the same rows in the store as the row-by-row merge, on SQLite and on
PostgreSQL, into an empty table (indexes and keys set aside, then rebuilt as they were) and into
one that has rows (newer rows win); and a failure rolls the set-aside indexes back too."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from sqlalchemy import Connection, Engine, select, text

from data import catalog
from data.bulk import BulkMerge, merge_all
from data.db import open_store
from data.schema import ratings, tags, users
from tests.data.rows import bare_movie

RATING_COLUMNS = ("user_id", "movie_id", "rating", "rated_at")
TAG_COLUMNS = ("user_id", "movie_id", "tag", "tagged_at")
STORED = [(1, 1, 3.0, 10), (1, 2, 4.0, 10), (2, 1, 2.5, 10)]
# (1, 1) older than stored: kept as stored; (1, 2) newer: replaced; (2, 2), (3, 1) new.
INCOMING = [(1, 1, 1.0, 5), (1, 2, 0.5, 20), (2, 2, 5.0, 1), (3, 1, 4.5, 7)]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, store_url: str) -> Iterator[Engine]:
    """An empty store with users 1-3 and movies 1-2, on each database."""
    url = store_url if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = open_store(url, create=True)
    with engine.begin() as conn:
        catalog.merge_rows(conn, catalog.MOVIES, [bare_movie(1), bare_movie(2)])
        catalog.merge_rows(
            conn,
            catalog.DEMO_USERS,
            [
                {"id": n, "username": f"user{n}", "password_hash": "h", "is_demo": True}
                for n in (1, 2, 3)
            ],
        )
    yield engine
    engine.dispose()


def _ratings(conn: Connection) -> list[tuple[object, ...]]:
    query = select(ratings).order_by(ratings.c.user_id, ratings.c.movie_id)
    return [tuple(row) for row in conn.execute(query)]


def _indexes(conn: Connection, table: str) -> list[tuple[str, str]]:
    """Every index and key of ``table`` as the database describes it."""
    if conn.dialect.name == "sqlite":
        query = "SELECT name, sql FROM sqlite_master WHERE tbl_name = :t AND type = 'index'"
    else:
        query = (
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t UNION ALL "
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(:t AS regclass)"
        )
    return sorted((str(name), str(sql)) for name, sql in conn.execute(text(query), {"t": table}))


def _merged(engine: Engine, rows: list[tuple[object, ...]], *, bulk: bool) -> list[object]:
    with engine.begin() as conn:
        if bulk:
            writer = BulkMerge(conn, catalog.RATINGS, RATING_COLUMNS)
            writer.write(rows[:2])
            writer.write(rows[2:])
            writer.finish()
        else:
            dicts = [dict(zip(RATING_COLUMNS, row, strict=True)) for row in rows]
            catalog.merge_rows(conn, catalog.RATINGS, dicts)
        return list(_ratings(conn))


def _both_ways(
    store: Engine, stored: list[tuple[object, ...]], rows: Sequence[tuple[object, ...]]
) -> list[object]:
    """Merge ``rows`` over ``stored`` row by row, then again in bulk over the same start;
    asserts the two stores agree and returns what the row-by-row merge stored."""
    _merged(store, stored, bulk=False)
    by_rows = _merged(store, list(rows), bulk=False)
    with store.begin() as conn:
        conn.execute(ratings.delete())
    _merged(store, stored, bulk=False)
    assert _merged(store, list(rows), bulk=True) == by_rows
    return by_rows


@pytest.mark.parametrize("stored", [[], STORED], ids=["into an empty table", "into rows"])
def test_bulk_merge_stores_what_the_row_by_row_merge_stores(
    store: Engine, stored: list[tuple[object, ...]]
) -> None:
    with store.connect() as conn:
        indexes = _indexes(conn, "ratings")
    by_rows = _both_ways(store, stored, INCOMING)
    with store.connect() as conn:
        assert _indexes(conn, "ratings") == indexes
    assert (1, 1, 3.0 if stored else 1.0, 10 if stored else 5) in by_rows


@pytest.mark.parametrize("stored", [[], STORED], ids=["into an empty table", "into rows"])
def test_chunks_longer_than_one_statement_merge_like_row_by_row(
    store: Engine, stored: list[tuple[object, ...]]
) -> None:
    """SQLite takes a chunk many rows per statement, and the rest one by one: 1,001 rows (four
    full statements and a tail of five), some meeting stored rows, store what the row-by-row
    merge stores. Keys are unique within a load, as the ETL guarantees (a second rating of the
    same pair is refused before anything is written)."""
    with store.begin() as conn:
        catalog.merge_rows(conn, catalog.MOVIES, [bare_movie(n) for n in range(3, 335)])
    rows = [(1 + n % 3, 1 + n // 3, 0.5 + n % 10 / 2, 4 * (n % 5)) for n in range(1_001)]
    by_rows = _both_ways(store, stored, rows)
    assert len(by_rows) == len({row[:2] for row in [*stored, *rows]})


def test_an_empty_table_loads_without_its_secondary_indexes_until_finish(store: Engine) -> None:
    with store.begin() as conn:
        before = _indexes(conn, "ratings")
        writer = BulkMerge(conn, catalog.RATINGS, RATING_COLUMNS)
        during = _indexes(conn, "ratings")
        writer.write(INCOMING)
        writer.finish()
        assert _indexes(conn, "ratings") == before
    names = {name for name, _ in before} - {name for name, _ in during}
    assert {"ix_ratings_movie", "ix_ratings_time", "ix_ratings_user_time"} <= names


def test_a_failed_bulk_load_rolls_back_rows_and_dropped_indexes(store: Engine) -> None:
    with store.connect() as conn:
        before = _indexes(conn, "ratings")

    def fail_after_writing() -> None:
        with store.begin() as conn:
            BulkMerge(conn, catalog.RATINGS, RATING_COLUMNS).write(INCOMING)
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        fail_after_writing()
    with store.connect() as conn:
        assert _indexes(conn, "ratings") == before
        assert _ratings(conn) == []


def test_bulk_tags_get_ids_and_keep_their_unique_key(store: Engine) -> None:
    rows = [(1, 1, "funny", 5), (2, 1, "dark", 6)]
    for _ in range(2):  # the second time into a table with rows: the same tags, same ids
        with store.begin() as conn:
            writer = BulkMerge(conn, catalog.TAGS, TAG_COLUMNS)
            writer.write(rows)
            writer.finish()
    with store.connect() as conn:
        found = conn.execute(select(tags).order_by(tags.c.id)).all()
    assert [tuple(row) for row in found] == [(1, 1, 1, "funny", 5), (2, 2, 1, "dark", 6)]


def test_sqlite_columns_out_of_the_tables_order_are_refused(engine: Engine) -> None:
    """SQLite's statement takes its values by position (PostgreSQL's COPY names them)."""
    with engine.begin() as conn, pytest.raises(ValueError, match="not in ratings's order"):
        BulkMerge(conn, catalog.RATINGS, ("movie_id", "user_id", "rating", "rated_at"))


def test_a_table_merges_again_in_the_same_transaction(store: Engine) -> None:
    """The ETL merges demo accounts twice in one transaction (for the ratings, then for the
    tags): each merge into a table that has rows stages them (on PostgreSQL in a temporary
    table), and a second merge must not meet the first one's staging table."""
    columns = ("id", "username", "password_hash", "is_demo")
    with store.begin() as conn:
        for first in (4, 6):
            merge_all(
                conn,
                catalog.DEMO_USERS,
                columns,
                [(n, f"user{n}", "h", True) for n in (first, first + 1, 1)],
            )
        found = conn.execute(select(users.c.id, users.c.password_hash)).all()
    assert sorted(found) == [(n, "h") for n in range(1, 8)]
