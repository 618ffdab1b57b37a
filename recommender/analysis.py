"""The data report: the original notebook's analysis of the ratings, as PNG charts and Markdown.

Pure analysis, like the rest of this package: frames in (the same ratings frame training reads,
plus the catalog's titles, TMDB ids and genres), figures and files out; it never sees the
store, so ``movierec report`` does the reading. It lives beside the models because it describes
what they learn from (sparsity, the rating scale, the popularity skew the ranking has to beat),
not how the data got in. Charts are drawn on bare ``Figure`` objects (Agg, no pyplot state),
which works headless and in any thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

MOST_RATED = 20
BEST_RATED = 10
BEST_RATED_MIN_RATINGS = 100


@dataclass(frozen=True, slots=True)
class Counts:
    users: int
    movies: int
    rated_movies: int
    ratings: int


@dataclass(frozen=True, slots=True)
class MovieRatings:
    movie_id: int
    title: str
    count: int
    mean: float


@dataclass(frozen=True)
class ReportData:
    counts: Counts
    histogram: dict[float, int]
    genres: list[tuple[str, int]]
    most_rated: list[MovieRatings]
    best_rated: list[MovieRatings]
    without_tmdb_id: list[tuple[int, str]]

    @property
    def mean_rating(self) -> float:
        return sum(value * n for value, n in self.histogram.items()) / self.counts.ratings

    @property
    def median_rating(self) -> float:
        """Median from the value counts: the mean of the two middle ratings when even."""
        total = self.counts.ratings
        middle = sorted({(total - 1) // 2, total // 2})
        picked, seen = [], 0
        for value, n in sorted(self.histogram.items()):
            picked += [value for index in middle if seen <= index < seen + n]
            seen += n
        return sum(picked) / len(picked)

    @property
    def sparsity(self) -> float:
        """Share of the (users × rated movies) matrix that has no rating."""
        cells = self.counts.users * self.counts.rated_movies
        return 1 - self.counts.ratings / cells


def summarize(
    ratings: pd.DataFrame, movies: pd.DataFrame, movie_genres: pd.DataFrame
) -> ReportData:
    """Every figure the report shows.

    ``ratings`` has ``user_id, movie_id, rating``; ``movies`` has ``movie_id, title, tmdb_id``
    (missing ids as NA) for the whole catalog; ``movie_genres`` has ``movie_id, genre``, one
    row per pair. Ties rank by title, so the same data gives the same report.
    """
    if ratings.empty:
        raise ValueError("no ratings to report on")
    values = ratings["rating"].astype(np.float64)
    histogram = values.value_counts().sort_index()
    genres = movie_genres.groupby("genre").size().rename("n").reset_index()
    genres = genres.sort_values(["n", "genre"], ascending=[False, True])
    per_movie = (
        values.groupby(ratings["movie_id"])
        .agg(n="size", mean="mean")
        .join(movies.set_index("movie_id")["title"], how="inner")
        .reset_index()
    )
    without = movies[movies["tmdb_id"].isna()].sort_values("movie_id")
    return ReportData(
        counts=Counts(
            users=int(ratings["user_id"].nunique()),
            movies=len(movies),
            rated_movies=int(ratings["movie_id"].nunique()),
            ratings=len(ratings),
        ),
        histogram={
            float(value): int(n)
            for value, n in zip(histogram.index.to_numpy(np.float64), histogram, strict=True)
        },
        genres=[(str(name), int(n)) for name, n in genres.itertuples(index=False)],
        most_rated=_ranked(per_movie, by=("n", "mean"), limit=MOST_RATED),
        best_rated=_ranked(
            per_movie[per_movie["n"] > BEST_RATED_MIN_RATINGS],
            by=("mean", "n"),
            limit=BEST_RATED,
        ),
        without_tmdb_id=[
            (int(movie_id), str(title))
            for movie_id, title in without[["movie_id", "title"]].itertuples(index=False)
        ],
    )


def _ranked(per_movie: pd.DataFrame, *, by: tuple[str, str], limit: int) -> list[MovieRatings]:
    """The first ``limit`` movies by ``by`` (both descending), ties by title."""
    top = per_movie.sort_values([*by, "title"], ascending=[False, False, True]).head(limit)
    rows = top[["movie_id", "title", "n", "mean"]].itertuples(index=False)
    return [
        MovieRatings(movie_id=int(movie_id), title=str(title), count=int(n), mean=float(mean))
        for movie_id, title, n, mean in rows
    ]


def write_report(data: ReportData, out: Path) -> Path:
    """Write the charts and ``report.md`` into ``out``; returns the Markdown file."""
    out.mkdir(parents=True, exist_ok=True)
    _bars(
        out / "genres.png",
        [name for name, _ in data.genres],
        [n for _, n in data.genres],
        title="Movies per genre",
        xlabel="movies",
    )
    _histogram(out / "ratings.png", data.histogram)
    _bars(
        out / "most_rated.png",
        [movie.title for movie in data.most_rated],
        [movie.count for movie in data.most_rated],
        title=f"The {MOST_RATED} most rated movies",
        xlabel="ratings",
    )
    _bars(
        out / "best_rated.png",
        [movie.title for movie in data.best_rated],
        [movie.mean for movie in data.best_rated],
        title=f"Best mean rating, more than {BEST_RATED_MIN_RATINGS} ratings",
        xlabel="mean rating",
    )
    markdown = out / "report.md"
    markdown.write_text(_markdown(data), encoding="utf-8")
    return markdown


def _bars(path: Path, labels: list[str], values: list[float], *, title: str, xlabel: str) -> None:
    figure = Figure(figsize=(9, 0.3 * len(labels) + 1.5), layout="constrained")
    axes = figure.subplots()
    axes.barh(labels[::-1], values[::-1], color="#3b6ea5")
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    figure.savefig(path, dpi=100)


def _histogram(path: Path, histogram: dict[float, int]) -> None:
    figure = Figure(figsize=(8, 4.5), layout="constrained")
    axes = figure.subplots()
    axes.bar(list(histogram), list(histogram.values()), width=0.4, color="#3b6ea5")
    axes.set_xticks([step / 2 for step in range(1, 11)])
    axes.set_title("Ratings by value (0.5 bins)")
    axes.set_xlabel("rating")
    axes.set_ylabel("ratings")
    figure.savefig(path, dpi=100)


def _markdown(data: ReportData) -> str:
    counts = data.counts
    lines = [
        "# MovieLens data report",
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| users (with a rating) | {counts.users:,} |",
        f"| movies (catalog) | {counts.movies:,} |",
        f"| movies with a rating | {counts.rated_movies:,} |",
        f"| ratings | {counts.ratings:,} |",
        f"| sparsity (users × rated movies without a rating) | {data.sparsity:.2%} |",
        f"| mean rating | {data.mean_rating:.3f} |",
        f"| median rating | {data.median_rating:.1f} |",
        f"| movies without a TMDB id | {len(data.without_tmdb_id):,} |",
        "",
        "## Movies per genre",
        "",
        "![Movies per genre](genres.png)",
        "",
        "## Ratings histogram",
        "",
        "![Ratings by value](ratings.png)",
        "",
        "| rating | ratings |",
        "| --- | --- |",
        *(f"| {value:.1f} | {n:,} |" for value, n in data.histogram.items()),
        "",
        f"## The {MOST_RATED} most rated movies",
        "",
        "![Most rated movies](most_rated.png)",
        "",
        *_movie_table(data.most_rated),
        "",
        f"## The {BEST_RATED} best mean-rated movies with more than "
        f"{BEST_RATED_MIN_RATINGS} ratings",
        "",
        "![Best rated movies](best_rated.png)",
        "",
        *_movie_table(data.best_rated),
        "",
        "## Movies without a TMDB id",
        "",
        "| movieId | title |",
        "| --- | --- |",
        *(f"| {movie_id} | {_cell(title)} |" for movie_id, title in data.without_tmdb_id),
        "",
    ]
    return "\n".join(lines)


def _movie_table(rows: list[MovieRatings]) -> list[str]:
    return [
        "| # | title | ratings | mean |",
        "| --- | --- | --- | --- |",
        *(
            f"| {rank} | {_cell(movie.title)} | {movie.count:,} | {movie.mean:.2f} |"
            for rank, movie in enumerate(rows, 1)
        ),
    ]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
