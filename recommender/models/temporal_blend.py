"""The served rating predictor: time-aware factors, item neighbours, and a neighbour term on the
time-aware baseline's residuals, blended.

Three estimates of a user's rating of a movie on a day, each from the user's current ratings and
their days, and nothing stored per user:

- the time-aware factor model (:mod:`recommender.models.temporal`: biases that drift and move
  by day and by time bin, plus factors), the strongest alone;
- KNNBaseline on the stored neighbour lists (:mod:`recommender.models.neighbours`), with its
  own static baselines;
- the same neighbour lists over the residuals of the time-aware *baseline* (its biases without
  the factor term), the neighbourhood term of Koren's integrated model: what the user thought of
  similar movies beyond what the biases of that day explain.

Chosen on a validation carve of the training ratings only (a seeded random 20 %): the components
are fitted on the rest, and for every combination of the user-side penalties of the fold-in
(day bias, factors) and the neighbours a prediction reads, the blend weights are a least-squares
fit to the carve; the lowest validation RMSE wins, and the components are refitted on every
training rating with the chosen values (the chosen user penalties in training too, so the user
step of training stays the serving fold-in). Every trial is recorded in ``validation``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from recommender.artifact import ArtifactError
from recommender.dataset import TrainingData, index_of, per_user_timed, random_holdout, split_rows
from recommender.models.contract import (
    Stored,
    StoredArrays,
    clip_to_scale,
    days_of,
    meta_int,
    meta_params,
    meta_value,
)
from recommender.models.neighbours import ItemNeighbours, NeighbourParams
from recommender.models.temporal import TemporalFactors, TemporalParams

COMPONENTS = ("temporal", "neighbours", "residual_neighbours")
# The blend weights (intercept, then one per component) that serve the factor model alone.
TEMPORAL_ALONE = (0.0, 1.0, 0.0, 0.0)
# Below this many validation ratings per blend weight the fit is noise: serve the factors alone.
MIN_VALIDATION_PER_WEIGHT = 20


@dataclass(frozen=True)
class TemporalBlendParams:
    """The components' hyper-parameters and the candidates the validation carve searches.

    ``day_regs`` x ``factor_regs`` are the fold-in's user-side penalties (``user_day_reg`` and
    ``user_factor_reg`` of ``temporal``) and ``neighbour_counts`` the neighbours a prediction
    reads (of ``neighbours.stored`` kept per movie). ``temporal`` and ``neighbours`` as given
    serve when the data are too small to validate anything.
    """

    temporal: TemporalParams = field(default_factory=TemporalParams)
    neighbours: NeighbourParams = field(
        default_factory=lambda: NeighbourParams(neighbours=20, stored=500)
    )
    day_regs: tuple[float, ...] = (5.0, 10.0, 20.0)
    factor_regs: tuple[float, ...] = (4.0, 8.0, 15.0)
    neighbour_counts: tuple[int, ...] = (20, 40)
    validation_fraction: float = 0.2


@dataclass(frozen=True)
class TemporalBlend:
    """The three components over one movie index; ``weights`` = intercept, then one each."""

    name: ClassVar[str] = "temporal-knn-blend"

    params: TemporalBlendParams = field(default_factory=TemporalBlendParams)
    seed: int = 0
    temporal: TemporalFactors = field(default_factory=TemporalFactors)
    neighbours: ItemNeighbours = field(default_factory=ItemNeighbours)
    weights: np.ndarray = field(default_factory=lambda: np.array(TEMPORAL_ALONE))
    validation: dict[str, Any] = field(default_factory=dict)

    @property
    def global_mean(self) -> float:
        return self.temporal.global_mean

    @property
    def known(self) -> np.ndarray:
        """Movies with training ratings (the rest of the index only get baselines)."""
        return self.temporal.known

    @property
    def n_movies(self) -> int:
        return self.temporal.n_movies

    def fit(self, data: TrainingData) -> TemporalBlend:
        """Choose penalties, neighbour count and weights on a validation carve of ``data``,
        then refit the components with the chosen values on all of it."""
        params = self.params
        held = random_holdout(len(data.frame), params.validation_fraction, self.seed)
        fit_part, valid = split_rows(data.frame, held)
        if len(valid) < MIN_VALIDATION_PER_WEIGHT * (len(COMPONENTS) + 1):
            return replace(
                self,
                temporal=TemporalFactors(params.temporal, seed=self.seed).fit(data),
                neighbours=ItemNeighbours(params.neighbours, seed=self.seed).fit(data),
                weights=np.array(TEMPORAL_ALONE),
                validation={"rows": len(valid), "skipped": "too few ratings"},
            )
        part = data.subset(fit_part)
        trial = replace(
            self,
            temporal=TemporalFactors(params.temporal, seed=self.seed).fit(part),
            neighbours=ItemNeighbours(params.neighbours, seed=self.seed).fit(part),
        )
        validation = trial._search(data.movie_ids, fit_part, valid)
        chosen = validation["chosen"]
        temporal = replace(
            params.temporal,
            user_day_reg=chosen["day_reg"],
            user_factor_reg=chosen["factor_reg"],
        )
        neighbours = replace(params.neighbours, neighbours=chosen["neighbours"])
        return replace(
            self,
            temporal=TemporalFactors(temporal, seed=self.seed).fit(data),
            neighbours=ItemNeighbours(neighbours, seed=self.seed).fit(data),
            weights=np.array(chosen["weights"]),
            validation=validation,
        )

    # -- serving ------------------------------------------------------------------------------

    def components_at(
        self,
        items: np.ndarray,
        ratings: np.ndarray,
        days: np.ndarray,
        targets: np.ndarray,
        target_days: np.ndarray,
    ) -> np.ndarray:
        """Unclipped component estimates, one column each (``COMPONENTS``), for ``targets`` on
        ``target_days``."""
        return self._components(items, ratings, days, targets, target_days, None)[0]

    def _components(
        self,
        items: np.ndarray,
        ratings: np.ndarray,
        days: np.ndarray,
        targets: np.ndarray,
        target_days: np.ndarray,
        temporal: TemporalParams | None,
        readings: tuple[int, ...] = (),
    ) -> list[np.ndarray]:
        """The component columns with the fold-in under ``temporal``'s user penalties (None:
        the model's), for the model's neighbour count and then each of ``readings`` (the
        validation search folds a user in once for every count it tries)."""
        keep = self.known[items]
        if not keep.all():
            items, ratings, days = items[keep], ratings[keep], np.asarray(days)[keep]
        user = self.temporal.fold_in(items, ratings, days, temporal)
        estimate = self.temporal.estimate(user, targets, target_days)
        columns = []
        for neighbours in [self.neighbours, *(self._reading(count) for count in readings)]:
            knn, term = neighbours.estimate_and_term(
                items, ratings, targets, user.residuals, user.items
            )
            columns.append(np.column_stack((estimate, knn, term)))
        return columns

    def predict_at(
        self,
        items: np.ndarray,
        ratings: np.ndarray,
        days: np.ndarray,
        targets: np.ndarray,
        target_days: np.ndarray,
    ) -> np.ndarray:
        """Blended ratings in the scale for ``targets``, each as of its day."""
        parts = self.components_at(items, ratings, days, targets, target_days)
        return clip_to_scale(self.weights[0] + parts @ self.weights[1:])

    def predict(self, items: np.ndarray, ratings: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Without days: every rating and prediction as of the training period's last day."""
        day = self.temporal.last_day
        return self.predict_at(
            items, ratings, np.full(len(items), day), targets, np.full(len(targets), day)
        )

    def neighbour_lists(self) -> np.ndarray:
        return self.neighbours.neighbour_index

    # -- validation ---------------------------------------------------------------------------

    def _search(
        self, movie_ids: np.ndarray, fit_part: pd.DataFrame, valid: pd.DataFrame
    ) -> dict[str, Any]:
        """Validation RMSE of every (day penalty, factor penalty, neighbour count), weights by
        least squares each; the record of every trial and the winner."""
        params = self.params
        penalties = list(itertools.product(params.day_regs, params.factor_regs))
        counts = params.neighbour_counts
        target = valid["rating"].to_numpy(np.float64)
        # [penalty pair, neighbour count, rating, component]
        features = np.empty((len(penalties), len(counts), len(valid), len(COMPONENTS)))
        for user in per_user_timed(fit_part, valid):
            positions, present = index_of(movie_ids, user.movies)
            items, ratings = positions[present], user.ratings[present]
            days = days_of(user.times)[present]
            targets = index_of(movie_ids, user.wanted)[0]
            target_days = days_of(user.wanted_times)
            for g, (day_reg, factor_reg) in enumerate(penalties):
                temporal = replace(
                    self.temporal.params, user_day_reg=day_reg, user_factor_reg=factor_reg
                )
                parts = self._components(
                    items, ratings, days, targets, target_days, temporal, counts
                )
                for n, columns in enumerate(parts[1:]):
                    features[g, n, user.rows] = columns
        trials = []
        for (g, (day_reg, factor_reg)), (n, count) in itertools.product(
            enumerate(penalties), enumerate(counts)
        ):
            design = np.column_stack([np.ones(len(valid)), features[g, n]])
            weights = np.linalg.lstsq(design, target, rcond=None)[0]
            trials.append(
                {
                    "day_reg": day_reg,
                    "factor_reg": factor_reg,
                    "neighbours": count,
                    "weights": weights.tolist(),
                    "temporal_rmse": _rmse(features[g, n, :, 0], target),
                    "neighbours_rmse": _rmse(features[g, n, :, 1], target),
                    "blend_rmse": _rmse(design @ weights, target),
                }
            )
        best = min(trials, key=lambda trial: trial["blend_rmse"])
        return {"rows": len(valid), "chosen": dict(best), "grid": trials}

    def _reading(self, count: int) -> ItemNeighbours:
        """The fitted neighbour lists, a prediction reading ``count`` of them."""
        return replace(self.neighbours, params=replace(self.neighbours.params, neighbours=count))

    # -- artifact -----------------------------------------------------------------------------

    def to_arrays(self, prefix: str) -> Stored:
        temporal = self.temporal.to_arrays(f"{prefix}temporal.")
        neighbours = self.neighbours.to_arrays(f"{prefix}neighbours.")
        meta = {
            "params": asdict(self.params),
            "seed": self.seed,
            "components": list(COMPONENTS),
            "validation": self.validation,
            "temporal": temporal.meta,
            "neighbours": neighbours.meta,
        }
        arrays = {**temporal.arrays, **neighbours.arrays, f"{prefix}weights": self.weights}
        return Stored(arrays, meta)

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], meta: Any, prefix: str) -> TemporalBlend:
        if meta_value(meta, "components") != list(COMPONENTS):
            raise ArtifactError(f"blend components are not {list(COMPONENTS)}")
        temporal = TemporalFactors.from_arrays(
            arrays, meta_value(meta, "temporal"), f"{prefix}temporal."
        )
        neighbours = ItemNeighbours.from_arrays(
            arrays, meta_value(meta, "neighbours"), f"{prefix}neighbours."
        )
        if neighbours.n_movies != temporal.n_movies:
            raise ArtifactError("blend components disagree on the number of movies")
        weights = StoredArrays(arrays, prefix).get("weights", np.float64, (len(COMPONENTS) + 1,))
        validation = meta_value(meta, "validation")
        if not isinstance(validation, dict):
            raise ArtifactError("blend validation record is not a JSON object")
        try:
            params = meta_params(TemporalBlendParams, meta)
        except ValueError as exc:
            raise ArtifactError(f"meta 'params': {exc}") from exc
        return cls(
            params=params,
            seed=meta_int(meta, "seed"),
            temporal=temporal,
            neighbours=neighbours,
            weights=weights,
            validation=validation,
        )


def _rmse(predicted: np.ndarray, actual: np.ndarray) -> float:
    return float(np.sqrt(np.mean((clip_to_scale(predicted) - actual) ** 2)))
