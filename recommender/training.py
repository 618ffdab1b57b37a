"""Fitting the served pair of models: PureSVD ranks; time-aware factors + item neighbours predict
ratings (:mod:`recommender.models.temporal_blend`).

Above ``ServedConfig.scale_threshold`` ratings the rating role is ALS
(:mod:`recommender.models.als`) with neighbour lists beside it for similar movies
(:mod:`recommender.models.als_listed`): surprise's SGD does not fit ML-25M in the time and
memory budget of one box, while ALS does, at a cost in RMSE that ``movierec evaluate`` reports
on small data; the neighbour similarities, whose cost grows with the sum of squared per-user
rating counts, read at most ``scale_neighbour_cap`` ratings per user there.

The ranker's hyper-parameters are the ones chosen on the temporal validation split by
``movierec evaluate`` (which re-runs the search and reports it); the rating predictor chooses its
fold-in penalties, neighbour count and blend weights itself, on a validation carve of the ratings
it is given. The rating blend served before the time effects (surprise SVD + neighbours,
:class:`SVDBlendConfig`) stays fittable, for ``movierec evaluate``'s paired comparison.
``movierec train`` and the evaluation both fit through :func:`fit_recommender`, so the served
model is the evaluated one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from recommender.dataset import TrainingData
from recommender.models.als import ALSParams
from recommender.models.als_listed import ALSWithNeighbourLists
from recommender.models.blended import BlendedRating, BlendParams
from recommender.models.neighbours import ItemNeighbours, NeighbourParams
from recommender.models.popularity import Popularity, PopularityMethod, PopularityParams
from recommender.models.puresvd import PureSVD, PureSVDParams
from recommender.models.rating import SVDParams
from recommender.models.temporal_blend import TemporalBlend, TemporalBlendParams
from recommender.serving import Recommender

ALGORITHM = "puresvd+temporal-knn-blend"
PREVIOUS_ALGORITHM = "puresvd+svd-knn-blend"
SCALE_ALGORITHM = "puresvd+als+neighbour-lists"


@dataclass(frozen=True)
class SVDBlendConfig:
    """The rating predictor served before time effects: surprise SVD folded in, blended with
    item neighbours (:class:`~recommender.models.blended.BlendedRating`)."""

    svd: SVDParams = field(default_factory=SVDParams)
    blend: BlendParams = field(default_factory=BlendParams)


@dataclass(frozen=True)
class ServedConfig:
    ranker: PureSVDParams = field(default_factory=PureSVDParams)
    rating: TemporalBlendParams | SVDBlendConfig = field(default_factory=TemporalBlendParams)
    popularity: PopularityMethod = "count"
    als: ALSParams = field(default_factory=ALSParams)
    # More ratings than this and the rating role is ALS alone; ml-latest-small (100k) and
    # ML-1M stay below, ML-25M-size data above (the blend took over an hour there).
    scale_threshold: int = 2_000_000
    # Above the threshold the neighbour lists (similar movies) read at most this many of each
    # user's ratings, drawn with the seed: the fit's cost is the sum of their squares.
    scale_neighbour_cap: int = 500
    # ... and keep this many neighbours per movie (the blend below the threshold keeps 500 for
    # its rating terms; similar movies show 10).
    scale_neighbours: NeighbourParams = field(default_factory=NeighbourParams)

    def at_scale(self, n_ratings: int) -> bool:
        """Whether ``n_ratings`` are above the threshold, where ALS takes the rating role."""
        return n_ratings > self.scale_threshold


def scale_neighbours(config: ServedConfig) -> ItemNeighbours:
    """The neighbour lists served above the threshold, with the per-user cap."""
    cap = config.scale_neighbour_cap
    return ItemNeighbours(replace(config.scale_neighbours, max_user_ratings=cap))


def rating_hyper_parameters(config: ServedConfig, n_ratings: int) -> dict[str, Any]:
    """The rating role's parameters as fitted on ``n_ratings``, for ``meta.json``: the blend's
    below the size threshold, ALS's and its neighbour lists' above it (where the blend's would
    describe a model that was never fitted)."""
    if config.at_scale(n_ratings):
        return {"als": asdict(config.als), "neighbours": asdict(scale_neighbours(config).params)}
    return asdict(config.rating)


def rating_model(config: ServedConfig, *, seed: int) -> TemporalBlend | BlendedRating:
    """The unfitted rating predictor of ``config`` below the size threshold."""
    if isinstance(config.rating, SVDBlendConfig):
        return BlendedRating(config.rating.svd, config.rating.blend, seed=seed)
    return TemporalBlend(config.rating, seed=seed)


def fit_recommender(
    frame: pd.DataFrame,
    config: ServedConfig,
    *,
    seed: int,
    catalog_movie_ids: np.ndarray | None = None,
) -> Recommender:
    """Fit both served models on every rating of ``frame`` over one shared movie index.

    The index is the catalog plus every rated movie: a catalog movie nobody has rated yet
    gets the user's baseline as its predicted rating (surprise does the same) and is never
    ranked or listed as similar.
    """
    movies = frame["movie_id"].to_numpy(np.int64)
    if catalog_movie_ids is not None:
        movies = np.concatenate([movies, np.asarray(catalog_movie_ids, dtype=np.int64)])
    data = TrainingData.from_frame(frame, movie_ids=np.unique(movies))
    at_scale = config.at_scale(len(frame))
    rating: ALSWithNeighbourLists | TemporalBlend | BlendedRating = (
        ALSWithNeighbourLists(config.als, seed=seed, neighbours=scale_neighbours(config))
        if at_scale
        else rating_model(config, seed=seed)
    )
    if at_scale:
        algorithm = SCALE_ALGORITHM
    elif isinstance(config.rating, SVDBlendConfig):
        algorithm = PREVIOUS_ALGORITHM
    else:
        algorithm = ALGORITHM
    return Recommender(
        movie_ids=data.movie_ids,
        ranker=PureSVD(config.ranker, seed=seed).fit(data),
        rating=rating.fit(data),
        cold_start=Popularity(PopularityParams(config.popularity)).fit(data),
        algorithm=algorithm,
    )
