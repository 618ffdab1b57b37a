"""The ETL and the report over the real ml-latest-small: the figures the issue names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, Table, func, select

from data.db import open_store
from data.schema import movies, ratings, tags, users
from etl.load import LoadSummary, load_movielens
from etl.metadata import Metadata
from etl.report import ReportData, collect, write_report

pytestmark = pytest.mark.movielens


def _no_cache(_tmdb_id: int) -> Metadata | None:
    return None


@pytest.fixture(scope="session")
def real_store(
    tmp_path_factory: pytest.TempPathFactory, movielens_dir: Path
) -> Iterator[tuple[Engine, LoadSummary]]:
    """One real load per test session, shared by every test here (read-only)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('real') / 'store.sqlite3'}"
    engine = open_store(url, create=True)
    summary = load_movielens(engine, movielens_dir, cached=_no_cache)
    yield engine, summary
    engine.dispose()


@pytest.fixture(scope="session")
def report_data(real_store: tuple[Engine, LoadSummary]) -> ReportData:
    with real_store[0].connect() as conn:
        return collect(conn)


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


def test_report_figures(report_data: ReportData) -> None:
    assert (report_data.counts.users, report_data.counts.ratings) == (610, 100_836)
    assert report_data.counts.rated_movies == 9_724
    assert sum(report_data.histogram.values()) == 100_836
    assert list(report_data.histogram) == [step / 2 for step in range(1, 11)]
    assert report_data.most_rated[0].title == "Forrest Gump (1994)"
    assert report_data.most_rated[0].count == 329
    assert len(report_data.most_rated) == 20
    assert all(movie.count > 100 for movie in report_data.best_rated)
    means = [movie.mean for movie in report_data.best_rated]
    assert means == sorted(means, reverse=True)
    assert report_data.best_rated[0].title == "Shawshank Redemption, The (1994)"
    assert report_data.median_rating == 3.5
    assert report_data.mean_rating == pytest.approx(3.5016, abs=1e-4)
    assert len(report_data.without_tmdb_id) == 8
    assert report_data.genres[0][0] == "Drama"


def test_report_files(report_data: ReportData, tmp_path: Path) -> None:
    markdown = write_report(report_data, tmp_path).read_text()
    assert "| 1 | Forrest Gump (1994) | 329 |" in markdown
    for chart in ("genres.png", "ratings.png", "most_rated.png", "best_rated.png"):
        assert f"]({chart})" in markdown
        assert (tmp_path / chart).read_bytes().startswith(b"\x89PNG")
