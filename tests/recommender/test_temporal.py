"""The time-aware rating model: the exact grouped ridge, the day bias at request time, the
drift held to the user's days, the time bins, and the serving object's use of rating times."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.artifact import ArtifactError
from recommender.dataset import TrainingData
from recommender.models.contract import DAY_SECONDS, TimeAware
from recommender.models.temporal import (
    TemporalFactors,
    TemporalParams,
    deviation,
    group_starts,
    grouped_ridge,
)
from recommender.serving import Recommender, UserRatings
from recommender.training import fit_recommender
from tests.recommender.conftest import SMALL
from tests.recommender.synthetic import synthetic_ratings

PARAMS = TemporalParams(factors=3, epochs=5, bins=4)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """Synthetic ratings spread over about three years, a few per user and day."""
    ratings = synthetic_ratings(n_users=50, n_movies=40, per_user=20, seed=5)
    rng = np.random.default_rng(5)
    ratings["timestamp"] = 1_000_000_000 + rng.integers(0, 1000, len(ratings)) * DAY_SECONDS
    return ratings


@pytest.fixture(scope="module")
def model(frame: pd.DataFrame) -> TemporalFactors:
    return TemporalFactors(PARAMS, seed=3).fit(TrainingData.from_frame(frame))


def test_grouped_ridge_equals_the_ridge_with_a_dummy_per_group():
    rng = np.random.default_rng(0)
    design = rng.normal(size=(12, 3))
    target = rng.normal(size=12)
    groups = np.array([0, 0, 0, 1, 2, 2, 2, 2, 5, 5, 7, 7])
    penalty = np.array([0.5, 2.0, 3.0])
    theta, effects = grouped_ridge(design, target, group_starts(groups), penalty, 4.0)
    dummies = (groups[:, np.newaxis] == np.unique(groups)).astype(np.float64)
    full = np.hstack([design, dummies])
    ridge = np.diag(np.concatenate([penalty, np.full(dummies.shape[1], 4.0)]))
    expected = np.linalg.solve(full.T @ full + ridge, full.T @ target)
    np.testing.assert_allclose(np.concatenate([theta, effects]), expected, atol=1e-12)


def test_a_rating_given_today_moves_todays_predictions_at_once(model: TemporalFactors):
    items, ratings = np.array([0, 1, 2, 3]), np.array([3.0, 3.5, 4.0, 3.0])
    days = np.array([11_600, 11_600, 11_700, 11_800])
    today = 11_900
    targets = np.arange(model.n_movies)
    before = model.predict_at(items, ratings, days, targets, np.full(len(targets), today))
    user = model.fold_in(items, ratings, days)
    assert today not in user.days
    # Today the user rates two movies far below what the model expects of them.
    later = model.fold_in(
        np.append(items, [4, 5]), np.append(ratings, [0.5, 0.5]), [*days, 11_900, 11_900]
    )
    assert today in later.days
    assert later.day_bias[later.days == today][0] < -0.1
    after = model.predict_at(
        np.append(items, [4, 5]),
        np.append(ratings, [0.5, 0.5]),
        np.append(days, [today, today]),
        targets,
        np.full(len(targets), today),
    )
    assert (after[6:] < before[6:]).mean() > 0.9


def test_the_drift_is_held_to_the_days_the_user_rated_on(model: TemporalFactors):
    items, ratings = np.array([0, 1, 2, 3, 4]), np.array([1.0, 1.5, 4.5, 5.0, 5.0])
    days = np.array([11_570, 11_600, 12_300, 12_400, 12_500])
    user = model.fold_in(items, ratings, days)
    assert user.drift != 0.0
    targets = np.arange(model.n_movies)
    later = [model.estimate(user, targets, np.full(len(targets), day)) for day in (13_000, 20_000)]
    # Past the user's last day and the training period, no term of the estimate moves.
    np.testing.assert_array_equal(later[0], later[1])
    assert model.bin_of(np.array([20_000, -5]))[0] == PARAMS.bins - 1
    assert model.bin_of(np.array([20_000, -5]))[1] == 0


def test_deviation_is_signed_and_sublinear():
    np.testing.assert_allclose(
        deviation(np.array([0, 10, 42, 74]), 42.0, 0.5),
        [-np.sqrt(42), -np.sqrt(32), 0.0, np.sqrt(32)],
    )


def test_the_item_bin_biases_are_stored_per_movie_and_bin(model: TemporalFactors):
    assert model.item_bin_bias.shape == (model.n_movies, PARAMS.bins)
    assert np.abs(model.item_bin_bias).sum() > 0
    assert model.bin_days * PARAMS.bins >= 1000


@pytest.mark.parametrize(
    "changes",
    [
        {"factors": 0},
        {"epochs": 0},
        {"bins": 0},
        {"user_day_reg": 0.0},
        {"drift_exponent": 0.0},
        {"drift_exponent": 1.5},
    ],
)
def test_bad_hyper_parameters_are_refused(changes: dict[str, float]):
    with pytest.raises(ValueError, match=r"time effects|drift_exponent"):
        TemporalParams(**{**PARAMS.__dict__, **changes})


def test_a_stored_model_with_a_bad_bin_width_is_refused(model: TemporalFactors):
    stored = model.to_arrays("rating.")
    with pytest.raises(ArtifactError, match="bin_days"):
        TemporalFactors.from_arrays(stored.arrays, {**stored.meta, "bin_days": 0.0}, "rating.")


def test_the_serving_object_predicts_with_the_users_rating_times(
    recommender_with_times: Recommender, frame: pd.DataFrame
):
    rating = recommender_with_times.rating
    assert isinstance(rating, TimeAware)
    rows = frame[frame["user_id"] == 3]
    user = UserRatings.from_frame(rows)
    wanted = recommender_with_times.movie_ids[:8]
    at = int(rows["timestamp"].max())
    served = recommender_with_times.predict(user, wanted, at=at)
    positions = np.searchsorted(recommender_with_times.movie_ids, user.movie_ids)
    direct = rating.predict_at(
        positions,
        user.ratings,
        user.rated_at // DAY_SECONDS,
        np.arange(8),
        np.full(8, at // DAY_SECONDS),
    )
    np.testing.assert_array_equal(served, direct)
    # Ratings without times count as given at the time of the request.
    timeless = UserRatings(user.movie_ids, user.ratings)
    np.testing.assert_array_equal(
        recommender_with_times.predict(timeless, wanted, at=at),
        recommender_with_times.predict(
            UserRatings(user.movie_ids, user.ratings, np.full(len(user.ratings), at)), wanted, at=at
        ),
    )
    # One time per movie is accepted too, and means the same as one time for all.
    np.testing.assert_array_equal(
        recommender_with_times.predict(user, wanted, at=np.full(len(wanted), at)), served
    )


@pytest.fixture(scope="module")
def recommender_with_times(frame: pd.DataFrame) -> Recommender:
    return fit_recommender(frame, SMALL, seed=4)
