"""The time-aware rating model: the exact grouped ridge, the day bias at request time, the
drift held to the user's days, the time bins, and the serving object's use of rating times."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from recommender.artifact import ArtifactError
from recommender.dataset import TrainingData
from recommender.models.contract import DAY_SECONDS, TimeAware, clip_to_scale
from recommender.models.temporal import (
    TemporalFactors,
    TemporalParams,
    UserTime,
    day_order,
    deviation,
    group_counts,
    group_starts,
    group_sums,
    grouped_ridge,
)
from recommender.models.temporal_blend import TemporalBlend
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
    groups = np.array([0, 0, 0, 1, 2, 2, 2, 2, 5, 5, 7, 7])
    starts = group_starts(groups)
    # Two columns constant within each group (one row per group), three that vary by row.
    per_group = np.column_stack([np.ones(len(starts)), rng.normal(size=len(starts))])
    design = rng.normal(size=(12, 3))
    target = rng.normal(size=12)
    penalty = np.array([0.5, 1.5, 2.0, 3.0, 0.7])
    theta, effects = grouped_ridge(per_group, design, target, starts, penalty, 4.0)
    owner = np.searchsorted(np.unique(groups), groups)
    dummies = (groups[:, np.newaxis] == np.unique(groups)).astype(np.float64)
    full = np.hstack([per_group[owner], design, dummies])
    ridge = np.diag(np.concatenate([penalty, np.full(dummies.shape[1], 4.0)]))
    expected = np.linalg.solve(full.T @ full + ridge, full.T @ target)
    np.testing.assert_allclose(np.concatenate([theta, effects]), expected, atol=1e-12)


def test_group_sums_add_each_groups_rows():
    rows = np.arange(24, dtype=np.float64).reshape(8, 3) ** 1.5
    starts = np.array([0, 1, 4, 5])
    np.testing.assert_allclose(
        group_sums(rows, starts), np.add.reduceat(rows, starts, axis=0), rtol=1e-15
    )
    np.testing.assert_array_equal(group_sums(rows, np.array([0])), rows.sum(axis=0, keepdims=True))


def dummy_per_day_fold_in(
    model: TemporalFactors, items: np.ndarray, ratings: np.ndarray, days: np.ndarray
) -> UserTime:
    """The fold-in by its definition: one dense ridge over every rating with a column of 1, the
    drift, the movie factors and one dummy per day (what the served fold-in computed per rating
    before it kept the constant columns per day)."""
    params = model.params
    unique_days = np.unique(days)
    mean_day = float(days.mean())
    dummies = (days[:, np.newaxis] == unique_days).astype(np.float64)
    full = np.column_stack(
        [
            np.ones(len(items)),
            deviation(days, mean_day, params.drift_exponent),
            model.item_factors[items],
            dummies,
        ]
    )
    k = model.item_factors.shape[1]
    penalty = [params.user_bias_reg, params.user_drift_reg] + [params.user_factor_reg] * k
    ridge = np.diag(penalty + [params.user_day_reg] * len(unique_days))
    target = (
        ratings
        - model.global_mean
        - model.item_bias[items]
        - model.item_bin_bias[items, model.bin_of(days)]
    )
    theta = np.linalg.solve(full.T @ full + ridge, full.T @ target)
    order = np.argsort(days, kind="stable")
    return UserTime(
        theta[0],
        theta[1],
        theta[2 : k + 2],
        mean_day,
        int(days.min()),
        int(days.max()),
        unique_days,
        theta[k + 2 :],
        items[order],
        np.zeros(len(items)),
    )


def users_with_days(
    frame: pd.DataFrame, movie_ids: np.ndarray, count: int
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(movie indices, ratings, days) of the first ``count`` users of ``frame``, each twice:
    with their days, and with the days cut to 100-day steps so that several ratings share a
    day (the day biases then pool them)."""
    users = []
    for _, rows in list(frame.groupby("user_id"))[:count]:
        items = np.searchsorted(movie_ids, rows["movie_id"].to_numpy())
        days = rows["timestamp"].to_numpy() // DAY_SECONDS
        for step in (1, 100):
            users.append((items, rows["rating"].to_numpy(np.float64), days // step * step))
    return users


def test_the_fold_in_equals_the_ridge_with_a_dummy_per_day(
    model: TemporalFactors, frame: pd.DataFrame
):
    data = TrainingData.from_frame(frame)
    for items, ratings, days in users_with_days(frame, data.movie_ids, 20):
        user = model.fold_in(items, ratings, days)
        expected = dummy_per_day_fold_in(model, items, ratings, days)
        for name in ("bias", "drift", "factors", "mean_day", "days", "day_bias", "items"):
            np.testing.assert_allclose(
                getattr(user, name), getattr(expected, name), rtol=0, atol=1e-9, err_msg=name
            )
        # Each rating's residual is the rating less the baseline of its day.
        order = np.argsort(days, kind="stable")
        np.testing.assert_allclose(
            user.residuals,
            ratings[order] - model.baseline(user, items[order], days[order]),
            rtol=0,
            atol=1e-12,
        )


def test_the_served_blend_equals_its_definition(
    recommender_with_times: Recommender, frame: pd.DataFrame
):
    """The blend's predictions from the fast fold-in equal those computed from the dense
    per-day ridge, the time-aware baseline and the two neighbour estimates, to round-off."""
    blend = recommender_with_times.rating
    assert isinstance(blend, TemporalBlend)
    temporal, neighbours = blend.temporal, blend.neighbours
    targets = np.arange(blend.n_movies)
    for items, ratings, days in users_with_days(frame, recommender_with_times.movie_ids, 20):
        # Some predictions on the user's own days (their day bias counts), some later.
        target_days = np.where(targets % 2 == 0, days.max() + 30, days[targets % len(days)])
        user = dummy_per_day_fold_in(temporal, items, ratings, days)
        parts = np.column_stack(
            [
                temporal.estimate(user, targets, target_days),
                neighbours.estimate(items, ratings, targets),
                neighbours.term(items, ratings - temporal.baseline(user, items, days), targets),
            ]
        )
        expected = clip_to_scale(blend.weights[0] + parts @ blend.weights[1:])
        served = blend.predict_at(items, ratings, days, targets, target_days)
        np.testing.assert_allclose(served, expected, rtol=0, atol=1e-9)


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
    rng = np.random.default_rng(3)
    items = rng.integers(0, model.n_movies, 50)
    bins = rng.integers(0, PARAMS.bins, 50)
    np.testing.assert_array_equal(model.bin_biases(items, bins), model.item_bin_bias[items, bins])


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


@pytest.mark.parametrize("span", [1, 400, 2**16 - 1, 2**16, 10**6])
def test_day_order_is_the_stable_sort_order(span: int):
    """Whether the days fit the 16-bit radix sort (span below 2**16) or not, ties keep their
    order: the fold-in's residuals come out in the same order either way."""
    rng = np.random.default_rng(span)
    days = 11_000 + rng.integers(0, span, 3_000)
    days[:5] = days[0]  # ties
    np.testing.assert_array_equal(day_order(days), np.argsort(days, kind="stable"))


def test_group_counts_are_the_sizes_of_the_runs():
    keys = np.array([3, 3, 3, 5, 8, 8, 9])
    starts = group_starts(keys)
    np.testing.assert_array_equal(group_counts(starts, len(keys)), [3, 1, 2, 1])
    assert len(group_counts(group_starts(np.zeros(0)), 0)) == 0


def test_the_fold_in_leaves_out_movies_the_model_never_saw(model: TemporalFactors):
    """A movie without training ratings moves nothing: the fold-in with it equals the fold-in
    without it (the blend hands over known movies only, so this path is the direct call's)."""
    known = np.flatnonzero(model.known)[:6]
    unseen = replace(model, known=np.where(np.arange(model.n_movies) == known[2], False, True))
    items = known
    ratings = np.array([4.0, 3.0, 1.0, 5.0, 2.5, 3.5])
    days = np.array([11_600, 11_600, 11_650, 11_700, 11_700, 11_800])
    user = unseen.fold_in(items, ratings, days)
    rest = np.arange(6) != 2
    expected = unseen.fold_in(items[rest], ratings[rest], days[rest])
    for name in ("bias", "drift", "factors", "day_bias", "items", "residuals"):
        np.testing.assert_array_equal(getattr(user, name), getattr(expected, name), err_msg=name)
