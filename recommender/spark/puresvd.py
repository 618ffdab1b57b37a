"""The ranker's truncated SVD on Spark: the NumPy engine's randomized SVD, its passes on Spark.

:func:`recommender.models.puresvd.randomized_svd` needs one thing from the data per pass:
``(X^T Y, Y^T Y)`` for ``Y = X right``, where X is the shifted, column-weighted rating matrix
and ``right`` a ``movies x width`` basis. Each partition holds whole user rows (the ratings are
hash-partitioned by user), so it builds its rows of X as a sparse matrix, multiplies by the
broadcast ``right`` and returns its share of both sums; Spark adds the shares up in a tree.
Everything else (the test matrix drawn from the seed, the QR of the movie side, the small
SVD) is the NumPy engine's own code on the driver, so both engines give the same factors up to
round-off. A pass reads the cached ratings once; there are ``POWER_ITERATIONS + 1`` of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse

from recommender.models.puresvd import (
    PureSVD,
    PureSVDParams,
    Spectrum,
    column_weights,
    randomized_svd,
    svd_factors,
)
from recommender.spark.frames import Indexed, partition_frame

if TYPE_CHECKING:
    from pyspark import Broadcast
    from pyspark.sql import Row

Shares = tuple[np.ndarray, np.ndarray]


def fit_puresvd(indexed: Indexed, params: PureSVDParams, *, seed: int) -> PureSVD:
    """The served ranker, fitted on Spark: :meth:`PureSVD.fit` with its passes distributed."""
    n_movies = len(indexed.movie_ids)
    shape = (indexed.n_users, n_movies)
    factors = svd_factors(params, shape)
    weights = column_weights(indexed.counts, params.beta)
    context = indexed.frame.sparkSession.sparkContext
    scale = context.broadcast(weights)

    def gram_pass(right: np.ndarray) -> Shares:
        basis = context.broadcast(right)
        try:
            shares = indexed.frame.mapInPandas(
                _partition_shares(scale, basis, params.shift, n_movies),
                schema="cross binary, gram binary",
            )
            width = right.shape[1]
            cross, gram = shares.rdd.map(_decoder(n_movies, width)).treeReduce(_add)
        finally:
            basis.destroy()
        return cross, gram

    try:
        singular, vectors = randomized_svd(gram_pass, shape, factors, seed=seed)
    finally:
        scale.destroy()
    return Spectrum(weights, singular, vectors).shrunk(params, seed=seed)


def _partition_shares(
    scale: Broadcast[np.ndarray], basis: Broadcast[np.ndarray], shift: float, n_movies: int
) -> Callable[[Iterable[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """The function each partition runs: its rows of X, and their share of both sums."""

    def shares(batches: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        frame = partition_frame(batches)
        if frame is None:  # a partition with no users has no share
            return
        rows, _ = pd.factorize(frame["user_id"])
        movies = frame["movie"].to_numpy(np.int64)
        values = (frame["rating"].to_numpy(np.float64) - shift) * scale.value[movies]
        block = sparse.csr_matrix((values, (rows, movies)), shape=(rows.max() + 1, n_movies))
        product = np.asarray(block @ basis.value)
        cross = np.asarray(block.T @ product)
        gram = product.T @ product
        yield pd.DataFrame({"cross": [cross.tobytes()], "gram": [gram.tobytes()]})

    return shares


def _decoder(n_movies: int, width: int) -> Callable[[Row], Shares]:
    def decode(row: Row) -> Shares:
        cross = np.frombuffer(row["cross"], dtype=np.float64)
        gram = np.frombuffer(row["gram"], dtype=np.float64)
        return cross.reshape(n_movies, width), gram.reshape(width, width)

    return decode


def _add(left: Shares, right: Shares) -> Shares:
    return left[0] + right[0], left[1] + right[1]
