"""Popularity baselines: the cold-start ranking and the yardstick every model must beat.

Two flavours, both measured: the plain rating count, and a Bayesian-averaged mean rating that
shrinks a movie's mean towards the global mean by ``prior`` pseudo-ratings, so a film rated 5.0
by a single user does not top the list.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import sparse

PopularityMethod = Literal["count", "bayes"]


def popularity_scores(
    matrix: sparse.csr_matrix, method: PopularityMethod, *, prior: float = 10.0
) -> np.ndarray:
    """A score per movie (column) of the users x movies rating matrix; higher ranks first."""
    counts = np.diff(matrix.tocsc().indptr).astype(np.float64)
    if method == "count":
        return counts.astype(np.float32)
    if method != "bayes":
        raise ValueError(f"unknown popularity method {method!r}; use 'count' or 'bayes'")
    sums = np.asarray(matrix.sum(axis=0)).ravel()
    global_mean = sums.sum() / max(counts.sum(), 1.0)
    return ((sums + prior * global_mean) / (counts + prior)).astype(np.float32)
