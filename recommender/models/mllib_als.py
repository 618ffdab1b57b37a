"""Rating prediction trained by Spark MLlib's ALS: a biased matrix factorisation's item side.

MLlib's ALS (explicit feedback) has no bias terms, so the biases are fitted first, as Spark
aggregations (global mean, then item, user and item again, each a ridge step with a fixed
penalty), and ALS factorises what they leave. The item side kept is the global mean, the item
biases and ALS's item factors; at serving time a user is folded in from their current ratings
by :class:`~recommender.models.rating.BiasedFactors`'s ridge (bias and factors together, fixed
penalties), the same code that serves every other biased factorisation: the artifact does not
say which engine trained it beyond this class's name and meta.

MLlib regularises each row by ``reg_param`` times its rating count (ALS-WR); the fold-in's
penalties are fixed numbers. The two are chosen together, as the NumPy blend chooses its
penalties: on a validation carve of the training ratings only (a seeded hash holds out 20 %),
ALS is fitted on the rest under each candidate ``reg_param``, the carve's users are folded in
from their remaining ratings under each (bias, factor) penalty pair, and the pair of choices
with the lowest validation RMSE is refitted on every training rating. When the best
``reg_param`` is the largest or smallest tried, the grid is widened past that edge
(:func:`recommender.spark.als.search_reg_param`), so the choice is not the grid's bound. Every
trial is recorded in ``validation`` (the artifact's meta, ``evaluation-spark.json``), with
``reg_param_extensions`` and whether the choice is still at an edge (``reg_param_at_edge``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar, Self

import numpy as np

from recommender.artifact import ArtifactError
from recommender.dataset import TrainingData
from recommender.models.contract import Stored, meta_int, meta_params, meta_value
from recommender.models.rating import BiasedFactors


@dataclass(frozen=True)
class MLlibALSParams:
    """ALS's rank, iterations and ALS-WR penalty; the bias penalties; the fold-in penalties;
    the validation search.

    Rank, iterations and the bias penalties are the NumPy ALS's
    (:class:`~recommender.models.als.ALSParams`). The validation carve (``validation_fraction``
    of the training ratings) chooses ``reg_param`` among it and ``reg_param_alternatives`` (each
    one more ALS fit; with alternatives, the grid widens past a best edge, at most
    :data:`~recommender.spark.als.MAX_GRID_EXTENSIONS` fits more) and the fold-in penalties
    among ``fold_in_bias_regs`` x
    ``fold_in_factor_regs`` (free: the fold-in is a small solve per user). ``reg_param``,
    ``fold_in_bias_reg`` and ``fold_in_factor_reg`` serve when the carve is too small to choose
    anything; no alternatives and one penalty pair means no search (one ALS fit).
    """

    rank: int = 32
    max_iter: int = 12
    reg_param: float = 0.1
    item_bias_reg: float = 5.0
    user_bias_reg: float = 5.0
    fold_in_bias_reg: float = 5.0
    fold_in_factor_reg: float = 15.0
    reg_param_alternatives: tuple[float, ...] = (0.05, 0.2)
    fold_in_bias_regs: tuple[float, ...] = (2.0, 5.0, 10.0)
    fold_in_factor_regs: tuple[float, ...] = (5.0, 15.0, 30.0)
    validation_fraction: float = 0.2

    def __post_init__(self) -> None:
        penalties = (
            self.reg_param,
            self.item_bias_reg,
            self.user_bias_reg,
            self.fold_in_bias_reg,
            self.fold_in_factor_reg,
            *self.reg_param_alternatives,
            *self.fold_in_bias_regs,
            *self.fold_in_factor_regs,
        )
        if self.rank < 1 or self.max_iter < 1 or min(penalties) <= 0:
            raise ValueError(f"MLlib ALS needs rank, iterations and penalties above 0, got {self}")
        if not self.fold_in_bias_regs or not self.fold_in_factor_regs:
            raise ValueError(f"MLlib ALS needs fold-in penalty candidates, got {self}")
        if not 0 < self.validation_fraction < 1:
            raise ValueError(f"the validation fraction is between 0 and 1, got {self}")

    @property
    def reg_params(self) -> tuple[float, ...]:
        """The ALS-WR penalties the carve tries, the given one first."""
        return (self.reg_param, *self.reg_param_alternatives)

    @property
    def searched(self) -> bool:
        """Whether anything is chosen on a carve (otherwise one fit, the given penalties)."""
        pairs = len(self.fold_in_bias_regs) * len(self.fold_in_factor_regs)
        return len(self.reg_params) > 1 or pairs > 1


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
    validation: dict[str, Any] = field(default_factory=dict)

    def fit(self, data: TrainingData) -> Self:
        """Fit on ``data`` through the active Spark session (the evaluation's path; ``movierec
        train --engine spark`` hands Spark its DataFrame directly)."""
        from recommender.spark.als import fit_local

        return replace(self, **fit_local(self, data))

    def to_arrays(self, prefix: str) -> Stored:
        stored = self.item_side_arrays(prefix)
        meta = {
            "params": asdict(self.params),
            "seed": self.seed,
            "validation": self.validation,
            **stored.meta,
        }
        return Stored(stored.arrays, meta)

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], meta: Any, prefix: str) -> Self:
        try:
            params = meta_params(MLlibALSParams, meta)
        except ValueError as exc:
            raise ArtifactError(f"meta 'params': {exc}") from exc
        validation = meta_value(meta, "validation")
        if not isinstance(validation, dict):
            raise ArtifactError("meta 'validation' is not a JSON object")
        return cls(
            params=params,
            seed=meta_int(meta, "seed"),
            validation=validation,
            **cls.item_side_from(arrays, meta, prefix),
        )
