"""Ratings frame to sparse matrix, with the id maps every model and artifact shares.

Models work on dense indices 0..n-1; the outside world speaks MovieLens ids. Keeping both maps
sorted lets a batch of ids be translated with one ``searchsorted`` instead of a dict lookup per
id, which is what makes serving vectorised.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import sparse

RATING_COLUMNS = ("user_id", "movie_id", "rating", "timestamp")


@dataclass(frozen=True)
class Interactions:
    """A users x movies rating matrix (CSR, float32) and its sorted id maps."""

    user_ids: np.ndarray
    movie_ids: np.ndarray
    matrix: sparse.csr_matrix

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, movie_ids: np.ndarray | None = None) -> Interactions:
        """Build from a ratings frame; ``movie_ids`` fixes the column index (others dropped)."""
        check_frame(frame)
        users = np.unique(frame["user_id"].to_numpy(np.int64))
        movies = (
            np.unique(frame["movie_id"].to_numpy(np.int64))
            if movie_ids is None
            else np.asarray(movie_ids, dtype=np.int64)
        )
        rows = np.searchsorted(users, frame["user_id"].to_numpy(np.int64))
        cols, known = index_of(movies, frame["movie_id"].to_numpy(np.int64))
        values = frame["rating"].to_numpy(np.float32)[known]
        matrix = sparse.csr_matrix(
            (values, (rows[known], cols[known])), shape=(len(users), len(movies)), dtype=np.float32
        )
        matrix.sum_duplicates()
        return cls(user_ids=users, movie_ids=movies, matrix=matrix)

    def user_row(self, user_index: int) -> tuple[np.ndarray, np.ndarray]:
        """Column indices and ratings of one user."""
        start, end = self.matrix.indptr[user_index], self.matrix.indptr[user_index + 1]
        return self.matrix.indices[start:end], self.matrix.data[start:end]


@dataclass(frozen=True)
class TrainingData:
    """What every model fits on: the ratings over one movie index, as a frame and a matrix.

    ``frame`` is the ratings in a canonical order (user, then movie), so that random carves and
    surprise's shuffle depend on the ratings and the seed only, never on the order the store
    returned them in. Both views are built on first use and shared by every model fitted on the
    data; a model that needs neither order nor frame (PureSVD, popularity) never pays the sort.
    """

    ratings: pd.DataFrame
    movie_ids: np.ndarray

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, movie_ids: np.ndarray | None = None) -> TrainingData:
        """``movie_ids`` fixes the (sorted) movie index; by default the rated movies."""
        check_frame(frame)
        if movie_ids is None:
            movie_ids = np.unique(frame["movie_id"].to_numpy(np.int64))
        return cls(frame, np.asarray(movie_ids, dtype=np.int64))

    @cached_property
    def frame(self) -> pd.DataFrame:
        return self.ratings.sort_values(["user_id", "movie_id"], kind="stable", ignore_index=True)

    @cached_property
    def interactions(self) -> Interactions:
        return Interactions.from_frame(self.ratings, movie_ids=self.movie_ids)

    @property
    def matrix(self) -> sparse.csr_matrix:
        return self.interactions.matrix

    @property
    def user_ids(self) -> np.ndarray:
        return self.interactions.user_ids

    def subset(self, frame: pd.DataFrame) -> TrainingData:
        """Some of these ratings (a validation carve's rest) over the same movie index."""
        return TrainingData.from_frame(frame, self.movie_ids)


def index_of(sorted_ids: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``ids`` in ``sorted_ids`` and a mask of which ids are present at all."""
    ids = np.asarray(ids, dtype=np.int64)
    if len(sorted_ids) == 0:
        return np.zeros(len(ids), dtype=np.int64), np.zeros(len(ids), dtype=bool)
    positions = np.searchsorted(sorted_ids, ids)
    clipped = np.minimum(positions, len(sorted_ids) - 1)
    return clipped, sorted_ids[clipped] == ids


# An id table is built when it costs at most this many entries: 8 MB of int64, or 32 per id.
ID_TABLE_MIN = 1 << 20
ID_TABLE_PER_ID = 32


class IdIndex:
    """:func:`index_of` for one fixed sorted id array, by a table lookup where the ids allow.

    A binary search of a heavy user's 2,698 movie ids in ml-latest-small's 9,724 costs about
    50 us, a table indexed by id about 5, on every request that reads the user's ratings. The
    table holds one position per id up to the largest (1.5 MB for ml-latest-small, whose ids
    reach 193,609), so it is built only when that is at most ``ID_TABLE_MIN`` entries or
    ``ID_TABLE_PER_ID`` per id; sparser or negative ids use the binary search. Either way the
    positions of absent ids are some valid position, and ``present`` tells which ids are there.
    """

    def __init__(self, sorted_ids: np.ndarray) -> None:
        self.ids = np.asarray(sorted_ids, dtype=np.int64)
        self._table: np.ndarray | None = None
        if len(self.ids) and self.ids[0] >= 0:
            size = int(self.ids[-1]) + 1
            if size <= max(ID_TABLE_MIN, ID_TABLE_PER_ID * len(self.ids)):
                self._table = np.zeros(size, dtype=np.int64)
                self._table[self.ids] = np.arange(len(self.ids))

    def __call__(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions of ``ids`` and a mask of which are present, as :func:`index_of`."""
        ids = np.asarray(ids, dtype=np.int64)
        if self._table is None:
            return index_of(self.ids, ids)
        # "clip" sends negative ids to entry 0 and ids past the table to its last entry: a
        # valid position whose id differs, so the comparison marks them absent.
        positions = np.take(self._table, ids, mode="clip")
        present: np.ndarray = self.ids[positions] == ids
        return positions, present


def check_frame(frame: pd.DataFrame) -> None:
    """Fail early and clearly when a caller hands over a frame of the wrong shape."""
    missing = [column for column in RATING_COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(f"ratings frame lacks columns {missing}; needs {list(RATING_COLUMNS)}")


def random_holdout(n: int, fraction: float, seed: int | np.random.SeedSequence) -> np.ndarray:
    """Row positions of a seeded random ``fraction`` of ``n`` rows (the held-out part); the seed
    may be a spawned stream, so that two splits of one seed are independent."""
    order = np.random.default_rng(seed).permutation(n)
    return order[int((1.0 - fraction) * n) :]


def split_rows(frame: pd.DataFrame, rows: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The frame without ``rows`` (positions) and those rows."""
    held = np.zeros(len(frame), dtype=bool)
    held[rows] = True
    return frame[~held], frame[held]


class UserTargets(NamedTuple):
    """One user of a target frame: the target row positions and movie ids and times, and the
    movie ids, ratings and times of the user's history rows (empty for a user without any)."""

    rows: np.ndarray
    movies: np.ndarray
    ratings: np.ndarray
    times: np.ndarray
    wanted: np.ndarray
    wanted_times: np.ndarray


def per_user_timed(history: pd.DataFrame, targets: pd.DataFrame) -> Iterator[UserTargets]:
    """For each user of ``targets``, what the server would know and be asked (times in Unix
    seconds, from the ``timestamp`` columns): each user folded in from the ratings they had,
    one call per user, as held-out ratings are predicted."""
    own = history.groupby("user_id").indices
    movies = history["movie_id"].to_numpy(np.int64)
    ratings = history["rating"].to_numpy(np.float32)
    times = history["timestamp"].to_numpy(np.int64)
    wanted = targets["movie_id"].to_numpy(np.int64)
    wanted_times = targets["timestamp"].to_numpy(np.int64)
    empty = np.empty(0, dtype=np.int64)
    for user, rows in targets.groupby("user_id").indices.items():
        seen = own.get(user, empty)
        # Positions arrive as an ndarray; pandas-stubs also allows an Index or a list here.
        positions = np.asarray(rows)
        yield UserTargets(
            positions,
            movies[seen],
            ratings[seen],
            times[seen],
            wanted[positions],
            wanted_times[positions],
        )


def per_user(
    history: pd.DataFrame, targets: pd.DataFrame
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """:func:`per_user_timed` without the times: target row positions, the history's movie
    ids and ratings, the target movie ids (for models that ignore time)."""
    for user in per_user_timed(history, targets):
        yield user.rows, user.movies, user.ratings, user.wanted
