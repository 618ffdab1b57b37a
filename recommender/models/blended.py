"""The served rating predictor: surprise's SVD folded in, plus sparse item neighbours, blended.

Each component alone misses the 0.845 RMSE target on ml-latest-small (SVD folded in about 0.855,
item KNNBaseline on top-100 neighbours about 0.86), but their errors differ, and a linear blend
of the two reaches about 0.84. Both are stateless per user: the SVD user side is a ridge fold-in,
the neighbour term reads the user's current ratings, so serving stays one call per request.

Everything chosen from data is chosen on a validation split carved at random from the training
ratings only: the components are fitted on the rest, the validation users are folded in from their
remaining ratings, and for each pair of fold-in penalties (bias, factors) the blend weights are a
least-squares fit to the validation ratings; the pair with the lowest validation RMSE wins. Then
both components are refitted on every training rating and keep the chosen weights.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from data.domain import RATING_SCALE
from recommender.artifact import ArtifactError
from recommender.dataset import TrainingData, index_of, per_user, random_holdout, split_rows
from recommender.models.contract import Stored, StoredArrays, meta_int, meta_params, meta_value
from recommender.models.neighbours import ItemNeighbours, NeighbourParams
from recommender.models.rating import FOLD_IN_REGS, RatingModel, SVDParams

COMPONENTS = ("svd", "neighbours")
# The blend weights (intercept, SVD, neighbours) that serve the SVD alone.
SVD_ALONE = (0.0, 1.0, 0.0)
# Below this many validation ratings per blend weight the fit is noise: serve the SVD alone.
MIN_VALIDATION_PER_WEIGHT = 20


@dataclass(frozen=True)
class BlendParams:
    """The neighbour component, the fold-in penalty grid and the size of the validation carve.

    ``fallback_regs`` serve when the data are too small to validate anything (the pair that won
    on ml-latest-small).
    """

    neighbours: NeighbourParams = field(default_factory=NeighbourParams)
    bias_regs: tuple[float, ...] = (3.0, 10.0)
    factor_regs: tuple[float, ...] = (25.0, 40.0, 60.0)
    fallback_regs: tuple[float, float] = FOLD_IN_REGS
    validation_fraction: float = 0.2


@dataclass(frozen=True)
class BlendedRating:
    """SVD and neighbour components over one movie index; ``weights`` = intercept, then one each.

    Hyper-parameters: the SVD's (``svd_params``), the blend's (``params``, which hold the
    neighbour component's) and the seed of the validation carve and of surprise's SGD.
    """

    name: ClassVar[str] = "svd-knn-blend"

    svd_params: SVDParams = field(default_factory=SVDParams)
    params: BlendParams = field(default_factory=BlendParams)
    seed: int = 0
    svd: RatingModel = field(default_factory=RatingModel)
    neighbours: ItemNeighbours = field(default_factory=ItemNeighbours)
    weights: np.ndarray = field(default_factory=lambda: np.array(SVD_ALONE))
    validation: dict[str, Any] = field(default_factory=dict)

    @property
    def global_mean(self) -> float:
        return self.svd.global_mean

    @property
    def known(self) -> np.ndarray:
        """Movies with training ratings (the rest of the index only get baselines)."""
        return self.svd.known

    @property
    def n_movies(self) -> int:
        return self.svd.n_movies

    def fit(self, data: TrainingData) -> BlendedRating:
        """Choose penalties and weights on a validation carve of ``data``, then refit on all."""
        params = self.params

        def fitted_on(part: TrainingData) -> BlendedRating:
            """Both components on ``part`` with the fallback penalties, the SVD served alone:
            the model when there is too little data to choose anything."""
            bias_reg, factor_reg = params.fallback_regs
            svd = RatingModel(self.svd_params, self.seed, bias_reg, factor_reg).fit(part)
            neighbours = ItemNeighbours(params.neighbours).fit(part)
            alone = np.array(SVD_ALONE)
            return replace(self, svd=svd, neighbours=neighbours, weights=alone, validation={})

        held = random_holdout(len(data.frame), params.validation_fraction, self.seed)
        fit_part, valid = split_rows(data.frame, held)
        final = fitted_on(data)
        if len(valid) < MIN_VALIDATION_PER_WEIGHT * (len(COMPONENTS) + 1):
            return replace(final, validation={"rows": len(valid), "skipped": "too few ratings"})
        bias_reg, factor_reg, weights, validation = fitted_on(data.subset(fit_part))._choose(
            data.movie_ids, fit_part, valid, params
        )
        return replace(
            final,
            svd=replace(final.svd, bias_reg=bias_reg, factor_reg=factor_reg),
            weights=weights,
            validation=validation,
        )

    def _choose(
        self,
        movie_ids: np.ndarray,
        fit_part: pd.DataFrame,
        valid: pd.DataFrame,
        params: BlendParams,
    ) -> tuple[float, float, np.ndarray, dict[str, Any]]:
        """Validation RMSE of every penalty pair, blend weights fitted per pair; the best wins."""
        target = valid["rating"].to_numpy(np.float64)
        grid = list(itertools.product(params.bias_regs, params.factor_regs))
        penalties = np.array(grid, dtype=np.float64)
        features = np.ones((len(grid), len(valid), len(COMPONENTS) + 1))
        for rows, movies, ratings, wanted in per_user(fit_part, valid):
            positions, present = index_of(movie_ids, movies)
            keep = present & self.known[positions]
            items, ratings = positions[keep], ratings[keep]
            targets = index_of(movie_ids, wanted)[0]
            features[:, rows, 2] = self.neighbours.estimate(items, ratings, targets)
            sides = self.svd.fold_in_under(items, ratings, penalties)
            for g, side in enumerate(sides):
                features[g, rows, 1] = self.svd.estimate(side, targets)
        trials = []
        for g, (bias_reg, factor_reg) in enumerate(grid):
            weights = np.linalg.lstsq(features[g], target, rcond=None)[0]
            trials.append(
                {
                    "bias_reg": bias_reg,
                    "factor_reg": factor_reg,
                    "weights": weights.tolist(),
                    "svd_rmse": _rmse(features[g, :, 1], target),
                    "blend_rmse": _rmse(features[g] @ weights, target),
                }
            )
        best = min(range(len(grid)), key=lambda g: trials[g]["blend_rmse"])
        validation = {
            "rows": len(valid),
            "neighbours_rmse": _rmse(features[0, :, 2], target),
            "chosen": trials[best],
            "grid": trials,
        }
        return (*grid[best], np.array(trials[best]["weights"]), validation)

    def components(self, items: np.ndarray, ratings: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Unclipped component estimates, one column each, for movie indices ``targets``."""
        keep = self.known[items]
        items, ratings = items[keep], ratings[keep]
        svd = self.svd.estimate(self.svd.fold_in(items, ratings), targets)
        return np.column_stack([svd, self.neighbours.estimate(items, ratings, targets)])

    def predict(self, items: np.ndarray, ratings: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Blended ratings in the scale for ``targets``, the user given by their rated movies."""
        blended = self.weights[0] + self.components(items, ratings, targets) @ self.weights[1:]
        return np.clip(blended, *RATING_SCALE.bounds)

    def neighbour_lists(self) -> np.ndarray:
        return self.neighbours.neighbour_index

    # -- artifact -----------------------------------------------------------------------------

    def to_arrays(self, prefix: str) -> Stored:
        svd = self.svd.to_arrays(f"{prefix}svd.")
        neighbours = self.neighbours.to_arrays(f"{prefix}neighbours.")
        meta = {
            "params": asdict(self.params),
            "seed": self.seed,
            "components": list(COMPONENTS),
            "validation": self.validation,
            "svd": svd.meta,
            "neighbours": neighbours.meta,
        }
        arrays = {**svd.arrays, **neighbours.arrays, f"{prefix}weights": self.weights}
        return Stored(arrays, meta)

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], meta: Any, prefix: str) -> BlendedRating:
        if meta_value(meta, "components") != list(COMPONENTS):
            raise ArtifactError(f"blend components are not {list(COMPONENTS)}")
        svd = RatingModel.from_arrays(arrays, meta_value(meta, "svd"), f"{prefix}svd.")
        neighbours = ItemNeighbours.from_arrays(
            arrays, meta_value(meta, "neighbours"), f"{prefix}neighbours."
        )
        if neighbours.n_movies != svd.n_movies:
            raise ArtifactError("blend components disagree on the number of movies")
        weights = StoredArrays(arrays, prefix).get("weights", np.float64, (len(COMPONENTS) + 1,))
        validation = meta_value(meta, "validation")
        if not isinstance(validation, dict):
            raise ArtifactError("blend validation record is not a JSON object")
        return cls(
            svd_params=svd.params,
            params=meta_params(BlendParams, meta),
            seed=meta_int(meta, "seed"),
            svd=svd,
            neighbours=neighbours,
            weights=weights,
            validation=validation,
        )


def _rmse(predicted: np.ndarray, actual: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.clip(predicted, *RATING_SCALE.bounds) - actual) ** 2)))
