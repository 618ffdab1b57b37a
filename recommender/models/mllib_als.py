"""Rating prediction trained by Spark MLlib's ALS: a biased matrix factorisation's item side.

MLlib's ALS (explicit feedback) has no bias terms, so the biases are fitted first, as Spark
aggregations (global mean, then item, user and item again, each a ridge step with a fixed
penalty), and ALS factorises what they leave. The item side kept is the global mean, the item
biases and ALS's item factors; at serving time a user is folded in from their current ratings
by :class:`~recommender.models.rating.BiasedFactors`'s ridge (bias and factors together, fixed
penalties), the same code that serves every other biased factorisation: the artifact does not
say which engine trained it beyond this class's name and meta.

MLlib regularises each row by ``reg_param`` times its rating count (ALS-WR); the fold-in's
penalties are fixed numbers, hyper-parameters of serving like the NumPy ALS's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar, Self

import numpy as np

from recommender.artifact import ArtifactError
from recommender.dataset import TrainingData
from recommender.models.contract import Stored, meta_int, meta_params
from recommender.models.rating import BiasedFactors


@dataclass(frozen=True)
class MLlibALSParams:
    """ALS's rank, iterations and ALS-WR penalty; the bias penalties; the fold-in penalties.

    Not tuned: rank, iterations and the penalties of biases and fold-in are the NumPy ALS's
    (:class:`~recommender.models.als.ALSParams`), ``reg_param`` MLlib's usual 0.1;
    ``movierec evaluate --engine spark`` measures the result beside the NumPy ALS.
    """

    rank: int = 32
    max_iter: int = 12
    reg_param: float = 0.1
    item_bias_reg: float = 5.0
    user_bias_reg: float = 5.0
    fold_in_bias_reg: float = 5.0
    fold_in_factor_reg: float = 15.0

    def __post_init__(self) -> None:
        penalties = (
            self.reg_param,
            self.item_bias_reg,
            self.user_bias_reg,
            self.fold_in_bias_reg,
            self.fold_in_factor_reg,
        )
        if self.rank < 1 or self.max_iter < 1 or min(penalties) <= 0:
            raise ValueError(f"MLlib ALS needs rank, iterations and penalties above 0, got {self}")


@dataclass(frozen=True)
class MLlibALSRating(BiasedFactors):
    """The item side of :mod:`recommender.spark.als`'s fit, served by fold-in.

    ``fit`` runs on the active Spark session (:func:`recommender.spark.als.fit_als`); the seed
    is MLlib's.
    """

    name: ClassVar[str] = "mllib-als-biased"

    params: MLlibALSParams = field(default_factory=MLlibALSParams)
    seed: int = 0
    bias_reg: float = 0.0
    factor_reg: float = 0.0
    global_mean: float = 0.0
    item_bias: np.ndarray = field(default_factory=lambda: np.zeros(0))
    item_factors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    known: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def fit(self, data: TrainingData) -> Self:
        """Fit on ``data`` through the active Spark session (the evaluation's path; ``movierec
        train --engine spark`` hands Spark its DataFrame directly)."""
        from recommender.spark.als import fit_local

        return replace(self, **fit_local(self, data))

    def to_arrays(self, prefix: str) -> Stored:
        stored = self.item_side_arrays(prefix)
        meta = {"params": asdict(self.params), "seed": self.seed, **stored.meta}
        return Stored(stored.arrays, meta)

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], meta: Any, prefix: str) -> Self:
        try:
            params = meta_params(MLlibALSParams, meta)
        except ValueError as exc:
            raise ArtifactError(f"meta 'params': {exc}") from exc
        return cls(
            params=params,
            seed=meta_int(meta, "seed"),
            **cls.item_side_from(arrays, meta, prefix),
        )
