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

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import svds

from recommender.dataset import TrainingData
from recommender.models.contract import Stored, StoredArrays, meta_int, meta_params


@dataclass(frozen=True)
class PureSVDParams:
    factors: int = 20
    beta: float = -0.1
    shift: float = 2.5


@dataclass(frozen=True)
class PureSVD:
    """Item factors ``V`` (movies x k) and the per-movie column weights used before the SVD.

    The seed only starts the Lanczos iteration: another seed gives the same factors up to sign
    and round-off, and the scores do not depend on the sign.
    """

    name: ClassVar[str] = "puresvd"

    params: PureSVDParams = field(default_factory=PureSVDParams)
    seed: int = 0
    item_factors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    column_weights: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    @property
    def n_movies(self) -> int:
        return len(self.column_weights)

    def fit(self, data: TrainingData) -> PureSVD:
        matrix, params = data.matrix, self.params
        n_users, n_items = matrix.shape
        factors = min(params.factors, min(n_users, n_items) - 1)
        if factors < 1:
            raise ValueError(f"PureSVD needs at least a 2 x 2 rating matrix, got {matrix.shape}")
        counts = np.diff(matrix.tocsc().indptr).astype(np.float64)
        weights = np.where(counts > 0, np.maximum(counts, 1.0) ** -params.beta, 0.0)
        weighted = matrix.astype(np.float64, copy=True)
        weighted.data -= params.shift
        weighted = weighted @ sparse.diags(weights)
        v0 = np.random.default_rng(self.seed).standard_normal(min(n_users, n_items))
        _, _, vt = svds(weighted, k=factors, v0=v0)
        return replace(
            self,
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

    def item_vectors(self) -> np.ndarray:
        return self.item_factors

    def to_arrays(self, prefix: str) -> Stored:
        arrays = {
            f"{prefix}item_factors": self.item_factors,
            f"{prefix}column_weights": self.column_weights,
        }
        return Stored(arrays, {"params": asdict(self.params), "seed": self.seed})

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], meta: Any, prefix: str) -> PureSVD:
        stored = StoredArrays(arrays, prefix)
        return cls(
            params=meta_params(PureSVDParams, meta),
            seed=meta_int(meta, "seed"),
            item_factors=stored.get("item_factors", np.float32, ("movies", "factors")),
            column_weights=stored.get("column_weights", np.float32, ("movies",)),
        )
