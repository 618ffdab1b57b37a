from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommender.comparison import SERVED, SERVED_COMPONENTS, holdout, served_predictions
from recommender.dataset import split_rows
from recommender.evaluate import rmse_mae
from recommender.training import ServedConfig, fit_recommender


@pytest.mark.movielens
def test_the_served_blend_beats_each_of_its_components_on_movielens(movielens_dir: Path):
    """One 80/20 split of ml-latest-small (about 15 s): the blend must earn its place."""
    frame = pd.read_csv(movielens_dir / "ratings.csv").rename(
        columns={"userId": "user_id", "movieId": "movie_id"}
    )
    train, test = split_rows(frame, holdout(len(frame), 42))
    catalog = np.unique(frame["movie_id"])
    model = fit_recommender(train, ServedConfig(), seed=42, catalog_movie_ids=catalog)
    rmse = {
        name: rmse_mae(predicted, test["rating"])[0]
        for name, predicted in served_predictions(model, train, test).items()
    }
    assert rmse[SERVED] < min(rmse[name] for name in SERVED_COMPONENTS)
