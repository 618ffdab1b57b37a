"""Reading and validating the MovieLens CSV files (ml-latest-small and larger sets alike).

Every row is checked before it reaches the store: field count, types, ranges, unique keys and
references to known movies. A bad row raises ``EtlError`` naming the file, the physical line the
row starts on (quoted newlines counted) and the problem. Known, harmless faults are fixed and
counted in the file's ``FileReport`` so the run's summary says what was changed.

Movies and links are small and read whole; ratings and tags are yielded in chunks so that
ml-25m-sized files never become one Python object per row all at once.
"""

from __future__ import annotations

import csv
import re
from array import array
from collections import Counter
from collections.abc import Container, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from data.domain import NO_GENRES, RATING_SCALE
from etl.errors import EtlError

MOVIES_HEADER = ("movieId", "title", "genres")
LINKS_HEADER = ("movieId", "imdbId", "tmdbId")
RATINGS_HEADER = ("userId", "movieId", "rating", "timestamp")
TAGS_HEADER = ("userId", "movieId", "tag", "timestamp")
CHUNK_ROWS = 50_000

# "Heat (1995)", "Death Note: Desu nôto (2006–2007)", "Babylon 5 (1994-)"; no year at all is
# allowed (a dozen titles in ml-latest-small have none).
_TITLE_YEAR = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})(?:\s*[-–]\s*(?:\d{4})?)?\)$")

RatingRow = tuple[int, int, float, int]
TagRow = tuple[int, int, str, int]


@dataclass
class FileReport:
    """What happened to one source file: rows read, rows loaded and each fix applied."""

    name: str
    read: int = 0
    loaded: int = 0
    fixes: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class Movie:
    id: int
    title: str
    movielens_title: str
    year: int | None
    genres: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Link:
    imdb_id: str | None
    tmdb_id: int | None


def read_rows(path: Path, header: Sequence[str]) -> Iterator[tuple[int, list[str]]]:
    """Rows after the header as ``(line, fields)``; ``line`` is where the row starts in the file.

    The csv module handles quoted commas, quotes and newlines; ``line_num`` counts physical
    lines, so the start of the next row is one past where the previous row ended.
    """
    if not path.is_file():
        raise EtlError("file not found", path=path)
    start = 1
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, strict=True)
        try:
            found = next(reader, None)
            if found is None or tuple(found) != tuple(header):
                raise EtlError(
                    f"expected header {','.join(header)!r}, found {','.join(found or [])!r}",
                    path=path,
                    line=1,
                )
            start = reader.line_num + 1
            for row in reader:
                if len(row) != len(header):
                    raise EtlError(
                        f"expected {len(header)} fields ({','.join(header)}), found {len(row)}",
                        path=path,
                        line=start,
                    )
                yield start, row
                start = reader.line_num + 1
        except csv.Error as exc:
            raise EtlError(f"malformed CSV: {exc}", path=path, line=start) from exc
        except UnicodeDecodeError as exc:
            raise EtlError(f"not UTF-8 text ({exc.reason})", path=path, line=start) from exc


def parse_int(value: str, what: str, path: Path, line: int, *, minimum: int = 0) -> int:
    """``value`` as an integer >= ``minimum``, or an ``EtlError`` naming the field."""
    try:
        number = int(value)
    except ValueError:
        raise EtlError(f"{what} {value!r} is not an integer", path=path, line=line) from None
    if number < minimum:
        raise EtlError(f"{what} {number} is below {minimum}", path=path, line=line)
    return number


def known_movie(value: str, movie_ids: Container[int], path: Path, line: int) -> int:
    """The movieId of a row that refers to a movie, which must be in movies.csv."""
    movie_id = parse_int(value, "movieId", path, line, minimum=1)
    if movie_id not in movie_ids:
        raise EtlError(f"movieId {movie_id} is not in movies.csv", path=path, line=line)
    return movie_id


def _first_time(movie_id: int, first_line: dict[int, int], path: Path, line: int) -> None:
    """Record where ``movie_id`` first appears; a second row for it is an error naming both
    lines, so the user can see which of the two to delete."""
    if movie_id in first_line:
        raise EtlError(
            f"duplicate movieId {movie_id} (first on line {first_line[movie_id]})",
            path=path,
            line=line,
        )
    first_line[movie_id] = line


def split_title(movielens_title: str) -> tuple[str, int | None]:
    """``"Heat (1995) "`` → ``("Heat", 1995)``; a range gives its first year, no year ``None``."""
    stripped = movielens_title.strip()
    match = _TITLE_YEAR.match(stripped)
    if match is None or not match["title"]:
        return stripped, None
    return match["title"], int(match["year"])


def read_movies(path: Path) -> tuple[dict[int, Movie], FileReport]:
    """movies.csv as movies keyed by id; genres in their MovieLens order."""
    report = FileReport(path.name)
    movies: dict[int, Movie] = {}
    first_line: dict[int, int] = {}
    for line, (raw_id, raw_title, raw_genres) in read_rows(path, MOVIES_HEADER):
        report.read += 1
        movie_id = parse_int(raw_id, "movieId", path, line, minimum=1)
        _first_time(movie_id, first_line, path, line)
        title, year = split_title(raw_title)
        if not title:
            raise EtlError(f"movieId {movie_id} has an empty title", path=path, line=line)
        if raw_title != raw_title.strip():
            report.fixes["titles with surrounding spaces (trimmed in title)"] += 1
        if year is None:
            report.fixes["titles without a year (year NULL)"] += 1
        movies[movie_id] = Movie(movie_id, title, raw_title, year, _genres(raw_genres, path, line))
        if not movies[movie_id].genres:
            report.fixes[f"movies with {NO_GENRES!r} (no genre rows)"] += 1
    report.loaded = len(movies)
    return movies, report


def _genres(raw: str, path: Path, line: int) -> tuple[str, ...]:
    if raw == NO_GENRES:
        return ()
    names = tuple(raw.split("|"))
    if any(not name.strip() or name != name.strip() for name in names):
        raise EtlError(f"malformed genres {raw!r}", path=path, line=line)
    if len(set(names)) != len(names):
        raise EtlError(f"a genre is listed twice in {raw!r}", path=path, line=line)
    return names


def read_links(path: Path, movies: dict[int, Movie]) -> tuple[dict[int, Link], FileReport]:
    """links.csv as IMDb/TMDB ids keyed by movie; an empty id becomes ``None``."""
    report = FileReport(path.name)
    links: dict[int, Link] = {}
    first_line: dict[int, int] = {}
    for line, (raw_id, raw_imdb, raw_tmdb) in read_rows(path, LINKS_HEADER):
        report.read += 1
        movie_id = known_movie(raw_id, movies, path, line)
        _first_time(movie_id, first_line, path, line)
        imdb_id = None
        if raw_imdb:
            imdb_id = f"tt{parse_int(raw_imdb, 'imdbId', path, line, minimum=1):07d}"
        else:
            report.fixes["empty imdbId (NULL)"] += 1
        tmdb_id = parse_int(raw_tmdb, "tmdbId", path, line, minimum=1) if raw_tmdb else None
        if tmdb_id is None:
            report.fixes["empty tmdbId (NULL)"] += 1
        links[movie_id] = Link(imdb_id, tmdb_id)
    report.loaded = len(links)
    return links, report


def read_ratings(
    path: Path, movies: dict[int, Movie], report: FileReport, *, chunk_rows: int = CHUNK_ROWS
) -> Iterator[list[RatingRow]]:
    """ratings.csv in chunks of ``(user, movie, rating, timestamp)``.

    A (user, movie) pair rated twice is an error, found once the whole file has been read (the
    keys are kept as packed integers, not tuples), so a caller writing chunks inside one
    transaction rolls everything back.
    """
    keys = array("q")
    lines = array("q")
    chunk: list[RatingRow] = []
    for line, (raw_user, raw_movie, raw_rating, raw_time) in read_rows(path, RATINGS_HEADER):
        report.read += 1
        user_id = parse_int(raw_user, "userId", path, line, minimum=1)
        movie_id = known_movie(raw_movie, movies, path, line)
        rating = _rating(raw_rating, path, line)
        timestamp = parse_int(raw_time, "timestamp", path, line)
        keys.append(user_id << 32 | movie_id)
        lines.append(line)
        chunk.append((user_id, movie_id, rating, timestamp))
        if len(chunk) >= chunk_rows:
            yield chunk
            chunk = []
    _refuse_duplicate_keys(np.frombuffer(keys, np.int64), np.frombuffer(lines, np.int64), path)
    if chunk:
        yield chunk


def _rating(value: str, path: Path, line: int) -> float:
    try:
        rating = float(value)
    except ValueError:
        raise EtlError(f"rating {value!r} is not a number", path=path, line=line) from None
    if not RATING_SCALE.allows(rating):
        raise EtlError(
            f"rating {value!r} is not one of {RATING_SCALE.describe()}", path=path, line=line
        )
    return rating


def _refuse_duplicate_keys(keys: np.ndarray, lines: np.ndarray, path: Path) -> None:
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    repeated = np.flatnonzero(ordered[1:] == ordered[:-1])
    if repeated.size == 0:
        return
    # Report the earliest line that repeats a key, with the line it repeats.
    index = repeated[np.argmin(lines[order][repeated + 1])]
    first, again = int(lines[order][index]), int(lines[order][index + 1])
    key = int(ordered[index])
    raise EtlError(
        f"userId {key >> 32} rated movieId {key & 0xFFFFFFFF} twice (first on line {first})",
        path=path,
        line=again,
    )


def read_tags(
    path: Path, movies: dict[int, Movie], report: FileReport, *, chunk_rows: int = CHUNK_ROWS
) -> Iterator[list[TagRow]]:
    """tags.csv in chunks of ``(user, movie, tag, timestamp)``.

    The same tag by the same user on the same movie is kept once (the first); a blank tag says
    nothing and is skipped. Both are counted.
    """
    seen: set[tuple[int, int, str]] = set()
    chunk: list[TagRow] = []
    for line, (raw_user, raw_movie, tag, raw_time) in read_rows(path, TAGS_HEADER):
        report.read += 1
        user_id = parse_int(raw_user, "userId", path, line, minimum=1)
        movie_id = known_movie(raw_movie, movies, path, line)
        timestamp = parse_int(raw_time, "timestamp", path, line)
        if not tag.strip():
            report.fixes["blank tags skipped"] += 1
            continue
        key = (user_id, movie_id, tag)
        if key in seen:
            report.fixes["duplicate (user, movie, tag) dropped"] += 1
            continue
        seen.add(key)
        chunk.append((user_id, movie_id, tag, timestamp))
        if len(chunk) >= chunk_rows:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
