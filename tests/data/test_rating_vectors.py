"""A heavy user's packed ratings (``user_rating_vectors``, migration 0008): the request's read
returns exactly what aggregating ``ratings`` returns, whoever wrote last (the API's writers,
which fold their write into the packed row; raw SQL, a cascade or the ETL's merge, which only
mark it stale; the ETL, which packs it again), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
from sqlalchemy import Connection, Engine, delete, select, text, update

import data.ratings
from data import catalog
from data.bulk import BulkMerge
from data.db import make_engine
from data.ratings import (
    aggregated_rating_arrays,
    pack_ratings,
    pack_users,
    ranking_inputs,
    remove_rating,
    set_rating,
    unpack_ratings,
    user_rating_arrays,
)
from data.schema import ratings, user_rating_vectors, users
from tests.data.rows import seeded_store
from tests.data.test_ratings import BIG_ID

# Packed from this many ratings on, in these tests (the threshold itself is a speed choice).
LEAST = 3
MOVIES = [1, 2, 3, 4, 5, 6, BIG_ID]


@pytest.fixture
def store(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A store at head with ``MOVIES`` and users 1-3, nothing rated, packing from ``LEAST``."""
    monkeypatch.setattr(data.ratings, "VECTOR_MIN_RATINGS", LEAST)
    engine = seeded_store(url, MOVIES, [1, 2, 3])
    yield engine
    engine.dispose()


def _packed_row(conn: Connection, user_id: int) -> tuple[int, bytes] | None:
    row = conn.execute(
        select(user_rating_vectors.c.stale_writes, user_rating_vectors.c.ratings).where(
            user_rating_vectors.c.user_id == user_id
        )
    ).first()
    return None if row is None else (int(row[0]), bytes(row[1]))


def _as_set(arrays: tuple[np.ndarray, ...]) -> set[tuple[int, float, int]]:
    return {(int(m), float(r), int(t)) for m, r, t in zip(*arrays, strict=True)}


def _assert_reads_match(conn: Connection, user_id: int) -> None:
    """Both request reads return exactly the aggregate of ``ratings``."""
    truth = aggregated_rating_arrays(conn, user_id)
    assert _as_set(user_rating_arrays(conn, user_id)) == _as_set(truth)
    inputs = ranking_inputs(conn, user_id)
    assert set(zip(inputs.movie_ids.tolist(), inputs.ratings.tolist(), strict=True)) == {
        (m, r) for m, r, _ in _as_set(truth)
    }


def _assert_packed_and_exact(conn: Connection, user_id: int) -> None:
    """The user has a packed row holding every write, equal to the aggregate, and the reads
    return it."""
    found = _packed_row(conn, user_id)
    assert found is not None
    assert found[0] == 0, found
    assert _as_set(unpack_ratings(found[1])) == _as_set(aggregated_rating_arrays(conn, user_id))
    _assert_reads_match(conn, user_id)


def test_packing_round_trips_every_half_star_large_ids_and_late_times() -> None:
    movie_ids = np.array([BIG_ID, 5, 2**31 - 1, 1], dtype=np.int64)
    stars = np.array([0.5, 5.0, 3.5, 1.0], dtype=np.float32)
    rated_at = np.array([2**40, 0, 1, 2_200_000_000], dtype=np.int64)
    packed = pack_ratings(movie_ids, stars, rated_at)
    assert len(packed) == 13 * 4
    got = unpack_ratings(packed)
    assert [a.dtype for a in got] == [np.int64, np.float32, np.int64]
    assert got[0].tolist() == [1, 5, BIG_ID, 2**31 - 1], "ordered by movie id"
    assert _as_set(got) == _as_set((movie_ids, stars, rated_at))
    assert [len(a) for a in unpack_ratings(b"")] == [0, 0, 0]


def test_bytes_that_are_not_whole_ratings_are_refused() -> None:
    with pytest.raises(ValueError, match="13 bytes each, got 14 bytes"):
        unpack_ratings(b"\0" * 14)


def test_a_user_is_packed_from_the_threshold_and_kept_exact_by_every_write(store: Engine) -> None:
    with store.begin() as conn:
        for movie_id in MOVIES[: LEAST - 1]:
            set_rating(conn, 1, movie_id, 4.0, 10)
        assert _packed_row(conn, 1) is None, "below the threshold: no packed row"
        set_rating(conn, 1, BIG_ID, 0.5, 2**33)
        _assert_packed_and_exact(conn, 1)
    steps = [
        lambda c: set_rating(c, 1, 4, 2.5, 11),  # a new movie
        lambda c: set_rating(c, 1, BIG_ID, 5.0, 12),  # a new rating of a rated movie
        lambda c: remove_rating(c, 1, 1),
        lambda c: remove_rating(c, 1, 6),  # never rated: nothing written
    ]
    for step in steps:
        with store.begin() as conn:
            step(conn)
            _assert_packed_and_exact(conn, 1)
    with store.begin() as conn:
        for movie_id in (2, 4, BIG_ID):
            remove_rating(conn, 1, movie_id)
        _assert_packed_and_exact(conn, 1)  # an empty packed row: no ratings
        assert len(user_rating_arrays(conn, 1)[0]) == 0
        assert _packed_row(conn, 2) is None, "another user's writes touch nobody else's row"


def test_a_write_folds_into_the_packed_row_without_aggregating_again(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with store.begin() as conn:
        for movie_id in MOVIES[:LEAST]:
            set_rating(conn, 1, movie_id, 3.0, 10)

    def refuse(_conn: Connection, _user_id: int) -> None:
        raise AssertionError("aggregated again although only this write was missing")

    with store.begin() as conn:
        monkeypatch.setattr(data.ratings, "aggregated_rating_arrays", refuse)
        set_rating(conn, 1, 5, 1.5, 11)
        set_rating(conn, 1, 1, 2.0, 12)
        remove_rating(conn, 1, 2)
        monkeypatch.undo()
        _assert_packed_and_exact(conn, 1)


@pytest.mark.parametrize(
    "write",
    [
        "UPDATE ratings SET rating = 0.5 WHERE user_id = 1 AND movie_id = 2",
        "INSERT INTO ratings (user_id, movie_id, rating, rated_at) VALUES (1, 6, 2.0, 5)",
        "DELETE FROM ratings WHERE user_id = 1 AND movie_id = 1",
        "DELETE FROM movies WHERE id = 3",  # a cascade
        "DELETE FROM users WHERE id = 1",  # a cascade of every rating
    ],
)
def test_a_write_that_bypasses_the_packed_row_marks_it_stale_and_reads_aggregate(
    store: Engine, write: str
) -> None:
    with store.begin() as conn:
        for movie_id in MOVIES[:LEAST]:
            set_rating(conn, 1, movie_id, 3.0, 10)
    with store.begin() as conn:
        conn.execute(text(write))
    with store.connect() as conn:
        found = _packed_row(conn, 1)
        assert found is not None
        assert found[0] > 0, "the trigger counted the write"
        _assert_reads_match(conn, 1)


def test_the_next_write_after_a_bypassing_one_packs_again(store: Engine) -> None:
    with store.begin() as conn:
        for movie_id in MOVIES[:LEAST]:
            set_rating(conn, 1, movie_id, 3.0, 10)
    with store.begin() as conn:
        conn.execute(update(ratings).where(ratings.c.user_id == 1).values(rating=1.0))
    with store.begin() as conn:
        set_rating(conn, 1, 4, 4.5, 11)
        _assert_packed_and_exact(conn, 1)
        assert sorted(user_rating_arrays(conn, 1)[1].tolist()) == [1.0, 1.0, 1.0, 4.5]


def test_each_single_row_write_counts_once(store: Engine) -> None:
    """The fold rests on it: after one writer's statement, 1 means only that write."""
    with store.begin() as conn:
        conn.execute(user_rating_vectors.insert().values(user_id=1, stale_writes=0, ratings=b""))

    def count(statement: str) -> int:
        with store.begin() as conn:
            conn.execute(text(statement))
            found = _packed_row(conn, 1)
            assert found is not None
            conn.execute(update(user_rating_vectors).values(stale_writes=0))
            return found[0]

    upsert = (
        "INSERT INTO ratings (user_id, movie_id, rating, rated_at) VALUES (1, 1, {}, 1) "
        "ON CONFLICT (user_id, movie_id) DO UPDATE SET rating = excluded.rating"
    )
    assert count(upsert.format(3.0)) == 1, "an upsert that inserts"
    assert count(upsert.format(4.0)) == 1, "an upsert that updates"
    assert count("UPDATE ratings SET rating = 1.0 WHERE user_id = 1") == 1
    assert count("DELETE FROM ratings WHERE user_id = 1 AND movie_id = 2") == 0, "nothing deleted"
    assert count("DELETE FROM ratings WHERE user_id = 1") == 1


def test_the_load_packs_heavy_users_and_repacks_what_its_merge_touched(store: Engine) -> None:
    first = [(1, m, 3.0, 10) for m in MOVIES] + [(2, 1, 4.0, 10), (2, 2, 4.0, 10)]
    with store.begin() as conn:
        # A packed row from before the load: the first load runs without triggers.
        conn.execute(
            user_rating_vectors.insert().values(user_id=2, stale_writes=0, ratings=b"\0" * 13)
        )
        _bulk(conn, first)
        assert pack_users(conn, [1]) == 1
        _assert_packed_and_exact(conn, 1)
        assert _packed_row(conn, 2) is None, "below the threshold, and its old row is gone"
        _assert_reads_match(conn, 2)
    with store.begin() as conn:
        # A rerun with a newer rating of user 1's: the merge's trigger marks the row stale.
        _bulk(conn, [(1, 2, 0.5, 20), (3, 1, 1.0, 10)])
        found = _packed_row(conn, 1)
        assert found is not None
        assert found[0] == 1
        _assert_reads_match(conn, 1)
        assert pack_users(conn, [1]) == 1, "stale: packed again"
        _assert_packed_and_exact(conn, 1)
        assert pack_users(conn, [1]) == 0, "nothing left to pack"


@pytest.mark.parametrize("gone", ["ratings", "account"])
def test_the_load_drops_the_stale_row_of_a_user_left_without_ratings(
    store: Engine, gone: str
) -> None:
    with store.begin() as conn:
        for movie_id in MOVIES[:LEAST]:
            set_rating(conn, 1, movie_id, 3.0, 10)
            set_rating(conn, 2, movie_id, 3.0, 10)
        conn.execute(delete(ratings).where(ratings.c.user_id == 2, ratings.c.movie_id == 1))
        if gone == "ratings":
            conn.execute(delete(ratings).where(ratings.c.user_id == 1))
        else:
            conn.execute(delete(users).where(users.c.id == 1))
        assert pack_users(conn, []) == 2, "both stale"
        assert _packed_row(conn, 1) is None
        _assert_packed_and_exact(conn, 2)


def _bulk(conn: Connection, rows: list[tuple[int, int, float, int]]) -> None:
    writer = BulkMerge(conn, catalog.RATINGS, ("user_id", "movie_id", "rating", "rated_at"))
    writer.write(rows)
    writer.finish()


def test_concurrent_writers_of_one_user_both_land_in_the_packed_row(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a second writer waits for the first (the ``user_versions`` row lock) and
    then folds its write into the first one's packed row, not into the row it saw before."""
    monkeypatch.setattr(data.ratings, "VECTOR_MIN_RATINGS", LEAST)
    engine = seeded_store(postgres_url, MOVIES, [1])
    watcher = make_engine(postgres_url)
    try:
        with engine.begin() as conn:
            for movie_id in MOVIES[:LEAST]:
                set_rating(conn, 1, movie_id, 3.0, 10)
        failures: list[BaseException] = []
        with engine.begin() as first:
            set_rating(first, 1, 4, 1.0, 11)
            pid = first.execute(text("SELECT pg_backend_pid()")).scalar_one()

            def second() -> None:
                try:
                    with engine.begin() as conn:
                        set_rating(conn, 1, 5, 2.0, 12)
                except BaseException as exc:  # handed to the test's thread
                    failures.append(exc)

            thread = threading.Thread(target=second)
            thread.start()
            _wait_until_blocked_by(watcher, pid)
        thread.join(timeout=30)
        assert not thread.is_alive()
        assert not failures, failures
        with engine.connect() as conn:
            _assert_packed_and_exact(conn, 1)
            assert {4, 5} <= set(user_rating_arrays(conn, 1)[0].tolist())
    finally:
        engine.dispose()
        watcher.dispose()


def _wait_until_blocked_by(engine: Engine, pid: int) -> None:
    """Until some backend waits for a lock that ``pid`` holds."""
    blocked = text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")
    deadline = time.monotonic() + 10
    with engine.connect() as conn:
        while not conn.execute(blocked, {"pid": pid}).scalar_one():
            assert time.monotonic() < deadline, "the second writer never waited for the first"
            time.sleep(0.02)
            conn.execute(text("SELECT pg_stat_clear_snapshot()"))
