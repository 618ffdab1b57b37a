"""The ETL over the real ml-latest-small: the figures the issue names."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, Table, func, select

from data.schema import movies, ratings, tags, users
from etl.load import LoadSummary

pytestmark = pytest.mark.movielens


def _count(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_store_has_every_movie_user_rating_and_tag(real_store: tuple[Engine, LoadSummary]) -> None:
    engine, _ = real_store
    assert _count(engine, movies) == 9_742
    assert _count(engine, users) == 610
    assert _count(engine, ratings) == 100_836
    assert _count(engine, tags) == 3_683


def test_summary_counts_the_known_faults(real_store: tuple[Engine, LoadSummary]) -> None:
    _, summary = real_store
    files = {report.name: report for report in summary.files}
    combined = files["combined_movies.csv"]
    assert (combined.read, combined.loaded) == (9_743, 9_742)
    assert combined.fixes["duplicate rows dropped (movieId 144606)"] == 1
    assert combined.fixes["NA in original_title (NULL)"] == 142
    assert combined.fixes["NA in poster_path (NULL)"] == 147
    # 142 NA plus 7 empty overviews: the 149 the data's README reports.
    assert combined.fixes["NA in overview (NULL)"] + combined.fixes["blank overview (NULL)"] == 149
    assert summary.movies_without_tmdb_id == 8
    assert (files["ratings.csv"].read, files["ratings.csv"].loaded) == (100_836, 100_836)
    assert summary.users_created == 610


def test_titles_years_and_ids_are_split(real_store: tuple[Engine, LoadSummary]) -> None:
    with real_store[0].connect() as conn:
        row = conn.execute(select(movies).where(movies.c.id == 144606)).one()
        no_year = conn.execute(select(func.count()).where(movies.c.year.is_(None))).scalar_one()
    assert (row.title, row.year, row.imdb_id, row.tmdb_id) == (
        "Confessions of a Dangerous Mind",
        2002,
        "tt0270288",
        4912,
    )
    assert no_year == 12
