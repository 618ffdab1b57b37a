"""Reading and validating the MovieLens CSV files (ml-latest-small and larger sets alike).

Every row is checked before it reaches the store: field count, types, ranges, unique keys and
references to known movies. A bad row raises ``EtlError`` naming the file, the physical line the
row starts on (quoted newlines counted) and the problem. Known, harmless faults are fixed and
counted in the file's ``FileReport`` so the run's summary says what was changed.

Movies and links are small and read whole; tags are yielded in chunks, and ratings are checked
block by block with pandas and NumPy (the row-by-row reader takes over where a block is not
plainly good, so errors still name the file and line) and kept as NumPy columns, so that
ml-25m-sized files never become one Python object per row all at once.
"""

from __future__ import annotations

import csv
import io
import re
from array import array
from collections import Counter
from collections.abc import Callable, Container, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
import pandas as pd

from data.domain import NO_GENRES, RATING_SCALE
from etl.errors import EtlError

MOVIES_HEADER = ("movieId", "title", "genres")
LINKS_HEADER = ("movieId", "imdbId", "tmdbId")
RATINGS_HEADER = ("userId", "movieId", "rating", "timestamp")
TAGS_HEADER = ("userId", "movieId", "tag", "timestamp")
CHUNK_ROWS = 200_000
# ratings.csv is checked in blocks of about this many bytes (about 1.2 M rows).
BLOCK_BYTES = 32 << 20
# Ids are INTEGER columns, timestamps BIGINT: the largest values the store can hold.
MAX_ID = 2**31 - 1
MAX_BIGINT = 2**63 - 1

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


def read_rows(
    path: Path, header: Sequence[str], *, resume: tuple[int, int] | None = None
) -> Iterator[tuple[int, list[str]]]:
    """Rows after the header as ``(line, fields)``; ``line`` is where the row starts in the file.

    The csv module handles quoted commas, quotes and newlines; ``line_num`` counts physical
    lines, so the start of the next row is one past where the previous row ended. ``resume``
    is ``(byte offset, line)`` of a row start to read on from (the header already checked).
    """
    if not path.is_file():
        raise EtlError("file not found", path=path)
    before = 0 if resume is None else resume[1] - 1  # lines above where reading starts
    start = before + 1
    with path.open("rb") as raw:
        if resume is not None:
            raw.seek(resume[0])
        encoding = "utf-8-sig" if resume is None else "utf-8"
        reader = csv.reader(io.TextIOWrapper(raw, encoding=encoding, newline=""), strict=True)
        try:
            if resume is None:
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
                start = before + reader.line_num + 1
        except csv.Error as exc:
            raise EtlError(f"malformed CSV: {exc}", path=path, line=start) from exc
        except UnicodeDecodeError as exc:
            raise EtlError(f"not UTF-8 text ({exc.reason})", path=path, line=start) from exc


def parse_int(
    value: str,
    what: str,
    path: Path,
    line: int,
    *,
    minimum: int = 0,
    maximum: int = MAX_BIGINT,
) -> int:
    """``value`` as an integer from ``minimum`` to ``maximum`` (what the store's column holds),
    or an ``EtlError`` naming the field."""
    try:
        number = int(value)
    except ValueError:
        raise EtlError(f"{what} {value!r} is not an integer", path=path, line=line) from None
    if number < minimum:
        raise EtlError(f"{what} {number} is below {minimum}", path=path, line=line)
    if number > maximum:
        raise EtlError(f"{what} {number} is above {maximum}", path=path, line=line)
    return number


def known_movie(value: str, movie_ids: Container[int], path: Path, line: int) -> int:
    """The movieId of a row that refers to a movie, which must be in movies.csv."""
    movie_id = parse_int(value, "movieId", path, line, minimum=1, maximum=MAX_ID)
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
        movie_id = parse_int(raw_id, "movieId", path, line, minimum=1, maximum=MAX_ID)
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
        tmdb_id = (
            parse_int(raw_tmdb, "tmdbId", path, line, minimum=1, maximum=MAX_ID)
            if raw_tmdb
            else None
        )
        if tmdb_id is None:
            report.fixes["empty tmdbId (NULL)"] += 1
        links[movie_id] = Link(imdb_id, tmdb_id)
    report.loaded = len(links)
    return links, report


def read_ratings(
    path: Path,
    movies: dict[int, Movie],
    report: FileReport,
    *,
    chunk_rows: int = CHUNK_ROWS,
    progress: Callable[[int], object] | None = None,
) -> Iterator[list[RatingRow]]:
    """ratings.csv in chunks of ``(user, movie, rating, timestamp)``, sorted by (user, movie).

    The whole file is read and checked before the first chunk comes out, so a bad row anywhere
    stops the load before it writes, and a (user, movie) pair rated twice is an error naming
    both lines. The rows are kept as NumPy columns meanwhile (about 32 bytes a rating: 0.8 GB
    for ML-25M), never as one Python object each. ``progress`` is told the bytes read.
    """
    keys, ratings, timestamps = _rating_columns(path, movies, report, progress)
    for start in range(0, len(keys), chunk_rows):
        part = keys[start : start + chunk_rows]
        yield list(
            zip(
                (part >> 32).tolist(),
                (part & 0xFFFFFFFF).tolist(),
                ratings[start : start + chunk_rows].tolist(),
                timestamps[start : start + chunk_rows].tolist(),
                strict=True,
            )
        )


def _rating_columns(
    path: Path,
    movies: dict[int, Movie],
    report: FileReport,
    progress: Callable[[int], object] | None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Every rating as columns sorted by key (``user << 32 | movie``): keys, ratings, times.

    Blocks of the file are parsed by pandas' C reader and checked by NumPy all at once. A block
    that fails, or that the fast check cannot vouch for (quotes, blank lines, a line end that
    is not ``\n``, a value pandas reads otherwise than Python would), is read again by the
    row-by-row reader from its first row to the end of the file: that reader is the reference,
    so it names the file, line and problem of the first bad row, or finds none and goes on.
    """
    if not path.is_file():
        raise EtlError("file not found", path=path)
    known = np.zeros(max(movies, default=0) + 1, dtype=bool)
    known[list(movies)] = True
    nothing = np.empty(0, np.int64)
    parts = [_RatingPart(nothing, np.empty(0, np.float64), nothing, nothing)]
    with path.open("rb") as handle:
        if _header_line(handle) == ",".join(RATINGS_HEADER):
            for offset, line, block in _blocks(handle, BLOCK_BYTES):
                part = _fast_part(block, line, known)
                if part is None:
                    parts.append(_slow_part(path, movies, report, resume=(offset, line)))
                    break
                parts.append(part)
                report.read += len(part.keys)
                if progress is not None:
                    progress(len(block))
        else:
            parts.append(_slow_part(path, movies, report, resume=None))
    keys = np.concatenate([part.keys for part in parts])
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    _refuse_duplicate_keys(keys, np.concatenate([part.lines for part in parts])[order], path)
    ratings = np.concatenate([part.ratings for part in parts])[order]
    timestamps = np.concatenate([part.timestamps for part in parts])[order]
    return keys, ratings, timestamps


@dataclass(frozen=True)
class _RatingPart:
    """Checked ratings of part of the file, in file order, with the line of each."""

    keys: npt.NDArray[np.int64]
    ratings: npt.NDArray[np.float64]
    timestamps: npt.NDArray[np.int64]
    lines: npt.NDArray[np.int64]


def _header_line(handle: BinaryIO) -> str:
    """The first line without its line end (and byte order mark); '' when it is not UTF-8."""
    try:
        return handle.readline().decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError:
        return ""


def _blocks(handle: BinaryIO, size: int) -> Iterator[tuple[int, int, bytes]]:
    """``(byte offset, line, bytes)`` of blocks of whole lines from the handle's position on;
    a last line without its line end gets one."""
    offset, line, rest = handle.tell(), 2, b""
    while data := handle.read(size):
        data = rest + data
        cut = data.rfind(b"\n") + 1
        block, rest = data[:cut], data[cut:]
        if block:
            yield offset, line, block
            offset, line = offset + len(block), line + block.count(b"\n")
    if rest:
        yield offset, line, rest + b"\n"


def _fast_part(block: bytes, line: int, known: npt.NDArray[np.bool_]) -> _RatingPart | None:
    """The block's ratings when every row is plainly good; ``None`` when the row-by-row reader
    must decide. Plainly good: MovieLens' own spelling, ``<digits>,<digits>,<d.d>,<digits>``
    and a ``\n`` or ``\r\n`` line end, checked byte by byte at the places the parsed values
    put them (pandas alone also takes ``1.0`` or ``1e0`` for an integer, which Python's ``int``
    and so the reference refuse), and every value in range."""
    try:
        frame = pd.read_csv(
            io.BytesIO(block),
            header=None,
            names=list(RATINGS_HEADER),
            dtype={
                "userId": np.int64,
                "movieId": np.int64,
                "rating": np.float64,
                "timestamp": np.int64,
            },
            index_col=False,
            skip_blank_lines=False,
            engine="c",
        )
    except (ValueError, OverflowError):
        return None
    users = frame["userId"].to_numpy()
    movie_ids = frame["movieId"].to_numpy()
    ratings = frame["rating"].to_numpy()
    timestamps = frame["timestamp"].to_numpy()
    in_range = (movie_ids >= 1) & (movie_ids < len(known))
    good = (
        _spelled_plainly(block, users, movie_ids, timestamps)
        and bool(((users >= 1) & (users <= MAX_ID)).all())
        and bool(in_range.all())
        and bool(known[np.where(in_range, movie_ids, 0)].all())
        and bool(_on_scale(ratings).all())
        and bool((timestamps >= 0).all())
    )
    if not good:
        return None
    return _RatingPart(
        users << 32 | movie_ids,
        ratings,
        timestamps,
        np.arange(line, line + len(users), dtype=np.int64),
    )


_POWERS_OF_TEN = 10 ** np.arange(1, 19, dtype=np.int64)
_COMMA, _DOT, _CR, _NEWLINE = b",.\r\n"


def _spelled_plainly(
    block: bytes,
    users: npt.NDArray[np.int64],
    movie_ids: npt.NDArray[np.int64],
    timestamps: npt.NDArray[np.int64],
) -> bool:
    """Whether each row of ``block`` is exactly ``user,movie,d.d,timestamp`` plus its line end,
    the integers written as their plain digits (one row per ``\n``, as pandas read them)."""
    data = np.frombuffer(block, np.uint8)
    ends = np.flatnonzero(data == _NEWLINE)
    if len(ends) != len(users):
        return False
    starts = np.concatenate(([0], ends[:-1] + 1))
    first_comma = starts + _digits(users)
    second_comma = first_comma + 1 + _digits(movie_ids)
    third_comma = second_comma + 4
    after = third_comma + 1 + _digits(timestamps)
    if not bool((after <= ends).all()):
        return False

    def at(places: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
        return data[places]

    digit = (at(second_comma + 1) - ord("0") < 10) & (at(second_comma + 3) - ord("0") < 10)
    line_end = (after == ends) | ((after + 1 == ends) & (at(after) == _CR))
    return bool(
        (
            (at(first_comma) == _COMMA)
            & (at(second_comma) == _COMMA)
            & (at(second_comma + 2) == _DOT)
            & (at(third_comma) == _COMMA)
            & digit
            & line_end
        ).all()
    )


def _digits(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """How many digits each (non-negative) value has when written plainly."""
    counts: npt.NDArray[np.int64] = 1 + np.searchsorted(_POWERS_OF_TEN, values, side="right")
    return counts


def _on_scale(ratings: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """``RATING_SCALE.allows`` over an array (NaN and infinities fail the range test)."""
    steps = ratings / RATING_SCALE.step
    in_range = (ratings >= RATING_SCALE.lowest) & (ratings <= RATING_SCALE.highest)
    allowed: npt.NDArray[np.bool_] = in_range & (steps == np.floor(steps))
    return allowed


def _slow_part(
    path: Path,
    movies: dict[int, Movie],
    report: FileReport,
    *,
    resume: tuple[int, int] | None,
) -> _RatingPart:
    """The rest of the file read row by row, each row checked (and refused) on its own."""
    keys, lines, timestamps = array("q"), array("q"), array("q")
    ratings = array("d")
    for line, (raw_user, raw_movie, raw_rating, raw_time) in read_rows(
        path, RATINGS_HEADER, resume=resume
    ):
        report.read += 1
        user_id = parse_int(raw_user, "userId", path, line, minimum=1, maximum=MAX_ID)
        movie_id = known_movie(raw_movie, movies, path, line)
        ratings.append(_rating(raw_rating, path, line))
        timestamps.append(parse_int(raw_time, "timestamp", path, line))
        keys.append(user_id << 32 | movie_id)
        lines.append(line)
    return _RatingPart(
        np.frombuffer(keys, np.int64),
        np.frombuffer(ratings, np.float64),
        np.frombuffer(timestamps, np.int64),
        np.frombuffer(lines, np.int64),
    )


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


def _refuse_duplicate_keys(
    keys: npt.NDArray[np.int64], lines: npt.NDArray[np.int64], path: Path
) -> None:
    """``keys`` sorted (stably, so equal keys keep file order) with the line of each."""
    repeated = np.flatnonzero(keys[1:] == keys[:-1])
    if repeated.size == 0:
        return
    # Report the earliest line that repeats a key, with the line it repeats.
    index = repeated[np.argmin(lines[repeated + 1])]
    first, again = int(lines[index]), int(lines[index + 1])
    key = int(keys[index])
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
        user_id = parse_int(raw_user, "userId", path, line, minimum=1, maximum=MAX_ID)
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
