"""The load: what lands in the store, idempotent reruns, and all-or-nothing failures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from data.db import make_engine, open_store
from data.passwords import verify_password
from data.schema import genres, movie_genres, movies, ratings, tags, users
from etl.errors import EtlError
from etl.load import apply_cached_metadata, load_movielens, movie_columns
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
