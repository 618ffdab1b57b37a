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
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from recommender.dataset import Interactions, index_of, per_user, random_holdout, split_rows
from recommender.models.neighbours import ItemNeighbours, NeighbourParams
from recommender.models.rating import RATING_SCALE, RatingModel, SVDParams, fit_svd

COMPONENTS = ("svd", "neighbours")
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
    fallback_regs: tuple[float, float] = (3.0, 40.0)
    validation_fraction: float = 0.2


@dataclass(frozen=True)
class BlendedRating:
    """SVD and neighbour components over one movie index; ``weights`` = intercept, then one each."""

    svd: RatingModel
    neighbours: ItemNeighbours
    weights: np.ndarray
    validation: dict[str, Any]

    @property
    def global_mean(self) -> float:
        return self.svd.global_mean

    @property
    def known(self) -> np.ndarray:
        """Movies with training ratings (the rest of the index only get baselines)."""
        return self.svd.known

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        movie_ids: np.ndarray,
        svd_params: SVDParams,
        params: BlendParams,
        *,
        seed: int,
    ) -> BlendedRating:
        """Choose penalties and weights on a validation carve of ``frame``, then refit on all.

        Rows are put in a canonical order first, so the carve and surprise's shuffle depend on
        the ratings and the seed only, not on the order the store returned them in.
        """
        frame = frame.sort_values(["user_id", "movie_id"], kind="stable", ignore_index=True)

        def fitted_on(rows: pd.DataFrame) -> BlendedRating:
            """Both components on ``rows`` with the fallback penalties, the SVD served alone:
            the model when there is too little data to choose anything."""
            bias_reg, factor_reg = params.fallback_regs
            algo = fit_svd(rows, svd_params, seed=seed)
            svd = RatingModel.from_surprise(
                algo, movie_ids, bias_reg=bias_reg, factor_reg=factor_reg
            )
            matrix = Interactions.from_frame(rows, movie_ids=movie_ids).matrix
            neighbours = ItemNeighbours.fit(matrix, params.neighbours)
            return cls(svd, neighbours, np.array([0.0, 1.0, 0.0]), {})

        held = random_holdout(len(frame), params.validation_fraction, seed)
        fit_part, valid = split_rows(frame, held)
        final = fitted_on(frame)
        if len(valid) < MIN_VALIDATION_PER_WEIGHT * (len(COMPONENTS) + 1):
            return replace(final, validation={"rows": len(valid), "skipped": "too few ratings"})
        bias_reg, factor_reg, weights, validation = fitted_on(fit_part)._choose(
            movie_ids, fit_part, valid, params
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
            features[:, rows, 2] = self.neighbours.predict(items, ratings, targets)
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
        return np.column_stack([svd, self.neighbours.predict(items, ratings, targets)])

    def predict(self, items: np.ndarray, ratings: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Blended ratings in the scale for ``targets``, the user given by their rated movies."""
        blended = self.weights[0] + self.components(items, ratings, targets) @ self.weights[1:]
        return np.clip(blended, *RATING_SCALE)

    # -- artifact -----------------------------------------------------------------------------

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "rating_item_bias": self.svd.item_bias,
            "rating_item_factors": self.svd.item_factors,
            "rating_known": self.svd.known,
            "knn_item_bias": self.neighbours.item_bias,
            "knn_neighbour_index": self.neighbours.neighbour_index,
            "knn_neighbour_sim": self.neighbours.neighbour_sim,
            "blend_weights": self.weights,
        }

    def meta(self) -> dict[str, Any]:
        return {
            "rating_global_mean": self.svd.global_mean,
            "rating_bias_reg": self.svd.bias_reg,
            "rating_factor_reg": self.svd.factor_reg,
            "knn_global_mean": self.neighbours.global_mean,
            "knn_params": asdict(self.neighbours.params),
            "blend_components": list(COMPONENTS),
            "blend_validation": self.validation,
        }

    @classmethod
    def from_saved(cls, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> BlendedRating:
        """Rebuild from :meth:`arrays` and :meth:`meta`; raises KeyError/TypeError/ValueError."""
        svd = RatingModel(
            global_mean=float(meta["rating_global_mean"]),
            item_bias=arrays["rating_item_bias"],
            item_factors=arrays["rating_item_factors"],
            known=arrays["rating_known"],
            bias_reg=float(meta["rating_bias_reg"]),
            factor_reg=float(meta["rating_factor_reg"]),
        )
        neighbours = ItemNeighbours(
            params=NeighbourParams(**meta["knn_params"]),
            global_mean=float(meta["knn_global_mean"]),
            item_bias=arrays["knn_item_bias"],
            neighbour_index=arrays["knn_neighbour_index"],
            neighbour_sim=arrays["knn_neighbour_sim"],
        )
        weights = arrays["blend_weights"]
        n = len(svd.item_bias)
        per_movie = [svd.item_factors, svd.known, neighbours.item_bias, neighbours.neighbour_sim]
        if any(len(array) != n for array in [*per_movie, neighbours.neighbour_index]):
            raise ValueError("rating arrays disagree on the number of movies")
        index = neighbours.neighbour_index
        if index.size and (index.min() < 0 or index.max() > n):
            raise ValueError("neighbour indices out of range")
        if weights.shape != (len(COMPONENTS) + 1,) or list(meta["blend_components"]) != list(
            COMPONENTS
        ):
            raise ValueError(f"blend weights are not for the components {COMPONENTS}")
        return cls(svd, neighbours, weights, dict(meta.get("blend_validation", {})))


def _rmse(predicted: np.ndarray, actual: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.clip(predicted, *RATING_SCALE) - actual) ** 2)))
