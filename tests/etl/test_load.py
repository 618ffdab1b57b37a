"""The load: what lands in the store, idempotent reruns, and all-or-nothing failures."""

from __future__ import annotations

import io
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

import data.ratings
from data.db import make_engine, open_store, store_for_load
from data.migrations import StoreError
from data.passwords import verify_password
from data.ratings import aggregated_rating_arrays, unpack_ratings
from data.schema import genres, movie_genres, movies, ratings, tags, user_rating_vectors, users
from etl import movielens
from etl.errors import EtlError
from etl.load import _HeavyRaters, apply_cached_metadata, load_movielens, movie_columns
from etl.metadata import Metadata
from etl.movielens import Link, Movie
from tests.conftest import drop_every_table
from tests.etl.conftest import FILES, dump, write_movielens


def _no_cache(_tmdb_id: int) -> Metadata | None:
    return None


def test_load_writes_catalog_users_ratings_and_tags(engine: Engine, movielens_small: Path) -> None:
    summary = load_movielens(engine, movielens_small, cached=_no_cache)
    with engine.connect() as conn:
        toy = conn.execute(select(movies).where(movies.c.id == 1)).one()
        president = conn.execute(select(movies).where(movies.c.id == 2)).one()
        babylon = conn.execute(select(movies).where(movies.c.id == 3)).one()
        genre_rows = conn.execute(
            select(genres.c.name, movie_genres.c.position)
            .join(genres)
            .where(movie_genres.c.movie_id == 1)
            .order_by(movie_genres.c.position)
        ).all()
        accounts = conn.execute(select(users).order_by(users.c.id)).all()
        rating_rows = conn.execute(select(ratings).order_by(ratings.c.user_id)).all()
        tag_rows = conn.execute(select(tags.c.user_id, tags.c.movie_id, tags.c.tag)).all()
    assert (toy.title, toy.year, toy.imdb_id, toy.tmdb_id) == ("Toy Story", 1995, "tt0114709", 862)
    assert toy.overview == 'Woody, a "cowboy"\nand Buzz.'
    assert toy.backdrop_path is None
    assert president.movielens_title == "American President, The (1995) "
    assert (president.original_title, president.poster_path) == (None, "/ap.jpg")
    assert (babylon.year, babylon.tmdb_id) == (None, None)
    assert genre_rows == [("Adventure", 0), ("Animation", 1), ("Children", 2)]
    assert [(a.id, a.username, a.is_demo) for a in accounts] == [
        (1, "user1", True),
        (2, "user2", True),
        (3, "user3", True),
    ]
    assert verify_password(accounts[0].password_hash, "pass")
    assert len(rating_rows) == 5
    assert sorted(tag_rows) == [(2, 1, "pixar"), (3, 3, "space")]
    assert summary.users_created == 3
    assert summary.movies_without_tmdb_id == 1
    assert summary.metadata_sources == {"combined_movies.csv": 3, "none (MovieLens fields only)": 1}


def test_a_movies_row_takes_every_column_from_its_sources_by_name() -> None:
    """Movie, Link and Metadata together name each column of ``movies`` once; a field added to
    a source is written without a list of columns to update."""
    row = movie_columns(
        Movie(1, "Heat", "Heat (1995)", 1995, ("Action",)),
        Link("tt0113277", 949),
        Metadata("Heat", "A heist.", "/p.jpg", "/b.jpg"),
    )
    assert set(row) == set(movies.columns.keys())
    assert row["tmdb_id"] == 949
    assert row["backdrop_path"] == "/b.jpg"


def test_rerun_leaves_the_same_store(engine: Engine, movielens_small: Path) -> None:
    load_movielens(engine, movielens_small, cached=_no_cache)
    first = dump(engine)
    summary = load_movielens(engine, movielens_small, cached=_no_cache)
    assert dump(engine) == first
    assert (summary.users_created, summary.users_existing) == (0, 3)


def test_rerun_keeps_newer_ratings_and_changed_passwords(
    engine: Engine, movielens_small: Path
) -> None:
    load_movielens(engine, movielens_small, cached=_no_cache)
    with engine.begin() as conn:
        # User 1 re-rated Toy Story through the API after the load; user 2's row is older.
        conn.execute(
            update(ratings)
            .where(ratings.c.user_id == 1, ratings.c.movie_id == 1)
            .values(rating=1.0, rated_at=2_000_000_000)
        )
        conn.execute(
            update(ratings)
            .where(ratings.c.user_id == 2, ratings.c.movie_id == 1)
            .values(rating=1.0, rated_at=1)
        )
        conn.execute(update(users).where(users.c.id == 1).values(password_hash="changed"))
    load_movielens(engine, movielens_small, cached=_no_cache)
    with engine.connect() as conn:
        rows = dict(
            conn.execute(
                select(ratings.c.user_id, ratings.c.rating).where(ratings.c.movie_id == 1)
            ).all()
        )
        password = conn.execute(select(users.c.password_hash).where(users.c.id == 1)).scalar()
    assert rows == {1: 1.0, 2: 5.0}
    assert password == "changed"


def test_load_packs_the_heavy_users_ratings_and_a_rerun_repacks_stale_ones(
    engine: Engine, movielens_small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data.ratings, "VECTOR_MIN_RATINGS", 2)

    def packed_equal_aggregate() -> set[int]:
        with engine.connect() as conn:
            counts = conn.execute(
                select(ratings.c.user_id, func.count()).group_by(ratings.c.user_id)
            ).all()
            stored = conn.execute(select(user_rating_vectors)).all()
            for user_id, stale_writes, packed in stored:
                assert stale_writes == 0
                assert _sorted(unpack_ratings(packed)) == _sorted(
                    aggregated_rating_arrays(conn, user_id)
                )
        assert {user for user, _, _ in stored} == {user for user, n in counts if n >= 2}
        return {user for user, _, _ in stored}

    load_movielens(engine, movielens_small, cached=_no_cache)
    heavy = packed_equal_aggregate()
    assert heavy, "the fixture has users with two ratings or more"
    with engine.begin() as conn:  # a write that bypasses the packed row: it goes stale
        conn.execute(
            update(ratings).where(ratings.c.user_id == min(heavy)).values(rated_at=2_000_000_000)
        )
    load_movielens(engine, movielens_small, cached=_no_cache)
    assert packed_equal_aggregate() == heavy


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 5, 7, 100])
def test_heavy_raters_are_counted_exactly_however_the_chunks_split_them(chunk_rows: int) -> None:
    # Users 1-6 with 1, 4, 5, 9, 3 and 12 ratings, sorted by user as read_ratings yields them.
    counts = {1: 1, 2: 4, 3: 5, 4: 9, 5: 3, 6: 12}
    rows = [(user, movie, 3.0, 1) for user, n in counts.items() for movie in range(n)]
    chunks = [rows[start : start + chunk_rows] for start in range(0, len(rows), chunk_rows)]
    heavy = _HeavyRaters(5)
    assert [row for chunk in heavy.watch([[], *chunks]) for row in chunk] == rows
    assert sorted(heavy.found) == [3, 4, 6]


def _sorted(arrays: tuple[Any, ...]) -> list[tuple[int, float, int]]:
    return sorted(zip(*(a.tolist() for a in arrays), strict=True))


@pytest.mark.parametrize(
    "replace",
    [
        {"ratings": [*FILES["ratings.csv"], "9,1,7.0,1"]},
        {"ratings": [*FILES["ratings.csv"], "1,1,3.0,1"]},
        {"tags": [*FILES["tags.csv"], "4,404,lost,1"]},
    ],
    ids=["bad rating last", "duplicate rating last", "tag on unknown movie"],
)
def test_failure_leaves_the_store_as_it_was(
    engine: Engine, tmp_path: Path, replace: dict[str, list[str]]
) -> None:
    load_movielens(engine, write_movielens(tmp_path / "good"), cached=_no_cache)
    before = dump(engine)
    changed = [*FILES["movies.csv"], "5,New Movie (2020),Drama"]
    bad = write_movielens(tmp_path / "bad", movies=changed, **replace)
    with pytest.raises(EtlError):
        load_movielens(engine, bad, cached=_no_cache)
    assert dump(engine) == before


def test_id_of_a_real_account_is_refused(engine: Engine, movielens_small: Path) -> None:
    with engine.begin() as conn:
        conn.execute(users.insert().values(id=2, username="alice", password_hash="h"))
    with pytest.raises(EtlError, match="id 2 belongs to the non-demo account 'alice'"):
        load_movielens(engine, movielens_small, cached=_no_cache)


def test_username_taken_case_insensitively_is_refused(
    engine: Engine, movielens_small: Path
) -> None:
    with engine.begin() as conn:
        conn.execute(users.insert().values(id=50, username="User3", password_hash="h"))
    with pytest.raises(EtlError, match="username 'user3' is taken by account id 50"):
        load_movielens(engine, movielens_small, cached=_no_cache)


def test_cached_tmdb_metadata_wins_over_combined(engine: Engine, movielens_small: Path) -> None:
    fresh = Metadata("Toy Story", "Fresh overview.", "/new.jpg", "/own-backdrop.jpg")
    summary = load_movielens(engine, movielens_small, cached={862: fresh}.get)
    with engine.connect() as conn:
        toy = conn.execute(select(movies).where(movies.c.id == 1)).one()
        president = conn.execute(select(movies).where(movies.c.id == 2)).one()
    assert (toy.overview, toy.backdrop_path) == ("Fresh overview.", "/own-backdrop.jpg")
    assert president.poster_path == "/ap.jpg"
    assert summary.metadata_sources["TMDB cache"] == 1


def test_apply_cached_metadata_matches_a_rerun(engine: Engine, movielens_small: Path) -> None:
    fresh = {862: Metadata("Toy Story", "Fresh.", "/new.jpg", "/bd.jpg")}
    load_movielens(engine, movielens_small, cached=_no_cache)
    assert apply_cached_metadata(engine, {1: 862, 2: 9087}, fresh.get) == 1
    applied = dump(engine)
    load_movielens(engine, movielens_small, cached=fresh.get)
    assert dump(engine) == applied


def test_without_metadata_sources_the_summary_says_so(engine: Engine, tmp_path: Path) -> None:
    directory = write_movielens(tmp_path, combined=False)
    summary = load_movielens(engine, directory, cached=_no_cache)
    with engine.connect() as conn:
        overviews = conn.execute(select(movies.c.overview)).scalars().all()
    assert overviews == [None] * 4
    assert any("MovieLens fields only" in line for line in summary.lines())


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    """An empty store in the PostgreSQL database ``MOVIEREC_TEST_POSTGRES_URL`` names
    (its tables are dropped before and after); skipped when that is not set."""
    url = os.environ.get("MOVIEREC_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("set MOVIEREC_TEST_POSTGRES_URL to run the PostgreSQL load test")
    engine = make_engine(url)
    drop_every_table(engine)
    engine.dispose()
    engine = open_store(url, create=True)
    yield engine
    drop_every_table(engine)
    engine.dispose()


def test_postgresql_load_is_idempotent_atomic_and_syncs_user_ids(
    postgres_engine: Engine, tmp_path: Path
) -> None:
    load_movielens(postgres_engine, write_movielens(tmp_path / "good"), cached=_no_cache)
    first = dump(postgres_engine)
    load_movielens(postgres_engine, write_movielens(tmp_path / "good"), cached=_no_cache)
    assert dump(postgres_engine) == first
    bad = write_movielens(tmp_path / "bad", ratings=[*FILES["ratings.csv"], "1,1,3.0,1"])
    with pytest.raises(EtlError):
        load_movielens(postgres_engine, bad, cached=_no_cache)
    assert dump(postgres_engine) == first
    with postgres_engine.begin() as conn:
        new_id = conn.execute(
            users.insert().values(username="signup", password_hash="h").returning(users.c.id)
        ).scalar_one()
    assert new_id == 4


# The bulk path at more than a few rows: many blocks and chunks, a first load into an empty
# store (indexes set aside, then rebuilt) and a rerun into a full one.


def _many_ratings(rows: int = 3_000) -> list[str]:
    """A header and ``rows`` distinct ratings by users 1-40 of the fixture's four movies...
    and of movies 5-100 added by ``_many_movies``."""
    pairs = [(u, m) for u in range(1, 41) for m in range(1, 101)][:rows]
    return [
        FILES["ratings.csv"][0],
        *(f"{u},{m},{(u + m) % 10 / 2 + 0.5},{u * m}" for u, m in pairs),
    ]


def _many_movies() -> list[str]:
    return [*FILES["movies.csv"], *(f"{m},Film {m} (2001),Drama|Comedy" for m in range(5, 101))]


def _comparable(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """``dump`` without the users' creation times and their ranking versions, which differ
    between two loads (a version is random by design: only who has one is compared)."""
    found = dump(engine)
    found["user_versions"] = sorted((row[0],) for row in found["user_versions"])
    with engine.connect() as conn:
        found["users"] = sorted(
            tuple(row)
            for row in conn.execute(
                select(users.c.id, users.c.username, users.c.password_hash, users.c.is_demo)
            )
        )
    return found


@pytest.fixture
def many(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """3,000 ratings, checked in blocks of 2 KB."""
    monkeypatch.setattr(movielens, "BLOCK_BYTES", 2048)
    return write_movielens(tmp_path / "many", movies=_many_movies(), ratings=_many_ratings())


def test_bulk_load_stores_every_row_of_the_files(engine: Engine, many: Path) -> None:
    summary = load_movielens(engine, many, cached=_no_cache)
    with engine.connect() as conn:
        stored = sorted(tuple(row) for row in conn.execute(select(ratings)))
        accounts = conn.execute(select(users.c.id, users.c.username)).all()
    expected = sorted(
        (int(u), int(m), float(r), int(t))
        for u, m, r, t in (line.split(",") for line in _many_ratings()[1:])
    )
    assert stored == expected
    assert sorted(accounts) == [(n, f"user{n}") for n in range(1, 31)]
    assert summary.users_created == 30
    report = next(report for report in summary.files if report.name == "ratings.csv")
    assert (report.read, report.loaded) == (3_000, 3_000)


def test_a_new_sqlite_store_is_built_aside_and_matches_one_loaded_in_place(
    engine: Engine, many: Path, tmp_path: Path
) -> None:
    load_movielens(engine, many, cached=_no_cache)
    path = tmp_path / "new" / "store.sqlite3"
    with store_for_load(f"sqlite:///{path}") as built:
        load_movielens(built, many, cached=_no_cache)
        assert not path.exists()  # nothing at the store's path until the load is done
    assert sorted(p.name for p in path.parent.iterdir()) == ["store.sqlite3"]
    new = open_store(f"sqlite:///{path}")
    try:
        assert _comparable(new) == _comparable(engine)
        with new.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        new.dispose()


def test_a_failed_first_load_leaves_no_store_behind(tmp_path: Path) -> None:
    bad = write_movielens(tmp_path / "bad", tags=[*FILES["tags.csv"], "4,404,lost,1"])
    path = tmp_path / "new" / "store.sqlite3"
    with pytest.raises(EtlError, match="movieId 404"), store_for_load(f"sqlite:///{path}") as e:
        load_movielens(e, bad, cached=_no_cache)
    assert list(path.parent.iterdir()) == []


def test_a_first_build_with_a_dangling_key_is_refused_and_leaves_no_store(tmp_path: Path) -> None:
    """The new file defers foreign keys to one check at the end; the check still holds them."""
    path = tmp_path / "new" / "store.sqlite3"
    with (
        pytest.raises(
            StoreError,
            match=r"broke \d+ foreign keys \(.*ratings rows refer to missing users rows",
        ),
        store_for_load(f"sqlite:///{path}") as engine,
        engine.begin() as conn,
    ):
        conn.execute(ratings.insert().values(user_id=7, movie_id=9, rating=4.0, rated_at=1))
    assert list(path.parent.iterdir()) == []


def test_a_store_that_appears_during_a_first_load_is_not_replaced(
    tmp_path: Path, movielens_small: Path
) -> None:
    path = tmp_path / "store.sqlite3"

    def load_while_someone_else_creates_the_store() -> None:
        with store_for_load(f"sqlite:///{path}") as engine:
            load_movielens(engine, movielens_small, cached=_no_cache)
            path.write_bytes(b"someone else's")

    with pytest.raises(StoreError, match="appeared"):
        load_while_someone_else_creates_the_store()
    assert path.read_bytes() == b"someone else's"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["movielens", "store.sqlite3"]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_bad_row_deep_in_a_large_file_leaves_the_store_as_it_was(
    request: pytest.FixtureRequest, store_url: str, many: Path, tmp_path: Path, database: str
) -> None:
    url = store_url if database == "sqlite" else request.getfixturevalue("postgres_url")
    engine = open_store(url, create=True)
    try:
        load_movielens(engine, many, cached=_no_cache)
        before = dump(engine)
        lines = _many_ratings()
        lines[2_500] = "7,3,4.5,not-a-time"
        bad = write_movielens(tmp_path / "bad", movies=_many_movies(), ratings=lines)
        with pytest.raises(EtlError) as caught:
            load_movielens(engine, bad, cached=_no_cache)
        assert (caught.value.path, caught.value.line) == (bad / "ratings.csv", 2_501)
        assert "timestamp 'not-a-time' is not an integer" in caught.value.problem
        assert dump(engine) == before
    finally:
        engine.dispose()


def test_postgresql_bulk_load_stores_what_sqlite_stores(
    engine: Engine, many: Path, postgres_url: str
) -> None:
    """A first load (COPY into emptied indexes) and a rerun (COPY into a staging table, then
    a merge) on PostgreSQL give the same store as SQLite's bulk path."""
    load_movielens(engine, many, cached=_no_cache)
    postgres = open_store(postgres_url, create=True)
    try:
        load_movielens(postgres, many, cached=_no_cache)
        assert _comparable(postgres) == _comparable(engine)
        load_movielens(postgres, many, cached=_no_cache)
        assert _comparable(postgres) == _comparable(engine)
    finally:
        postgres.dispose()


def _genre_links(engine: Engine) -> dict[int, list[str]]:
    """Each movie's genre names in their MovieLens order."""
    query = (
        select(movie_genres.c.movie_id, genres.c.name)
        .join(genres)
        .order_by(movie_genres.c.movie_id, movie_genres.c.position)
    )
    links: dict[int, list[str]] = {}
    with engine.connect() as conn:
        for movie_id, name in conn.execute(query):
            links.setdefault(movie_id, []).append(name)
    return links


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_rerun_with_new_users_movies_and_genres_stores_what_a_first_load_stores(
    request: pytest.FixtureRequest, database: str, tmp_path: Path, many: Path
) -> None:
    """A rerun merges the movies, their genre links and the new demo accounts into tables
    that have rows (on PostgreSQL through staging tables): a movie's changed genres replace
    its old ones, a new user's account exists before their ratings land."""
    grown = write_movielens(
        tmp_path / "grown",
        movies=[
            *(line.replace("Drama|Comedy", "Horror") for line in _many_movies()),
            "101,Film 101 (2002),Western|Drama",
        ],
        ratings=[*_many_ratings(), "41,101,4.0,7", "42,1,2.5,8"],
    )
    if database == "sqlite":
        rerun, fresh = (open_store(f"sqlite:///{tmp_path / n}.db", create=True) for n in "ab")
    else:
        url = request.getfixturevalue("postgres_url")
        rerun = open_store(url, create=True)
        fresh = open_store(f"sqlite:///{tmp_path / 'b'}.db", create=True)
    try:
        load_movielens(rerun, many, cached=_no_cache)
        summary = load_movielens(rerun, grown, cached=_no_cache)
        load_movielens(fresh, grown, cached=_no_cache)
        # Genre ids are given in the order genres first appear, which differs between the two.
        rerun_tables, fresh_tables = _comparable(rerun), _comparable(fresh)
        for tables in (rerun_tables, fresh_tables):
            del tables["genres"], tables["movie_genres"]
        assert rerun_tables == fresh_tables
        assert _genre_links(rerun) == _genre_links(fresh)
        assert _genre_links(rerun)[50] == ["Horror"]
        assert summary.users_created == 2
    finally:
        rerun.dispose()
        fresh.dispose()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "pipe"])
def test_progress_bars_on_a_terminal_log_lines_elsewhere(
    engine: Engine,
    many: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    terminal: bool,
) -> None:
    stderr = _Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    with caplog.at_level(logging.INFO, logger="etl.load"):
        load_movielens(engine, many, cached=_no_cache)
    steps = [record.getMessage() for record in caplog.records if record.name == "etl.load"]
    if terminal:
        for step in ("checking ratings.csv", "writing ratings.csv", "indexing ratings"):
            assert f"\r{step}" in stderr.getvalue()  # a bar, drawn over itself
        assert steps == []
    else:
        assert stderr.getvalue() == ""
        assert any(step.startswith("writing ratings.csv: 3,000 rows in ") for step in steps)
        assert any(step.startswith("indexing ratings: ") for step in steps)
