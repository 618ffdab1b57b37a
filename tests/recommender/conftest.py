from __future__ import annotations

import pandas as pd
import pytest

from recommender.models.puresvd import PureSVDParams
from recommender.models.rating import SVDParams
from recommender.serving import Recommender
from recommender.training import ServedConfig, fit_recommender
from tests.recommender.synthetic import synthetic_ratings

SMALL = ServedConfig(
    ranker=PureSVDParams(factors=5, beta=0.0, shift=2.0),
    rating=SVDParams(n_factors=5, n_epochs=10),
)


@pytest.fixture(scope="session")
def ratings() -> pd.DataFrame:
    return synthetic_ratings()


@pytest.fixture(scope="session")
def model(ratings: pd.DataFrame) -> Recommender:
    return fit_recommender(ratings, SMALL, seed=7)
