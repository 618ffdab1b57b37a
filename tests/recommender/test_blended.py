from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from recommender.comparison import SERVED, holdout, rating_scores
from recommender.dataset import Interactions, TrainingData, random_holdout, split_rows
from recommender.models.blended import BlendedRating, BlendParams
from recommender.models.neighbours import NeighbourParams
from recommender.models.rating import SVDParams
from tests.recommender.conftest import SMALL
from tests.recommender.synthetic import synthetic_ratings

PARAMS = BlendParams(
    neighbours=NeighbourParams(neighbours=10, stored=20),
    bias_regs=(1.0, 5.0),
    factor_regs=(1.0, 10.0),
    svd_reg_alternatives=(),
    neighbour_count_alternatives=(),
)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return synthetic_ratings(n_users=80, n_movies=60, per_user=25, seed=11)


def fitted(frame: pd.DataFrame) -> BlendedRating:
    movie_ids = np.unique(frame["movie_id"])
    blend = BlendedRating(SVDParams(n_factors=5, n_epochs=15), PARAMS, seed=2)
    return blend.fit(TrainingData.from_frame(frame, movie_ids))


def test_weights_are_least_squares_on_the_validation_carve_only(frame: pd.DataFrame):
    model = fitted(frame)
    chosen = model.validation["chosen"]
    assert model.validation["rows"] == len(random_holdout(len(frame), 0.2, 2))
    np.testing.assert_array_equal(model.weights, chosen["weights"])
    assert (model.svd.bias_reg, model.svd.factor_reg) == (chosen["bias_reg"], chosen["factor_reg"])
    # SVD alone is one of the blends least squares could pick, so it cannot do worse there.
    best = min(trial["blend_rmse"] for trial in model.validation["grid"])
    assert chosen["blend_rmse"] == best
    assert best <= chosen["svd_rmse"]
    assert len(model.validation["grid"]) == 4


def test_the_choice_ignores_ratings_outside_the_training_frame(frame: pd.DataFrame):
    """The comparison hands fits the training part only: scrambling the test part's ratings
    changes the test scores but not a single chosen penalty or weight."""
    split = holdout(len(frame), 3)
    scrambled = frame.copy()
    scrambled.loc[scrambled.index[split], "rating"] = 5.5 - frame["rating"].to_numpy()[split]
    config = SMALL
    catalog = np.unique(frame["movie_id"])
    first = rating_scores(frame, split, config, 3, quick=True, catalog_movie_ids=catalog)
    other = rating_scores(scrambled, split, config, 3, quick=True, catalog_movie_ids=catalog)
    assert first.validation == other.validation
    assert first.scores[SERVED] != other.scores[SERVED]


def test_predict_is_the_clipped_weighted_sum_of_the_components(frame: pd.DataFrame):
    model = fitted(frame)
    data = Interactions.from_frame(frame)
    items, values = data.user_row(9)
    targets = np.arange(len(data.movie_ids))
    parts = model.components(items, values, targets)
    expected = np.clip(model.weights[0] + parts @ model.weights[1:], 0.5, 5.0)
    np.testing.assert_allclose(model.predict(items, values, targets), expected)
    assert parts.shape == (len(targets), 2)


def test_too_little_data_serves_the_svd_alone():
    tiny = synthetic_ratings(n_users=6, n_movies=10, per_user=5, seed=1)
    model = fitted(tiny)
    assert model.weights.tolist() == [0.0, 1.0, 0.0]
    assert (model.svd.bias_reg, model.svd.factor_reg) == PARAMS.fallback_regs
    assert model.validation["skipped"] == "too few ratings"


def test_the_validation_carve_is_disjoint_and_seeded(frame: pd.DataFrame):
    held = random_holdout(len(frame), 0.2, 4)
    kept, out = split_rows(frame, held)
    assert len(kept) + len(out) == len(frame)
    assert not set(kept.index) & set(out.index)
    np.testing.assert_array_equal(held, random_holdout(len(frame), 0.2, 4))


def test_the_fit_does_not_depend_on_row_order(frame: pd.DataFrame):
    model, shuffled = fitted(frame), fitted(frame.sample(frac=1.0, random_state=9))
    data = Interactions.from_frame(frame)
    items, values = data.user_row(4)
    targets = np.arange(len(data.movie_ids))
    np.testing.assert_array_equal(model.weights, shuffled.weights)
    np.testing.assert_array_equal(
        model.predict(items, values, targets), shuffled.predict(items, values, targets)
    )


def test_svd_and_neighbour_candidates_are_chosen_on_the_carve_and_served(frame: pd.DataFrame):
    params = replace(PARAMS, svd_reg_alternatives=(0.5,), neighbour_count_alternatives=(3,))
    data = TrainingData.from_frame(frame, np.unique(frame["movie_id"]))
    svd_params = SVDParams(n_factors=5, n_epochs=15)
    model = BlendedRating(svd_params, params, seed=2).fit(data)
    grid, chosen = model.validation["grid"], model.validation["chosen"]
    # 2 SVD candidates x 2 neighbour candidates x 2 x 2 penalties.
    assert len(grid) == 16
    assert {(t["svd"], t["neighbours"]) for t in grid} == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert chosen["blend_rmse"] == min(t["blend_rmse"] for t in grid)
    assert chosen["svd_params"]["reg_all"] == (svd_params.reg_all, 0.5)[chosen["svd"]]
    assert chosen["neighbour_params"]["neighbours"] == (10, 3)[chosen["neighbours"]]
    assert model.neighbours.params.neighbours == chosen["neighbour_params"]["neighbours"]
    # The served SVD is the chosen candidate refitted on every rating of the frame.
    reference = BlendedRating(
        replace(svd_params, reg_all=chosen["svd_params"]["reg_all"]), PARAMS, seed=2
    ).fit(data)
    np.testing.assert_array_equal(model.svd.item_factors, reference.svd.item_factors)
