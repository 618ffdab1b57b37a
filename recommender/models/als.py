"""Rating prediction at scale: biased matrix factorisation fitted by alternating least squares.

Surprise's SVD is stochastic gradient descent in one Python-free but single-threaded loop over
every rating, 40 times, and it keeps a Python object per rating: at ML-25M size it ran for over
an hour at 10.7 GB. ALS instead alternates two exact ridge solves, one per user with the items
fixed and one per movie with the users fixed; each is a small ``(k+1) x (k+1)`` normal equation,
so about ten sweeps converge, the right-hand sides of a whole side are one sparse-dense product,
and memory is the rating matrix twice (CSR and CSC) plus the factors.

The user step is exactly the fold-in of :class:`~recommender.models.rating.BiasedFactors` with
the same penalties (fixed, not scaled by the user's rating count): a user folded in at serving
time from the ratings seen in training gets the factors training would give them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar, Self

import numpy as np
from scipy import sparse

from recommender.artifact import ArtifactError
from recommender.dataset import TrainingData
from recommender.models.contract import Stored, meta_int, meta_params
from recommender.models.rating import BiasedFactors
from recommender.models.ridge import solve_rows
from recommender.progress import progress


@dataclass(frozen=True)
class ALSParams:
    """Factors, sweeps, and the ridge penalties of each side (bias, factors).

    The user penalties are the fold-in penalties of serving. Chosen on ml-latest-small (see the
    README's "Scale" section): 32 factors and 12 sweeps are within 0.002 RMSE of 64 and 20.
    """

    factors: int = 32
    epochs: int = 12
    user_bias_reg: float = 5.0
    user_factor_reg: float = 15.0
    item_bias_reg: float = 5.0
    item_factor_reg: float = 15.0

    def __post_init__(self) -> None:
        penalties = (
            self.user_bias_reg,
            self.user_factor_reg,
            self.item_bias_reg,
            self.item_factor_reg,
        )
        if self.factors < 1 or self.epochs < 1 or min(penalties) <= 0:
            raise ValueError(f"ALS needs factors, epochs and penalties above 0, got {self}")


@dataclass(frozen=True)
class ALSRating(BiasedFactors):
    """A biased MF item side trained by ALS, served by fold-in like surprise's.

    Hyper-parameters: ``params`` and the seed of the initial item factors.
    """

    name: ClassVar[str] = "als-biased"

    params: ALSParams = field(default_factory=ALSParams)
    seed: int = 0
    bias_reg: float = 0.0
    factor_reg: float = 0.0
    global_mean: float = 0.0
    item_bias: np.ndarray = field(default_factory=lambda: np.zeros(0))
    item_factors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    known: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def fit(self, data: TrainingData) -> Self:
        params = self.params
        by_user = sparse.csr_matrix(data.matrix, dtype=np.float64)
        global_mean = float(by_user.data.mean()) if by_user.nnz else 0.0
        by_user.data -= global_mean
        by_item = by_user.T.tocsr()
        n_users, n_items = by_user.shape
        rng = np.random.default_rng(self.seed)
        items = np.zeros((n_items, params.factors + 1))
        items[:, 1:] = rng.normal(0.0, 0.1, (n_items, params.factors))
        user_penalty = _penalty(params.user_bias_reg, params.user_factor_reg, params.factors)
        item_penalty = _penalty(params.item_bias_reg, params.item_factor_reg, params.factors)
        with progress(params.epochs * (n_users + n_items), "ALS", " rows") as bar:
            for _ in range(params.epochs):
                users = solve_rows(by_user, items, user_penalty, bar)
                items = solve_rows(by_item, users, item_penalty, bar)
        return replace(
            self,
            bias_reg=params.user_bias_reg,
            factor_reg=params.user_factor_reg,
            global_mean=global_mean,
            item_bias=items[:, 0].copy(),
            item_factors=np.ascontiguousarray(items[:, 1:]),
            known=np.diff(by_item.indptr) > 0,
        )

    def to_arrays(self, prefix: str) -> Stored:
        stored = self.item_side_arrays(prefix)
        meta = {"params": asdict(self.params), "seed": self.seed, **stored.meta}
        return Stored(stored.arrays, meta)

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], meta: Any, prefix: str) -> Self:
        try:
            params = meta_params(ALSParams, meta)
        except ValueError as exc:
            raise ArtifactError(f"meta 'params': {exc}") from exc
        return cls(
            params=params,
            seed=meta_int(meta, "seed"),
            **cls.item_side_from(arrays, meta, prefix),
        )


def _penalty(bias_reg: float, factor_reg: float, factors: int) -> np.ndarray:
    return np.array([bias_reg, *([factor_reg] * factors)])
