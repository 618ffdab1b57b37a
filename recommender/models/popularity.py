"""Popularity baselines: the cold-start ranking and the yardstick every model must beat.

Two flavours, both measured: the plain rating count, and a Bayesian-averaged mean rating that
shrinks a movie's mean towards the global mean by ``prior`` pseudo-ratings, so a film rated 5.0
by a single user does not top the list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar, Literal

import numpy as np
from scipy import sparse

from recommender.dataset import TrainingData
from recommender.models.contract import Stored, StoredArrays, meta_params

PopularityMethod = Literal["count", "bayes"]


@dataclass(frozen=True)
class PopularityParams:
    method: PopularityMethod = "count"
    prior: float = 10.0


@dataclass(frozen=True)
class Popularity:
    """The same ranking for everyone: a ranker that ignores the user (deterministic, no seed)."""

    name: ClassVar[str] = "popularity"

    params: PopularityParams = field(default_factory=PopularityParams)
    movie_scores: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    @property
    def n_movies(self) -> int:
        return len(self.movie_scores)

    def fit(self, data: TrainingData) -> Popularity:
        scores = popularity_scores(data.matrix, self.params.method, prior=self.params.prior)
        return replace(self, movie_scores=scores)

    def scores(self, items: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        return self.movie_scores

    def to_arrays(self, prefix: str) -> Stored:
        return Stored({f"{prefix}scores": self.movie_scores}, {"params": asdict(self.params)})

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], meta: Any, prefix: str) -> Popularity:
        scores = StoredArrays(arrays, prefix).get("scores", np.float32, ("movies",))
        return cls(params=meta_params(PopularityParams, meta), movie_scores=scores)


def popularity_scores(
    matrix: sparse.csr_matrix, method: PopularityMethod, *, prior: float = 10.0
) -> np.ndarray:
    """A score per movie (column) of the users x movies rating matrix; higher ranks first."""
    counts = np.diff(matrix.tocsc().indptr).astype(np.float64)
    sums = np.asarray(matrix.sum(axis=0)).ravel()
    return scores_from_totals(counts, sums, method, prior=prior)


def scores_from_totals(
    counts: np.ndarray, sums: np.ndarray, method: PopularityMethod, *, prior: float = 10.0
) -> np.ndarray:
    """A score per movie from its rating count and the sum of its ratings (all an engine that
    never holds the rating matrix has to give)."""
    counts = np.asarray(counts, dtype=np.float64)
    if method == "count":
        return counts.astype(np.float32)
    if method != "bayes":
        raise ValueError(f"unknown popularity method {method!r}; use 'count' or 'bayes'")
    global_mean = sums.sum() / max(counts.sum(), 1.0)
    scores: np.ndarray = ((sums + prior * global_mean) / (counts + prior)).astype(np.float32)
    return scores
