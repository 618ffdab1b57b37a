"""``movierec report``: the store read into frames, the analysis, the files, and the exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from etl.load import LoadSummary
from movierec.commands.ingest import run_etl
from movierec.commands.report import read_report_data, run_report
from movierec.settings import Settings
from recommender.analysis import ReportData, write_report


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "state")


def test_report_needs_ratings_then_writes_charts(
    settings: Settings, movielens_small: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert run_report(settings, out=tmp_path / "report") == 1
    assert "is empty; run `movierec etl` to build it" in caplog.text
    assert run_etl(settings, movielens_dir=movielens_small) == 0
    assert run_report(settings, out=tmp_path / "report") == 0
    written = sorted(path.name for path in (tmp_path / "report").iterdir())
    assert written == ["best_rated.png", "genres.png", "most_rated.png", "ratings.png", "report.md"]


@pytest.fixture(scope="session")
def report_data(real_store: tuple[Engine, LoadSummary]) -> ReportData:
    with real_store[0].connect() as conn:
        return read_report_data(conn)


@pytest.mark.movielens
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


@pytest.mark.movielens
def test_report_files(report_data: ReportData, tmp_path: Path) -> None:
    markdown = write_report(report_data, tmp_path).read_text()
    assert "| 1 | Forrest Gump (1994) | 329 |" in markdown
    for chart in ("genres.png", "ratings.png", "most_rated.png", "best_rated.png"):
        assert f"]({chart})" in markdown
        assert (tmp_path / chart).read_bytes().startswith(b"\x89PNG")
