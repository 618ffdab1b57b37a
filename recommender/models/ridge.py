"""Ridge fits of ``[bias, factors]`` for every row of a rating matrix at once, the other side
fixed: ALS's half-sweeps (:mod:`recommender.models.als`) and the fold-in of every training user
(:meth:`recommender.models.rating.BiasedFactors.predict_stored`) are this one solve.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from scipy import sparse
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from recommender.models.threads import product

# Normal equations are stacked and solved this many rows (users or movies) at a time.
SOLVE_BLOCK = 4096


def solve_rows(
    ratings: sparse.csr_matrix,
    other: np.ndarray,
    penalty: np.ndarray,
    bar: tqdm[Any] | None = None,
) -> np.ndarray:
    """For each row of ``ratings`` (centred on the global mean), the ridge fit of ``[bias,
    factors]`` against the other side's ``[bias, factors]`` held fixed; a row without ratings
    gets zeros.

    ``other[:, 0]`` is the other side's bias: it is subtracted from the targets, and its column
    is replaced by ones so that the same design fits this side's bias. Blocks of rows go to one
    thread per core, BLAS held to one thread: the products are small, and OpenBLAS threading
    them made the fit five times slower (measured on ml-latest-small).
    """
    design = other.copy()
    design[:, 0] = 1.0
    offsets = ratings.copy()
    offsets.data -= other[ratings.indices, 0]
    right = product(offsets, design)
    solved = np.empty((ratings.shape[0], design.shape[1]))
    indptr, indices = ratings.indptr, ratings.indices
    ridge = np.diag(penalty)

    def solve_block(start: int) -> int:
        stop: int = min(start + SOLVE_BLOCK, int(ratings.shape[0]))
        grams = np.repeat(ridge[np.newaxis], stop - start, axis=0)
        for row in range(start, stop):
            if indptr[row] < indptr[row + 1]:
                rated = design[indices[indptr[row] : indptr[row + 1]]]
                grams[row - start] += rated.T @ rated
        solved[start:stop] = np.linalg.solve(grams, right[start:stop, :, np.newaxis])[..., 0]
        return stop - start

    with (
        threadpool_limits(1, user_api="blas"),
        ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool,
    ):
        for done in pool.map(solve_block, range(0, ratings.shape[0], SOLVE_BLOCK)):
            if bar is not None:
                bar.update(done)
    return solved
