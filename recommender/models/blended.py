"""The served rating predictor: surprise's SVD folded in, plus sparse item neighbours, blended.

Each component alone misses the 0.845 RMSE target on ml-latest-small (SVD folded in about 0.855,
item KNNBaseline on top-100 neighbours about 0.86), but their errors differ, and a linear blend
of the two reaches about 0.84. Both are stateless per user: the SVD user side is a ridge fold-in,
the neighbour term reads the user's current ratings, so serving stays one call per request.

Everything chosen from data is chosen on a validation split carved at random from the training
ratings only: each candidate component (a few SVD and neighbour hyper-parameter sets) is fitted on
the rest, the validation users are folded in from their remaining ratings, and for each
combination of candidates and fold-in penalties (bias, factors) the blend weights are a
least-squares fit to the validation ratings; the combination with the lowest validation RMSE
wins. Then the chosen components are refitted on every training rating and keep the chosen
weights. Every trial is recorded in ``validation`` (the artifact's meta, ``evaluation.json``).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from recommender.artifact import ArtifactError
from recommender.dataset import TrainingData, index_of, per_user, random_holdout, split_rows
from recommender.models.contract import (
    Stored,
    StoredArrays,
    clip_to_scale,
    meta_int,
    meta_params,
    meta_value,
)
from recommender.models.neighbours import ItemNeighbours, NeighbourParams
from recommender.models.rating import FOLD_IN_REGS, RatingModel, SVDParams

COMPONENTS = ("svd", "neighbours")
# The blend weights (intercept, SVD, neighbours) that serve the SVD alone.
SVD_ALONE = (0.0, 1.0, 0.0)
# Below this many validation ratings per blend weight the fit is noise: serve the SVD alone.
MIN_VALIDATION_PER_WEIGHT = 20


@dataclass(frozen=True)
class BlendParams:
    """The neighbour component, the candidates searched, and the size of the validation carve.

    The validation carve picks the SVD's regularisation among the given ``SVDParams.reg_all``
    and ``svd_reg_alternatives``, the neighbours a prediction reads among
    ``neighbours.neighbours`` and ``neighbour_count_alternatives``, and the fold-in penalties
    among ``bias_regs`` x ``factor_regs``: every combination, each with its least-squares blend
    weights. The given values, with ``fallback_regs``, serve when the data are too small to
    validate anything (the choices that won on ml-latest-small). The alternatives are few on
    purpose: each SVD candidate is one more surprise fit per model fit; the neighbour candidates
    share one similarity computation (they differ only in how many stored neighbours a
    prediction reads).
    """

    neighbours: NeighbourParams = field(default_factory=NeighbourParams)
    bias_regs: tuple[float, ...] = (3.0, 10.0)
    factor_regs: tuple[float, ...] = (25.0, 40.0, 60.0)
    fallback_regs: tuple[float, float] = FOLD_IN_REGS
    validation_fraction: float = 0.2
    svd_reg_alternatives: tuple[float, ...] = (0.08,)
    neighbour_count_alternatives: tuple[int, ...] = (20, 80)


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
        """Choose hyper-parameters, penalties and weights on a validation carve of ``data``,
        then refit the chosen components on all of it."""
        params = self.params
        svd_candidates = [
            self.svd_params,
            *(replace(self.svd_params, reg_all=reg) for reg in params.svd_reg_alternatives),
        ]
        neighbour_candidates = [
            params.neighbours,
            *(
                replace(params.neighbours, neighbours=k)
                for k in params.neighbour_count_alternatives
            ),
        ]

        def svd_on(part: TrainingData, svd_params: SVDParams) -> RatingModel:
            bias_reg, factor_reg = params.fallback_regs
            return RatingModel(svd_params, self.seed, bias_reg, factor_reg).fit(part)

        held = random_holdout(len(data.frame), params.validation_fraction, self.seed)
        fit_part, valid = split_rows(data.frame, held)
        if len(valid) < MIN_VALIDATION_PER_WEIGHT * (len(COMPONENTS) + 1):
            # Too little to choose anything: the given candidates, the SVD served alone.
            return replace(
                self,
                svd=svd_on(data, self.svd_params),
                neighbours=_neighbours_on(data, [params.neighbours])[0],
                weights=np.array(SVD_ALONE),
                validation={"rows": len(valid), "skipped": "too few ratings"},
            )
        part = data.subset(fit_part)
        (svd_index, neighbour_index, bias_reg, factor_reg), weights, validation = _choose(
            [svd_on(part, candidate) for candidate in svd_candidates],
            _neighbours_on(part, neighbour_candidates),
            data.movie_ids,
            fit_part,
            valid,
            params,
        )
        validation["chosen"] |= {
            "svd_params": asdict(svd_candidates[svd_index]),
            "neighbour_params": asdict(neighbour_candidates[neighbour_index]),
        }
        svd = svd_on(data, svd_candidates[svd_index])
        return replace(
            self,
            svd=replace(svd, bias_reg=bias_reg, factor_reg=factor_reg),
            neighbours=_neighbours_on(data, [neighbour_candidates[neighbour_index]])[0],
            weights=weights,
            validation=validation,
        )

    def components(self, items: np.ndarray, ratings: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Unclipped component estimates, one column each, for movie indices ``targets``."""
        keep = self.known[items]
        items, ratings = items[keep], ratings[keep]
        svd = self.svd.estimate(self.svd.fold_in(items, ratings), targets)
        return np.column_stack([svd, self.neighbours.estimate(items, ratings, targets)])

    def predict(self, items: np.ndarray, ratings: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Blended ratings in the scale for ``targets``, the user given by their rated movies."""
        blended = self.weights[0] + self.components(items, ratings, targets) @ self.weights[1:]
        return clip_to_scale(blended)

    def neighbour_lists(self) -> np.ndarray:
        return self.neighbours.neighbour_index

    # -- artifact -----------------------------------------------------------------------------

    def to_arrays(self, prefix: str) -> Stored:
        svd = self.svd.to_arrays(f"{prefix}svd.")
        neighbours = self.neighbours.to_arrays(f"{prefix}neighbours.")
        meta = {
            "svd_params": asdict(self.svd_params),
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
            svd_params=meta_params(SVDParams, meta, "svd_params"),
            params=meta_params(BlendParams, meta),
            seed=meta_int(meta, "seed"),
            svd=svd,
            neighbours=neighbours,
            weights=weights,
            validation=validation,
        )


def _neighbours_on(part: TrainingData, candidates: list[NeighbourParams]) -> list[ItemNeighbours]:
    """The neighbour term under each candidate; candidates that differ only in how many
    neighbours a prediction reads share one fit (the stored lists are the same)."""
    fitted: dict[NeighbourParams, ItemNeighbours] = {}
    models = []
    for candidate in candidates:
        key = replace(candidate, neighbours=0)
        if key not in fitted:
            fitted[key] = ItemNeighbours(candidate).fit(part)
        models.append(replace(fitted[key], params=candidate))
    return models


def _choose(
    svds: list[RatingModel],
    neighbours: list[ItemNeighbours],
    movie_ids: np.ndarray,
    fit_part: pd.DataFrame,
    valid: pd.DataFrame,
    params: BlendParams,
) -> tuple[tuple[int, int, float, float], np.ndarray, dict[str, Any]]:
    """Validation RMSE of every (SVD, neighbours, bias penalty, factor penalty) combination,
    blend weights fitted per combination by least squares; the lowest wins. Returns the
    winning candidate indices and penalties, its weights, and the record of every trial."""
    target = valid["rating"].to_numpy(np.float64)
    penalties = list(itertools.product(params.bias_regs, params.factor_regs))
    penalty_rows = np.array(penalties, dtype=np.float64)
    svd_features = np.empty((len(svds), len(penalties), len(valid)))
    neighbour_features = np.empty((len(neighbours), len(valid)))
    known = svds[0].known
    for rows, movies, ratings, wanted in per_user(fit_part, valid):
        positions, present = index_of(movie_ids, movies)
        keep = present & known[positions]
        items, ratings = positions[keep], ratings[keep]
        targets = index_of(movie_ids, wanted)[0]
        for n, model in enumerate(neighbours):
            neighbour_features[n, rows] = model.estimate(items, ratings, targets)
        for s, svd in enumerate(svds):
            for g, side in enumerate(svd.fold_in_under(items, ratings, penalty_rows)):
                svd_features[s, g, rows] = svd.estimate(side, targets)
    trials = []
    combinations = itertools.product(
        range(len(svds)), range(len(neighbours)), range(len(penalties))
    )
    for s, n, g in combinations:
        features = np.column_stack([np.ones(len(valid)), svd_features[s, g], neighbour_features[n]])
        weights = np.linalg.lstsq(features, target, rcond=None)[0]
        trials.append(
            {
                "svd": s,
                "neighbours": n,
                "bias_reg": penalties[g][0],
                "factor_reg": penalties[g][1],
                "weights": weights.tolist(),
                "svd_rmse": _rmse(svd_features[s, g], target),
                "blend_rmse": _rmse(features @ weights, target),
            }
        )
    best = min(trials, key=lambda trial: trial["blend_rmse"])
    validation = {
        "rows": len(valid),
        "neighbours_rmse": _rmse(neighbour_features[best["neighbours"]], target),
        "chosen": dict(best),
        "grid": trials,
    }
    chosen = (best["svd"], best["neighbours"], best["bias_reg"], best["factor_reg"])
    return chosen, np.array(best["weights"]), validation


def _rmse(predicted: np.ndarray, actual: np.ndarray) -> float:
    return float(np.sqrt(np.mean((clip_to_scale(predicted) - actual) ** 2)))
