"""Fitting the served pair of models: PureSVD ranks; SVD fold-in + item neighbours predict ratings.

The ranker's hyper-parameters are the ones chosen on the temporal validation split by
``movierec evaluate`` (which re-runs the search and reports it); the rating predictor chooses its
fold-in penalties and blend weights itself, on a validation carve of the ratings it is given.
``movierec train`` and the evaluation both fit through :func:`fit_recommender`, so the served
model is the evaluated one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from recommender.dataset import TrainingData
from recommender.models.blended import BlendedRating, BlendParams
from recommender.models.popularity import Popularity, PopularityMethod, PopularityParams
from recommender.models.puresvd import PureSVD, PureSVDParams
from recommender.models.rating import SVDParams
from recommender.serving import Recommender

ALGORITHM = "puresvd+svd-knn-blend"


@dataclass(frozen=True)
class ServedConfig:
    ranker: PureSVDParams = field(default_factory=PureSVDParams)
    rating: SVDParams = field(default_factory=SVDParams)
    blend: BlendParams = field(default_factory=BlendParams)
    popularity: PopularityMethod = "count"


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
    return Recommender(
        movie_ids=data.movie_ids,
        ranker=PureSVD(config.ranker, seed=seed).fit(data),
        rating=BlendedRating(config.rating, config.blend, seed=seed).fit(data),
        cold_start=Popularity(PopularityParams(config.popularity)).fit(data),
        algorithm=ALGORITHM,
    )
