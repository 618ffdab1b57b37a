"""Merging the sources and writing the store in one transaction.

Movies, links, metadata and ratings are read and validated before the transaction opens; tags
are validated chunk by chunk inside it, so a bad row anywhere rolls the whole load back and the
store stays exactly as it was. Every write is an idempotent upsert (``data.catalog``'s merge
rules; ratings and tags through the bulk path, ``data.bulk``), so a rerun over the same files
leaves the same store.

Demo accounts: MovieLens user ``n`` becomes account ``user<n>`` with id ``n`` and the original
app's public password ``pass``. One argon2id hash is computed per run and shared by the new demo
accounts: they share a public password by design, and hashing 610 times would cost ~15 s while
adding nothing. Accounts made through the API each get their own salted hash.
"""

from __future__ import annotations

import logging
import sys
import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from functools import cache
from itertools import chain
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine
from tqdm import tqdm

from data import catalog, ratings
from data.bulk import BulkMerge, merge_all
from data.passwords import hash_password
from etl.combined import read_combined
from etl.errors import EtlError
from etl.metadata import FROM_CACHE, Metadata, choose_metadata
from etl.movielens import (
    FileReport,
    Link,
    Movie,
    read_links,
    read_movies,
    read_ratings,
    read_tags,
)

log = logging.getLogger(__name__)

DEMO_PASSWORD = "pass"
COMBINED_FILE = "combined_movies.csv"
RATING_COLUMNS = ("user_id", "movie_id", "rating", "rated_at")
TAG_COLUMNS = ("user_id", "movie_id", "tag", "tagged_at")
MOVIE_GENRE_COLUMNS = ("movie_id", "genre_id", "position")
DEMO_USER_COLUMNS = ("id", "username", "password_hash", "is_demo")


@dataclass
class LoadSummary:
    """What a load read, wrote and fixed; printed at the end of ``movierec etl``."""

    files: list[FileReport] = field(default_factory=list)
    metadata_sources: Counter[str] = field(default_factory=Counter)
    movies_without_tmdb_id: int = 0
    users_created: int = 0
    users_existing: int = 0
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"{'file':<22}{'read':>10}{'loaded':>10}"]
        for report in self.files:
            out.append(f"{report.name:<22}{report.read:>10,}{report.loaded:>10,}")
        for report in self.files:
            out.extend(f"  {report.name}: {fix}: {n:,}" for fix, n in sorted(report.fixes.items()))
        out.append(f"movies without a TMDB id: {self.movies_without_tmdb_id:,}")
        sources = sorted(self.metadata_sources.items())
        out.extend(f"metadata from {source}: {n:,}" for source, n in sources)
        out.append(
            f"demo users: {self.users_created:,} created, {self.users_existing:,} already present"
        )
        out.extend(self.notes)
        return out


def load_movielens(
    engine: Engine, directory: Path, *, cached: Callable[[int], Metadata | None]
) -> LoadSummary:
    """Load the MovieLens folder into the store; ``cached`` gives TMDB metadata by TMDB id."""
    summary = LoadSummary()
    movies, movies_report = read_movies(directory / "movies.csv")
    links, links_report = read_links(directory / "links.csv", movies)
    summary.files += [movies_report, links_report]
    combined: dict[int, Metadata] = {}
    if (directory / COMBINED_FILE).is_file():
        combined, combined_report = read_combined(directory / COMBINED_FILE, movies)
        summary.files.append(combined_report)
    tmdb_ids = {movie_id: _link(links, movie_id).tmdb_id for movie_id in movies}
    metadata, summary.metadata_sources = choose_metadata(tmdb_ids, cached, combined)
    summary.movies_without_tmdb_id = sum(tmdb_id is None for tmdb_id in tmdb_ids.values())
    if missing := len(movies) - len(links):
        summary.notes.append(f"movies without a links.csv row (no IMDb/TMDB id): {missing:,}")
    if not combined and not summary.metadata_sources.get(FROM_CACHE):
        summary.notes.append(
            f"no {COMBINED_FILE} and no TMDB cache: loaded MovieLens fields only "
            "(run `movierec etl enrich` with TMDB_API_TOKEN for posters and overviews)"
        )

    ratings_report, tags_report = FileReport("ratings.csv"), FileReport("tags.csv")
    summary.files += [ratings_report, tags_report]
    ratings_path = directory / "ratings.csv"
    # Ratings are read and checked whole before the transaction opens (a bad row costs no
    # writes); tags are checked chunk by chunk inside it.
    with _progress(f"checking {ratings_path.name}", total=_size(ratings_path), unit="B") as read:
        rating_chunks = read_ratings(ratings_path, movies, ratings_report, progress=read)
        first = next(rating_chunks, [])
    with engine.begin() as conn:
        with _progress("writing movies.csv", total=len(movies)) as advance:
            _write_movies(conn, movies, links, metadata)
            advance(len(movies))
        accounts = _DemoAccounts(conn, summary)
        heavy = _HeavyRaters(ratings.VECTOR_MIN_RATINGS)
        _write_chunks(
            conn,
            heavy.watch(chain([first], rating_chunks)),
            catalog.RATINGS,
            RATING_COLUMNS,
            ratings_report,
            accounts,
            total=ratings_report.read,
        )
        # The heavy users' packed ratings (``data.ratings``), valid again before the commit:
        # the merge marked the ones it touched stale, a first load left none.
        with _progress("packing heavy users' ratings", unit="users") as advance:
            advance(ratings.pack_users(conn, heavy.found))
        _write_chunks(
            conn,
            read_tags(directory / "tags.csv", movies, tags_report),
            catalog.TAGS,
            TAG_COLUMNS,
            tags_report,
            accounts,
        )
        catalog.sync_user_id_sequence(conn)
    return summary


def _size(path: Path) -> int | None:
    return path.stat().st_size if path.is_file() else None


def _write_chunks(
    conn: Connection,
    chunks: Iterable[Sequence[tuple[Any, ...]]],
    merge: catalog.Merge,
    columns: tuple[str, ...],
    report: FileReport,
    accounts: _DemoAccounts,
    *,
    total: int | None = None,
) -> None:
    """Merge validated chunks of user rows (user id first) in bulk, creating their users first,
    then build the indexes the bulk path set aside."""
    writer = BulkMerge(conn, merge, columns)
    with _progress(f"writing {report.name}", total=total) as advance:
        for chunk in chunks:
            accounts.ensure(row[0] for row in chunk)
            writer.write(chunk)
            report.loaded += len(chunk)
            advance(len(chunk))
    with _progress(f"indexing {merge.table.name}", unit=None):
        accounts.flush()
        writer.finish()


class _HeavyRaters:
    """Counts, as the rating chunks go by, the ratings of each user with at least ``least`` of
    them in the input (``found``), without a look at every row. Counting every user's ratings
    in SQL after the load made the packing step cost 4.9 s of CPU at ML-25M shape on SQLite,
    2.7 s without it (``bench/etl_scale.py``'s log line for the step).

    The chunks come sorted by user (``read_ratings``), so each user's ratings are one run. A
    run of ``least`` rows inside one chunk covers one of the rows ``least`` apart, and a run
    that crosses chunks starts or ends each piece at a chunk's edge: those rows' users are the
    only candidates, and a binary search finds where each one's rows begin and end in the chunk.
    Input out of that order would only miss users or count them wrong, which packs a user more
    or fewer: a packed row is a cache, never read when it misses a write.
    """

    def __init__(self, least: int) -> None:
        self._least = least
        self._counts: Counter[int] = Counter()

    def watch(
        self, chunks: Iterable[Sequence[tuple[Any, ...]]]
    ) -> Iterator[Sequence[tuple[Any, ...]]]:
        for chunk in chunks:
            if chunk:
                rows = [*range(0, len(chunk), self._least), len(chunk) - 1]  # 0: the first
                for user_id in {chunk[row][0] for row in rows}:
                    start = bisect_left(chunk, (user_id,))
                    self._counts[user_id] += bisect_left(chunk, (user_id + 1,), lo=start) - start
            yield chunk

    @property
    def found(self) -> list[int]:
        return [user_id for user_id, count in self._counts.items() if count >= self._least]


def _link(links: dict[int, Link], movie_id: int) -> Link:
    return links.get(movie_id, Link(None, None))


def _write_movies(
    conn: Connection,
    movies: dict[int, Movie],
    links: dict[int, Link],
    metadata: dict[int, Metadata],
) -> None:
    rows = [
        movie_columns(movie, _link(links, movie.id), metadata[movie.id])
        for movie in movies.values()
    ]
    if rows:
        merge_all(conn, catalog.MOVIES, tuple(rows[0]), [tuple(row.values()) for row in rows])
    ids = catalog.genre_ids(conn, (name for movie in movies.values() for name in movie.genres))
    catalog.delete_movie_genres(conn, list(movies))
    merge_all(
        conn,
        catalog.MOVIE_GENRES,
        MOVIE_GENRE_COLUMNS,
        [
            (movie.id, ids[name], position)
            for movie in movies.values()
            for position, name in enumerate(movie.genres)
        ],
    )


def movie_columns(movie: Movie, link: Link, extra: Metadata) -> dict[str, Any]:
    """A ``movies`` row from its three sources, by field name: a source's new field is a new
    column written, with no list of columns here (genres go to ``movie_genres``)."""
    row = {
        field.name: getattr(source, field.name)
        for source in (movie, link, extra)
        for field in fields(source)
    }
    del row["genres"]
    return row


class _DemoAccounts:
    """Creates the demo account of each MovieLens user the first time a chunk mentions it.

    An id or username already taken by a real (non-demo) account is an error: the MovieLens
    user's ratings would otherwise land in someone else's account.
    """

    def __init__(self, conn: Connection, summary: LoadSummary) -> None:
        self._conn = conn
        self._summary = summary
        self._accounts = catalog.accounts_by_id(conn)
        self._usernames = {name.lower(): uid for uid, (name, _) in self._accounts.items()}
        self._seen: set[int] = set()
        # One bulk merge for every chunk until ``flush``: into an empty table (a first load)
        # each chunk's accounts are copied straight in, where a merge per chunk would stage
        # all but the first (125 chunks at 25 M ratings: 6 s on PostgreSQL against one COPY).
        self._writer: BulkMerge | None = None

    def ensure(self, user_ids: Iterable[int]) -> None:
        new_rows = []
        for user_id in set(user_ids) - self._seen:
            self._seen.add(user_id)
            username = f"user{user_id}"
            if user_id in self._accounts:
                name, is_demo = self._accounts[user_id]
                if not is_demo:
                    raise EtlError(
                        f"MovieLens user {user_id} cannot be loaded: id {user_id} belongs to "
                        f"the non-demo account {name!r}"
                    )
                self._summary.users_existing += 1
                continue
            if username in self._usernames:
                raise EtlError(
                    f"MovieLens user {user_id} cannot be loaded: username {username!r} is taken "
                    f"by account id {self._usernames[username]}"
                )
            new_rows.append((user_id, username, _demo_hash(), True))
        if new_rows:
            if self._writer is None:
                self._writer = BulkMerge(self._conn, catalog.DEMO_USERS, DEMO_USER_COLUMNS)
            self._writer.write(new_rows)
        self._summary.users_created += len(new_rows)

    def flush(self) -> None:
        """Merge the accounts written so far: before the rows that name them are merged (on
        PostgreSQL both may wait in staging tables until then)."""
        if self._writer is not None:
            self._writer.finish()
            self._writer = None


@cache
def _demo_hash() -> str:
    """One hash of the public demo password per process (see the module docstring)."""
    return hash_password(DEMO_PASSWORD)


@contextmanager
def _progress(
    label: str, *, total: int | None = None, unit: str | None = "rows"
) -> Iterator[Callable[[int], object]]:
    """A bar for one step of the load on a terminal. When stderr is a file, a pipe or a
    service's journal, no bar (its redraws would fill the log): one INFO line when the step
    ends, so a long load still says where it is."""
    terminal = sys.stderr.isatty()
    done = 0
    started, cpu = time.perf_counter(), time.process_time()
    with tqdm(
        desc=label,
        total=total,
        unit=f" {unit}" if unit and unit != "B" else (unit or ""),
        unit_scale=unit == "B",
        bar_format=None if unit else "{desc} ({elapsed})",
        disable=not terminal,
        leave=False,
    ) as bar:

        def advance(count: int) -> None:
            nonlocal done
            done += count
            bar.update(count)

        yield advance
    if not terminal:
        amount = "" if unit is None else f"{done:,} {unit} in "
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        log.info("%s: %s%.1f s (CPU %.1f s)", label, amount, wall, cpu)


def apply_cached_metadata(
    engine: Engine, tmdb_ids: dict[int, int], cached: Callable[[int], Metadata | None]
) -> int:
    """Copy cached TMDB metadata onto the stored movies, as a rerun of the ETL would.

    Returns the number of movies updated; movies without a good cached answer keep theirs.
    """
    rows = []
    for movie_id, tmdb_id in tmdb_ids.items():
        fresh = cached(tmdb_id)
        if fresh is not None:
            rows.append({"id": movie_id, **asdict(fresh)})
    with engine.begin() as conn:
        catalog.update_movie_metadata(conn, rows)
    return len(rows)
