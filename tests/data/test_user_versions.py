"""``user_versions`` (migration 0007): a user's version changes with every change to their
ratings or watchlist, whoever writes (the API's writes, a statement over many rows, cascades
from deleted movies and users, the ETL's bulk first load), and stays put when neither changes,
on SQLite and PostgreSQL; the 0007 upgrade gives every user with either a version, and the
downgrade takes table and triggers away. The ranking cache's correctness rests on it
(graph/services/recommendations.py: a cached list is served under the version it was ranked
at)."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, delete, select, text

from data import catalog, migrations
from data.bulk import BulkMerge
from data.db import make_engine, open_store
from data.ratings import remove_rating, set_rating
from data.schema import movies, ratings, user_versions, users, watchlist
from data.watchlist import save, unsave
from tests.data.rows import seeded_store

MOVIES = range(1, 9)
USERS = range(1, 11)
Inputs = dict[int, tuple[frozenset[tuple[int, float]], frozenset[int]]]


@pytest.fixture
def store(url: str) -> Iterator[Engine]:
    """A store at head with movies 1-8 and users 1-10, no ratings, nothing saved."""
    engine = seeded_store(url, MOVIES, USERS)
    yield engine
    engine.dispose()


def _versions(conn: Connection) -> dict[int, int]:
    return {int(u): int(v) for u, v in conn.execute(select(user_versions)).all()}


def _inputs(conn: Connection) -> Inputs:
    rated: dict[int, set[tuple[int, float]]] = {}
    for user_id, movie_id, rating in conn.execute(
        select(ratings.c.user_id, ratings.c.movie_id, ratings.c.rating)
    ):
        rated.setdefault(user_id, set()).add((movie_id, rating))
    saved: dict[int, set[int]] = {}
    for user_id, movie_id in conn.execute(select(watchlist.c.user_id, watchlist.c.movie_id)):
        saved.setdefault(user_id, set()).add(movie_id)
    return {
        user: (frozenset(rated.get(user, ())), frozenset(saved.get(user, ())))
        for user in rated.keys() | saved.keys()
    }


def _random_write(conn: Connection, rng: random.Random, step: int) -> set[int]:
    """One write of a random kind; returns the users it may have touched."""
    user, movie = rng.choice(USERS), rng.choice(MOVIES)
    kind = rng.randrange(7)
    if kind in (0, 1):
        set_rating(conn, user, movie, rng.randint(1, 10) / 2, step)
    elif kind == 2:
        remove_rating(conn, user, movie)
    elif kind == 3:
        save(conn, user, movie, added_at=step)
    elif kind == 4:
        unsave(conn, user, movie)
    elif kind == 5:  # one statement over many users' rows
        touched = set(conn.execute(select(ratings.c.user_id).where(ratings.c.movie_id == movie)))
        conn.execute(delete(ratings).where(ratings.c.movie_id == movie))
        return {int(row[0]) for row in touched}
    else:  # the same value again: a write that changes nothing the ranking reads
        found = conn.execute(
            select(ratings.c.rating).where(ratings.c.user_id == user, ratings.c.movie_id == movie)
        ).scalar()
        if found is not None:
            set_rating(conn, user, movie, found, step)
    return {user}


def test_random_writes_change_exactly_the_written_users_versions(store: Engine) -> None:
    rng = random.Random(7)
    with store.connect() as conn:
        assert _versions(conn) == {}
    for step in range(1, 121):
        with store.connect() as conn:
            before, inputs = _versions(conn), _inputs(conn)
        with store.begin() as conn:
            touched = _random_write(conn, rng, step)
        with store.connect() as conn:
            after, changed = _versions(conn), _inputs(conn)
        for user in USERS:
            if changed.get(user) != inputs.get(user):
                assert after.get(user) not in (None, before.get(user)), (step, user)
            if user not in touched:
                assert after.get(user) == before.get(user), (step, user)
        # Every user with ratings or saved movies has a version.
        assert set(changed) <= set(after), step


def test_deleting_a_movie_or_a_user_cascades_into_the_versions(store: Engine) -> None:
    with store.begin() as conn:
        for user in (1, 2, 3):
            set_rating(conn, user, 1, 4.0, 1)
        save(conn, 3, 2, added_at=1)
        save(conn, 4, 2, added_at=1)
    with store.connect() as conn:
        before = _versions(conn)
    assert set(before) == {1, 2, 3, 4}
    with store.begin() as conn:
        conn.execute(delete(movies).where(movies.c.id == 2))  # user 3's and 4's saved movie
    with store.connect() as conn:
        after = _versions(conn)
    assert after[1] == before[1]
    assert after[2] == before[2]
    assert after[3] != before[3]
    assert after[4] != before[4]
    with store.begin() as conn:
        conn.execute(delete(users).where(users.c.id == 1))
    with store.connect() as conn:
        assert _versions(conn)[1] != after[1], "the cascade into the ratings bumped it"


def test_the_bulk_first_load_gives_every_rated_user_a_version_and_keeps_the_triggers(
    store: Engine,
) -> None:
    with store.begin() as conn:
        save(conn, 9, 3, added_at=1)
    with store.connect() as conn:
        saved_only = _versions(conn)[9]
    rows = [(u, m, 3.5, u * 10 + m) for u in (1, 2, 5) for m in (1, 4)]
    with store.begin() as conn:
        writer = BulkMerge(conn, catalog.RATINGS, ("user_id", "movie_id", "rating", "rated_at"))
        writer.write(rows)
        writer.finish()
    with store.connect() as conn:
        loaded = _versions(conn)
    assert set(loaded) == {1, 2, 5, 9}
    assert loaded[9] == saved_only, "a user the load did not touch keeps theirs"
    with store.begin() as conn:
        set_rating(conn, 2, 8, 1.0, 99)  # the triggers are back
    with store.connect() as conn:
        assert _versions(conn)[2] != loaded[2]
        assert _versions(conn)[1] == loaded[1]


# The names of the store's tables and of its triggers, by what each database calls them.
_CATALOG_NAMES = {
    ("table", "sqlite"): "SELECT name FROM sqlite_master WHERE type = 'table'",
    ("table", "postgresql"): "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
    ("trigger", "sqlite"): "SELECT name FROM sqlite_master WHERE type = 'trigger'",
    ("trigger", "postgresql"): "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal",
}


def _names(conn: Connection, kind: str) -> set[str]:
    query = _CATALOG_NAMES[kind, conn.dialect.name]
    return {str(name) for name in conn.execute(text(query)).scalars()}


def test_the_upgrade_from_0006_versions_every_user_with_inputs_and_the_downgrade_undoes_it(
    url: str,
) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(migrations.config(conn), "0006")
            before_triggers = _names(conn, "trigger")
            conn.execute(
                text("INSERT INTO movies (id, title, movielens_title) VALUES (1, 'A', 'A')")
            )
            conn.execute(
                text(
                    "INSERT INTO users (id, username, password_hash) "
                    "VALUES (7, 'a', 'x'), (3, 'b', 'x'), (5, 'c', 'x')"
                )
            )
            conn.execute(text("INSERT INTO ratings VALUES (7, 1, 4.5, 30)"))
            conn.execute(text("INSERT INTO watchlist VALUES (3, 1, 10)"))
        open_store(url, create=True).dispose()
        with engine.connect() as conn:
            upgraded = _versions(conn)
        assert set(upgraded) == {3, 7}, "user 5 has neither, so no version"
        with engine.begin() as conn:
            unsave(conn, 3, 1)
            assert _versions(conn)[3] != upgraded[3]
        with engine.begin() as conn:
            command.downgrade(migrations.config(conn), "0006")
            assert _names(conn, "trigger") == before_triggers
            assert "user_versions" not in _names(conn, "table")
            conn.execute(text("INSERT INTO watchlist VALUES (5, 1, 20)"))  # no trigger left
    finally:
        engine.dispose()
