"""Fitting the served pair of models: PureSVD ranks, surprise's biased SVD predicts ratings.

The hyper-parameters here are the ones chosen on the validation split by ``movierec evaluate``
(which re-runs the search and reports it); ``movierec train`` and the evaluation both fit through
:func:`fit_recommender`, so the served model is the evaluated one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from recommender.dataset import Interactions
from recommender.models.popularity import PopularityMethod, popularity_scores
from recommender.models.puresvd import PureSVD, PureSVDParams
from recommender.models.rating import RatingModel, SVDParams, fit_svd
from recommender.serving import Recommender

ALGORITHM = "puresvd+svd"


@dataclass(frozen=True)
class ServedConfig:
    ranker: PureSVDParams = field(default_factory=PureSVDParams)
    rating: SVDParams = field(default_factory=SVDParams)
    popularity: PopularityMethod = "count"


def fit_recommender(frame: pd.DataFrame, config: ServedConfig, *, seed: int) -> Recommender:
    """Fit both served models on every rating of ``frame`` over one shared movie index."""
    data = Interactions.from_frame(frame)
    ranker = PureSVD.fit(data.matrix, config.ranker, seed=seed)
    algo = fit_svd(frame, config.rating, seed=seed)
    rating = RatingModel.from_surprise(algo, data.movie_ids, fold_in_reg=config.rating.fold_in_reg)
    return Recommender(
        movie_ids=data.movie_ids,
        popularity=popularity_scores(data.matrix, config.popularity),
        rating=rating,
        ranker=ranker,
        algorithm=ALGORITHM,
    )
