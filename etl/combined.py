"""Reading the original app's ``combined_movies.csv``, the metadata source without a TMDB token.

Its known faults are fixed and counted rather than hidden: ``NA`` and blank values become
NULL; an exact duplicate row (movieId 144606, matched twice on imdbId) is dropped, while two
*different* rows for one movie are an error because neither can be chosen honestly; and its
``backdrop_path`` is discarded because it is the movie's *collection* picture, not the movie's
(``movierec etl enrich`` fetches the real one).
"""

from __future__ import annotations

from pathlib import Path

from etl.errors import EtlError
from etl.metadata import Metadata
from etl.movielens import FileReport, Movie, known_movie, read_rows

COMBINED_HEADER = (
    "movieId",
    "title",
    "genres",
    "imdbId",
    "tmdbId",
    "original_title",
    "overview",
    "poster_path",
    "backdrop_path",
)
NA = "NA"
_TEXT_COLUMNS = ("original_title", "overview", "poster_path")


def read_combined(path: Path, movies: dict[int, Movie]) -> tuple[dict[int, Metadata], FileReport]:
    """Metadata keyed by movie id from combined_movies.csv."""
    report = FileReport(path.name)
    found: dict[int, tuple[int, list[str], Metadata]] = {}
    for line, row in read_rows(path, COMBINED_HEADER):
        report.read += 1
        movie_id = known_movie(row[0], movies, path, line)
        if movie_id in found:
            first_line, first_row, _ = found[movie_id]
            if first_row != row:
                raise EtlError(
                    f"movieId {movie_id} appears twice with different values "
                    f"(first on line {first_line})",
                    path=path,
                    line=line,
                )
            report.fixes[f"duplicate rows dropped (movieId {movie_id})"] += 1
            continue
        values = dict(zip(COMBINED_HEADER, row, strict=True))
        texts = {column: _clean(values[column], column, report) for column in _TEXT_COLUMNS}
        if values["backdrop_path"] not in ("", NA):
            report.fixes["backdrop_path discarded (the collection's picture, not the movie's)"] += 1
        found[movie_id] = (line, row, Metadata(backdrop_path=None, **texts))
    report.loaded = len(found)
    return {movie_id: metadata for movie_id, (_, _, metadata) in found.items()}, report


def _clean(value: str, column: str, report: FileReport) -> str | None:
    if value == NA:
        report.fixes[f"NA in {column} (NULL)"] += 1
        return None
    if not value.strip():
        report.fixes[f"blank {column} (NULL)"] += 1
        return None
    return value
