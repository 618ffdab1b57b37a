"""The rating role served above the size threshold: ALS, with neighbour lists for similar."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommender.models.als import ALSParams
from recommender.models.als_listed import ALSWithNeighbourLists
from recommender.models.puresvd import PureSVDParams
from recommender.training import ServedConfig, fit_recommender
from tests.recommender.synthetic import synthetic_ratings


def test_above_the_threshold_similar_movies_come_from_capped_neighbour_lists() -> None:
    ratings: pd.DataFrame = synthetic_ratings()
    config = ServedConfig(
        ranker=PureSVDParams(factors=5, beta=0.0, shift=2.0),
        als=ALSParams(factors=4, epochs=4),
        scale_threshold=len(ratings) - 1,
        scale_neighbour_cap=10,
    )
    fitted = fit_recommender(ratings, config, seed=2)
    rating = fitted.rating
    assert isinstance(rating, ALSWithNeighbourLists)
    assert rating.neighbours.params.max_user_ratings == 10
    assert rating.neighbours.params.stored == config.scale_neighbours.stored
    listed = rating.neighbour_lists()
    movie = int(np.argmax((listed < len(fitted.movie_ids)).sum(axis=1)))
    expected = listed[movie][listed[movie] < len(fitted.movie_ids)][:5]
    similar = fitted.similar(int(fitted.movie_ids[movie]), 5)
    assert similar == fitted.movie_ids[expected].tolist()
