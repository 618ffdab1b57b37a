"""The data report's analysis on frames built here: no store, every figure checked by hand."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from recommender.analysis import BEST_RATED_MIN_RATINGS, MovieRatings, summarize, write_report

MOVIES = pd.DataFrame(
    {
        "movie_id": [1, 2, 3, 4],
        "title": ["Beta", "Alpha", "Gamma | Delta", "Unrated"],
        "tmdb_id": pd.array([10, None, 30, None], dtype="Int64"),
    }
)
GENRES = pd.DataFrame({"movie_id": [1, 2, 3, 1], "genre": ["Drama", "Comedy", "Drama", "Comedy"]})


def ratings(rows: list[tuple[int, int, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["user_id", "movie_id", "rating"])
    return frame.astype({"rating": "float32"})


def test_counts_histogram_mean_median_and_sparsity() -> None:
    data = summarize(ratings([(1, 1, 4.0), (1, 2, 3.0), (2, 1, 4.0), (2, 3, 0.5)]), MOVIES, GENRES)
    assert (data.counts.users, data.counts.movies) == (2, 4)
    assert (data.counts.rated_movies, data.counts.ratings) == (3, 4)
    assert data.histogram == {0.5: 1, 3.0: 1, 4.0: 2}
    assert data.mean_rating == pytest.approx(11.5 / 4)
    # Even count: the mean of the two middle ratings (3.0 and 4.0).
    assert data.median_rating == 3.5
    assert data.sparsity == pytest.approx(1 - 4 / 6)


def test_genres_most_common_first_ties_by_name() -> None:
    data = summarize(ratings([(1, 1, 4.0)]), MOVIES, GENRES)
    assert data.genres == [("Comedy", 2), ("Drama", 2)]


def test_most_rated_by_count_then_mean_then_title() -> None:
    data = summarize(
        ratings([(1, 1, 3.0), (2, 1, 3.0), (1, 2, 3.0), (2, 2, 3.0), (1, 3, 5.0)]),
        MOVIES,
        GENRES,
    )
    assert data.most_rated == [
        MovieRatings(movie_id=2, title="Alpha", count=2, mean=3.0),
        MovieRatings(movie_id=1, title="Beta", count=2, mean=3.0),
        MovieRatings(movie_id=3, title="Gamma | Delta", count=1, mean=5.0),
    ]


def test_best_rated_needs_more_than_the_minimum_of_ratings() -> None:
    enough = [(user, 1, 3.0) for user in range(BEST_RATED_MIN_RATINGS + 1)]
    just_short = [(user, 2, 5.0) for user in range(BEST_RATED_MIN_RATINGS)]
    data = summarize(ratings([*enough, *just_short]), MOVIES, GENRES)
    assert [movie.movie_id for movie in data.best_rated] == [1]


def test_movies_without_a_tmdb_id_by_id() -> None:
    data = summarize(ratings([(1, 1, 4.0)]), MOVIES, GENRES)
    assert data.without_tmdb_id == [(2, "Alpha"), (4, "Unrated")]


def test_no_ratings_is_refused() -> None:
    with pytest.raises(ValueError, match="no ratings"):
        summarize(ratings([]), MOVIES, GENRES)


def test_report_escapes_table_cells_and_draws_every_chart(tmp_path: Path) -> None:
    data = summarize(ratings([(1, 3, 4.0), (2, 1, 2.0)]), MOVIES, GENRES)
    markdown = write_report(data, tmp_path / "out").read_text()
    assert "| 1 | Gamma \\| Delta | 1 | 4.00 |" in markdown
    for chart in ("genres.png", "ratings.png", "most_rated.png", "best_rated.png"):
        assert (tmp_path / "out" / chart).read_bytes().startswith(b"\x89PNG")
