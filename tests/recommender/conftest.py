from __future__ import annotations

import pandas as pd
import pytest

from recommender.models.puresvd import PureSVDParams
from recommender.models.temporal import TemporalParams
from recommender.models.temporal_blend import TemporalBlendParams
from recommender.serving import Recommender
from recommender.training import ServedConfig, fit_recommender
from tests.recommender.synthetic import synthetic_ratings

SMALL = ServedConfig(
    ranker=PureSVDParams(factors=5, beta=0.0, shift=2.0),
    rating=TemporalBlendParams(TemporalParams(factors=5, epochs=6)),
)


@pytest.fixture(scope="session")
def ratings() -> pd.DataFrame:
    return synthetic_ratings()


@pytest.fixture(scope="session")
def model(ratings: pd.DataFrame) -> Recommender:
    return fit_recommender(ratings, SMALL, seed=7)
