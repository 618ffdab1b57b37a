"""``movie_rating_stats`` equals a GROUP BY over the ratings whoever writes them (the API's
set/remove, the ETL's bulk first load and rerun, cascades from deleted movies and users, the
0006 upgrade of a store with ratings), on SQLite and PostgreSQL; the rails read it and rank as
the queries they replaced did; and the rail queries' plans read what they should."""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, delete, event, func, select, text

from data import catalog, migrations, stats
from data.bulk import BulkMerge
from data.db import make_engine, open_store
from data.movies import all_rating_stats
from data.ratings import remove_rating, set_rating
from data.schema import movie_rating_stats, movies, ratings, users
from tests.data.rows import bare_movie, seeded_store

MOVIES = range(1, 13)
USERS = range(1, 16)
RATING_COLUMNS = ("user_id", "movie_id", "rating", "rated_at")


def _bench() -> ModuleType:
    """bench/rail_queries.py, whose ``OLD`` queries are the rails before 0006."""
    path = Path(__file__).resolve().parents[2] / "bench" / "rail_queries.py"
    spec = importlib.util.spec_from_file_location("rail_queries", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def store(url: str) -> Iterator[Engine]:
    """A store at head with movies 1-12 and users 1-15, no ratings."""
    engine = seeded_store(url, MOVIES, USERS)
    yield engine
    engine.dispose()


def _stored(conn: Connection) -> list[tuple[object, ...]]:
    stats_table = movie_rating_stats.c
    query = select(
        stats_table.movie_id,
        stats_table.rating_count,
        stats_table.rating_sum,
        stats_table.first_rated_at,
    ).order_by(stats_table.movie_id)
    return [tuple(row) for row in conn.execute(query)]


def _grouped(conn: Connection) -> list[tuple[object, ...]]:
    query = (
        select(
            ratings.c.movie_id,
            func.count(),
            func.sum(ratings.c.rating),
            func.min(ratings.c.rated_at),
        )
        .group_by(ratings.c.movie_id)
        .order_by(ratings.c.movie_id)
    )
    return [tuple(row) for row in conn.execute(query)]


def _assert_exact(engine: Engine) -> None:
    with engine.connect() as conn:
        assert _stored(conn) == _grouped(conn)


def _random_rating(rng: random.Random) -> float:
    return rng.randint(1, 10) / 2


def test_set_and_remove_rating_keep_the_stats_exact(store: Engine) -> None:
    """Random first ratings, re-ratings (earlier and later times) and removals, one per
    transaction as the API makes them; checked after every step."""
    rng = random.Random(6)
    removed_first_rating = False
    for step in range(250):
        user, movie = rng.choice(USERS), rng.choice(MOVIES)
        with store.begin() as conn:
            if rng.random() < 0.3:
                first = conn.execute(
                    select(movie_rating_stats.c.first_rated_at).where(
                        movie_rating_stats.c.movie_id == movie
                    )
                ).scalar()
                rated_at = conn.execute(
                    select(ratings.c.rated_at).where(
                        ratings.c.user_id == user, ratings.c.movie_id == movie
                    )
                ).scalar()
                removed_first_rating |= rated_at is not None and rated_at == first
                remove_rating(conn, user, movie)
            else:
                set_rating(conn, user, movie, _random_rating(rng), rng.randint(1, 1000))
        if step % 10 == 0:
            _assert_exact(store)
    _assert_exact(store)
    # The sequence did exercise the look-up of a movie's first rating again.
    assert removed_first_rating


def test_a_statement_writing_many_ratings_keeps_the_stats_exact(store: Engine) -> None:
    """PostgreSQL runs row triggers after the whole statement: a DELETE or UPDATE of several of
    a movie's ratings at once, their earliest included, still ends exact."""
    with store.begin() as conn:
        conn.execute(
            ratings.insert(),
            [
                {"user_id": u, "movie_id": m, "rating": 3.0, "rated_at": 100 * m + u}
                for u in USERS
                for m in MOVIES
            ],
        )
    _assert_exact(store)
    with store.begin() as conn:
        conn.execute(ratings.update().where(ratings.c.user_id <= 3).values(rating=5.0, rated_at=9))
    _assert_exact(store)
    with store.begin() as conn:
        conn.execute(delete(ratings).where(ratings.c.user_id <= 5))
        conn.execute(delete(ratings).where(ratings.c.movie_id == 1))
    _assert_exact(store)
    with store.begin() as conn:
        conn.execute(delete(ratings))
    with store.connect() as conn:
        assert _stored(conn) == []


def test_deleting_a_movie_or_a_user_cascades_into_the_stats(store: Engine) -> None:
    rng = random.Random(7)
    with store.begin() as conn:
        for user in USERS:
            for movie in rng.sample(list(MOVIES), 6):
                set_rating(conn, user, movie, _random_rating(rng), rng.randint(1, 1000))
    with store.begin() as conn:
        conn.execute(delete(movies).where(movies.c.id == 3))
    _assert_exact(store)
    with store.begin() as conn:
        conn.execute(delete(users).where(users.c.id.in_([1, 2, 4])))
    _assert_exact(store)
    with store.connect() as conn:
        assert 3 not in [row[0] for row in _stored(conn)]


def _triggers(conn: Connection) -> list[str]:
    if conn.dialect.name == "sqlite":
        query = "SELECT sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
    else:
        query = (
            "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname"
        )
    return [str(sql) for sql in conn.execute(text(query)).scalars()]


def _load(engine: Engine, rows: list[tuple[object, ...]], *, fail: bool = False) -> None:
    """The ETL's bulk path for ``rows`` in two chunks, in one transaction; ``fail`` raises
    before ``finish`` (the transaction rolls back)."""
    with engine.begin() as conn:
        writer = BulkMerge(conn, catalog.RATINGS, RATING_COLUMNS)
        writer.write(rows[: len(rows) // 2])
        writer.write(rows[len(rows) // 2 :])
        if fail:
            raise RuntimeError("the load failed")
        writer.finish()


def _random_rows(rng: random.Random, count: int) -> list[tuple[object, ...]]:
    keys = rng.sample([(u, m) for u in USERS for m in MOVIES], count)
    return sorted((u, m, _random_rating(rng), rng.randint(1, 1000)) for u, m in keys)


def test_the_bulk_first_load_rebuilds_the_stats_and_its_triggers(store: Engine) -> None:
    """Into an empty table the triggers are set aside and the stats rebuilt at the end, as they
    were; a failed load leaves them as they were; a rerun (triggers firing) stays exact."""
    rng = random.Random(8)
    with store.connect() as conn:
        triggers = _triggers(conn)
    assert triggers
    with pytest.raises(RuntimeError):
        _load(store, _random_rows(rng, 60), fail=True)
    with store.connect() as conn:
        assert _triggers(conn) == triggers
        assert _stored(conn) == []
    _load(store, _random_rows(rng, 120))
    with store.connect() as conn:
        assert _triggers(conn) == triggers
        assert len(_stored(conn)) == len(MOVIES)
    _assert_exact(store)
    # A rerun merges into a table with rows: newer rows replace, new ones add, through the
    # triggers.
    _load(store, _random_rows(rng, 100))
    _assert_exact(store)
    # And the triggers still keep the API's writes.
    with store.begin() as conn:
        set_rating(conn, 15, 12, 0.5, 1)
        remove_rating(conn, 1, 1)
    _assert_exact(store)


def test_the_upgrade_from_0005_fills_the_stats_and_the_downgrade_removes_them(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(migrations.config(conn), "0005")
            conn.execute(
                text(
                    "INSERT INTO movies (id, title, movielens_title) "
                    "VALUES (1, 'A', 'A'), (2, 'B', 'B'), (3, 'C', 'C')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO users (id, username, password_hash) "
                    "VALUES (7, 'a', 'x'), (3, 'b', 'x')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO ratings VALUES (7, 2, 4.5, 30), (3, 1, 0.5, 10), "
                    "(7, 1, 3.0, 20), (3, 2, 2.0, 40)"
                )
            )
        open_store(url, create=True).dispose()
        with engine.connect() as conn:
            assert _stored(conn) == [(1, 2, 3.5, 10), (2, 2, 6.5, 30)]
        with engine.begin() as conn:
            set_rating(conn, 7, 3, 5.0, 50)
        _assert_exact(engine)
        with engine.begin() as conn:
            command.downgrade(migrations.config(conn), "0005")
            assert _triggers(conn) == []
            conn.execute(text("INSERT INTO ratings VALUES (3, 3, 1.0, 60)"))  # no trigger left
    finally:
        engine.dispose()
    with make_engine(url).connect() as conn:
        assert "movie_rating_stats" not in {
            str(name)
            for name in conn.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                    if conn.dialect.name == "sqlite"
                    else "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                )
            ).scalars()
        }


def test_the_rails_rank_as_the_queries_they_replaced(store: Engine) -> None:
    """On data where every rail has ties, more than 100 raters and a window to cut."""
    bench = _bench()
    rng = random.Random(9)
    with store.begin() as conn:
        catalog.merge_rows(conn, catalog.MOVIES, [bare_movie(n) for n in range(13, 61)])
        catalog.merge_rows(
            conn,
            catalog.DEMO_USERS,
            [
                {"id": n, "username": f"user{n}", "password_hash": "h", "is_demo": True}
                for n in range(16, 241)
            ],
        )
        for user in range(1, 241):
            for movie in rng.sample(range(1, 61), rng.randint(1, 20)):
                # Whole days: many ties in first rating and newest rating.
                set_rating(conn, user, movie, _random_rating(rng), 86400 * rng.randint(1, 400))
    with store.connect() as conn:
        for name, old in bench.OLD.items():
            assert bench.NEW[name](conn) == old(conn), name
        assert bench.new_trending(conn)
        assert bench.new_newly_added(conn)


def test_fewer_people_than_the_window_needs_make_the_window_everything(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One row per read, so the walk for the newest raters reads again, further each time."""
    monkeypatch.setattr(stats, "_RATER_BATCH", 1)
    with store.begin() as conn:
        set_rating(conn, 1, 1, 4.0, 10)
        set_rating(conn, 2, 2, 4.0, 10**9)
        set_rating(conn, 3, 2, 4.0, 5)
    with store.connect() as conn:
        assert stats.nth_newest_rater(conn, 3) == 5
        assert stats.nth_newest_rater(conn, 4) is None
        assert stats.trending_movie_ids(conn, 10, window_seconds=1, min_window_raters=4) == [2, 1]
        assert stats.trending_movie_ids(conn, 10, window_seconds=1, min_window_raters=2) == [2, 1]
        assert stats.trending_movie_ids(conn, 10, window_seconds=1, min_window_raters=1) == [2]


def _plan(conn: Connection, query: str) -> str:
    return "\n".join(str(row[-1]) for row in conn.execute(text(f"EXPLAIN QUERY PLAN {query}")))


def test_the_rail_queries_read_the_stats_table_and_the_time_index(engine: Engine) -> None:
    """SQLite's plans: the stats reads never touch ``ratings``; trending's window is a range of
    ix_ratings_time, grouped after; the newest raters are a walk down that index, unsorted."""
    captured: list[str] = []

    def capture(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        captured.append(statement)

    with engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", capture)
        conn.execute(text("INSERT INTO movies (id, title, movielens_title) VALUES (1, 'A', 'A')"))
        conn.execute(text("INSERT INTO users (id, username, password_hash) VALUES (1, 'a', 'x')"))
        conn.execute(text("INSERT INTO ratings VALUES (1, 1, 4.0, 10)"))
        captured.clear()
        stats.newly_added_movie_ids(conn, 10, min_raters=1)
        stats.trending_movie_ids(conn, 10, window_seconds=1, min_window_raters=1)
        all_rating_stats(conn)
        event.remove(conn, "before_cursor_execute", capture)
        # One statement each, two more for trending (the newest rating, the newest raters).
        newly, _newest, raters, trending, all_stats = captured
        for statement in (newly, all_stats):
            plan = _plan(conn, statement.replace("?", "1"))
            assert "ratings " not in plan.replace("movie_rating_stats", ""), plan
        assert "USING COVERING INDEX ix_ratings_time" in _plan(conn, raters.replace("?", "1"))
        assert "TEMP B-TREE" not in _plan(conn, raters.replace("?", "1"))
        window = _plan(conn, trending.replace("?", "1"))
        assert "MATERIALIZE" in window, window
        assert "SEARCH ratings USING COVERING INDEX ix_ratings_time (rated_at>?)" in window, window
        assert "ix_ratings_movie" not in window, window
