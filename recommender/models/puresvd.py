"""PureSVD ranker (Cremonesi et al. 2010): a truncated SVD of the users x movies rating matrix.

A user's scores are ``r_u W V V^T``: the user's (shifted, popularity-weighted) rating row
projected onto the top-k item factors and back. Because the user factor is computed from the
rating row itself, folding in a user's *current* ratings at serving time gives exactly the factor
training would give — serving is stateless and updates are instant by construction.

Variants measured on the validation split: ``shift`` subtracts a constant from every stored
rating (so a 1-star rating counts against similar movies), and ``beta`` scales each movie's
column by ``count^-beta`` before the SVD (beta > 0 favours rare movies, beta < 0 popular ones).
The defaults won the validation search of ``movierec evaluate`` (k=20, beta=-0.1, shift=2.5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import svds


@dataclass(frozen=True)
class PureSVDParams:
    factors: int = 20
    beta: float = -0.1
    shift: float = 2.5


@dataclass(frozen=True)
class PureSVD:
    """Item factors ``V`` (movies x k) and the per-movie column weights used before the SVD."""

    params: PureSVDParams
    item_factors: np.ndarray
    column_weights: np.ndarray

    @classmethod
    def fit(cls, matrix: sparse.csr_matrix, params: PureSVDParams, *, seed: int) -> PureSVD:
        n_users, n_items = matrix.shape
        factors = min(params.factors, min(n_users, n_items) - 1)
        if factors < 1:
            raise ValueError(f"PureSVD needs at least a 2 x 2 rating matrix, got {matrix.shape}")
        counts = np.diff(matrix.tocsc().indptr).astype(np.float64)
        weights = np.where(counts > 0, np.maximum(counts, 1.0) ** -params.beta, 0.0)
        weighted = matrix.astype(np.float64, copy=True)
        weighted.data -= params.shift
        weighted = weighted @ sparse.diags(weights)
        v0 = np.random.default_rng(seed).standard_normal(min(n_users, n_items))
        _, _, vt = svds(weighted, k=factors, v0=v0)
        return cls(
            params=params,
            item_factors=np.ascontiguousarray(vt.T, dtype=np.float32),
            column_weights=weights.astype(np.float32),
        )

    def user_factors(self, items: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        """Fold a user in from their ratings (column indices and values); k floats."""
        weighted = (ratings.astype(np.float32) - self.params.shift) * self.column_weights[items]
        return weighted @ self.item_factors[items]

    def scores(self, items: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        """Ranking scores for every movie; higher is better, rated movies not yet excluded."""
        return self.item_factors @ self.user_factors(items, ratings)
