from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data.domain import RATING_SCALE
from recommender.dataset import ID_TABLE_MIN, IdIndex, Interactions, TrainingData, index_of
from recommender.models.puresvd import PureSVD, PureSVDParams
from recommender.models.rating import RatingModel, SVDParams, fit_svd
from recommender.models.temporal import deviation
from recommender.models.temporal_blend import TemporalBlend
from recommender.serving import Recommender, UserRatings
from recommender.training import fit_recommender
from tests.recommender.conftest import SMALL


def user_of(ratings: pd.DataFrame, user_id: int) -> UserRatings:
    return UserRatings.from_frame(ratings[ratings["user_id"] == user_id])


def test_top_n_excludes_rated_movies_and_is_sorted(model: Recommender, ratings: pd.DataFrame):
    user = user_of(ratings, 3)
    top = model.top_n(user, 10)
    ids = [movie for movie, _ in top]
    scores = [score for _, score in top]
    assert len(top) == 10
    assert not set(ids) & set(user.movie_ids.tolist())
    assert scores == sorted(scores, reverse=True)


def test_top_n_keeps_only_allowed_movies(model: Recommender, ratings: pd.DataFrame):
    user = user_of(ratings, 3)
    unrated = np.setdiff1d(model.movie_ids, user.movie_ids)
    allowed = np.concatenate([unrated[:4], user.movie_ids[:3], [999_999]])
    ids = {movie for movie, _ in model.top_n(user, 10, allowed=allowed)}
    assert ids == set(unrated[:4].tolist())


def test_top_n_matches_a_full_sort_of_the_scores(model: Recommender, ratings: pd.DataFrame):
    user = user_of(ratings, 5)
    data = Interactions.from_frame(ratings)
    items = np.searchsorted(data.movie_ids, user.movie_ids)
    scores = model.ranker.scores(items, user.ratings)
    scores[items] = -np.inf
    expected = data.movie_ids[np.argsort(-scores, kind="stable")[:10]]
    assert [movie for movie, _ in model.top_n(user, 10)] == expected.tolist()


def test_top_ids_are_top_n_without_the_excluded_movies(model: Recommender, ratings: pd.DataFrame):
    user = user_of(ratings, 3)
    deep = [movie for movie, _ in model.top_n(user, 60)]
    ids = model.top_ids(user, 50)
    assert ids.dtype == np.int64
    assert ids.tolist() == deep[:50]
    excluded = np.array([deep[0], deep[7], 999_999, user.movie_ids[0]])
    assert (
        model.top_ids(user, 50, excluded=excluded).tolist()
        == [movie for movie in deep if movie not in (deep[0], deep[7])][:50]
    )
    allowed = np.array(deep[:5])
    assert model.top_ids(user, 10, allowed=allowed, excluded=excluded).tolist() == [
        deep[1],
        deep[2],
        deep[3],
        deep[4],
    ]
    assert model.top_ids(user, 0).tolist() == []
    cold = [movie for movie, _ in model.top_n(UserRatings.empty(), 5)]
    assert model.top_ids(UserRatings.empty(), 5).tolist() == cold


def test_users_without_known_ratings_get_the_popularity_ranking(
    model: Recommender, ratings: pd.DataFrame
):
    counts = ratings["movie_id"].value_counts()
    top = model.top_n(UserRatings(np.array([424242]), np.array([4.0], dtype=np.float32)), 5)
    assert [score for _, score in top] == sorted(counts.to_numpy(float), reverse=True)[:5]
    assert model.top_n(UserRatings.empty(), 5) == top


def test_a_new_rating_changes_the_recommendations_at_once(
    model: Recommender, ratings: pd.DataFrame
):
    user = user_of(ratings, 3)
    before = model.top_n(user, 10)
    first = before[0][0]
    updated = UserRatings(np.append(user.movie_ids, first), np.append(user.ratings, 0.5))
    after = model.top_n(updated, 10)
    assert first not in [movie for movie, _ in after]
    assert after != before


def test_puresvd_fold_in_equals_the_trained_user_factor(ratings: pd.DataFrame):
    data = TrainingData.from_frame(ratings)
    params = PureSVDParams(factors=4, beta=0.1, shift=1.0)
    model = PureSVD(params, seed=1).fit(data)
    weighted = data.matrix.astype(np.float64)
    weighted.data -= params.shift
    trained = weighted.multiply(model.column_weights).tocsr() @ model.item_factors
    items, values = data.interactions.user_row(7)
    np.testing.assert_allclose(model.user_factors(items, values), trained[7], rtol=1e-4)


def test_vectorised_svd_component_equals_surprise_predict(ratings: pd.DataFrame):
    """The served SVD component, for trained users, is surprise's own model, movie by movie;
    a catalog movie surprise never saw (id 5) gets its baseline, as surprise's predict does."""
    algo = fit_svd(ratings, SVDParams(n_factors=6, n_epochs=15), seed=3)
    movie_ids = np.unique(np.append(ratings["movie_id"], 5))
    model = RatingModel.from_surprise(algo, movie_ids, bias_reg=1.0, factor_reg=1.0)
    everything = np.arange(len(movie_ids))
    for user_id in (1, 17, 60):
        side = RatingModel.trained_user(algo, user_id)
        expected = [algo.predict(user_id, int(movie)).est for movie in movie_ids]
        estimates = np.clip(model.estimate(side, everything), *RATING_SCALE.bounds)
        np.testing.assert_allclose(estimates, expected, rtol=1e-12)


def test_predict_is_clipped_and_nan_for_unknown_movies(model: Recommender, ratings: pd.DataFrame):
    predicted = model.predict(user_of(ratings, 2), np.append(model.movie_ids, 999_999))
    assert np.isnan(predicted[-1])
    assert np.all((predicted[:-1] >= 0.5) & (predicted[:-1] <= 5.0))


def test_fold_in_tracks_the_users_own_ratings(model: Recommender, ratings: pd.DataFrame):
    user = user_of(ratings, 4)
    error = model.predict(user, user.movie_ids) - user.ratings
    baseline = model.rating.global_mean - user.ratings
    assert np.sqrt(np.mean(error**2)) < np.sqrt(np.mean(baseline**2))


def test_similar_movies_exclude_the_movie_itself(model: Recommender):
    movie = int(model.movie_ids[0])
    similar = model.similar(movie, 5)
    assert len(similar) == 5
    assert movie not in similar
    assert model.similar(999_999) == []


def reference_similar(model: Recommender, movie_id: int) -> list[int]:
    """The served ranking written out plainly: the stored neighbours in order, then every other
    trained movie by descending cosine of the PureSVD item factors."""
    position = int(np.searchsorted(model.movie_ids, movie_id))
    index = model.rating.neighbours.neighbour_index[position]
    listed = [int(i) for i in index if i < len(model.movie_ids)]
    factors = model.ranker.item_factors.astype(np.float64)
    unit = factors / np.linalg.norm(factors, axis=1, keepdims=True)
    cosine = unit @ unit[position]
    rest = [
        int(i)
        for i in np.argsort(-cosine, kind="stable")
        if i != position and i not in listed and model.rating.known[i]
    ]
    return [int(model.movie_ids[i]) for i in listed + rest]


def test_similar_lists_the_neighbours_then_fills_by_factor_cosine(ratings: pd.DataFrame):
    model = fit_recommender(ratings, SMALL, seed=7, catalog_movie_ids=np.array([5]))
    lengths = (model.rating.neighbours.neighbour_index < len(model.movie_ids)).sum(axis=1)
    short = int(model.movie_ids[np.argmin(np.where(model.rating.known, lengths, 10**6))])
    long = int(model.movie_ids[np.argmax(lengths)])
    trained = model.movie_ids[model.rating.known]
    # One list too short for n=3 (the cosine fill ranks), one long enough (the list alone).
    assert lengths[model.rating.known].min() < 3 <= lengths.max() < trained.size - 1
    for movie in (short, long):
        expected = reference_similar(model, movie)
        assert len(expected) == trained.size - 1
        assert model.similar(movie, 3) == expected[:3]
        everything = model.similar(movie, len(model.movie_ids))
        assert everything == expected
        assert movie not in everything
        assert 5 not in everything


def test_popularity_fallback_serves_every_call(ratings: pd.DataFrame):
    fallback = Recommender.popularity(ratings)
    assert (fallback.kind, fallback.algorithm) == ("popularity", "popularity-count")
    user = user_of(ratings, 3)
    top = [movie for movie, _ in fallback.top_n(user, 5)]
    assert not set(top) & set(user.movie_ids.tolist())
    assert fallback.similar(int(fallback.movie_ids[0])) == []
    assert np.isfinite(fallback.predict(user, fallback.movie_ids[:3])).all()


def test_popularity_fallback_rejects_a_frame_without_ratings_columns():
    with pytest.raises(ValueError, match="lacks columns"):
        Recommender.popularity(pd.DataFrame({"user_id": [1]}))


def test_cold_start_serves_the_popularity_rankings_movie_ids(
    model: Recommender, ratings: pd.DataFrame
):
    cold = [movie for movie, _ in model.top_n(UserRatings.empty(), 10)]
    fallback = Recommender.popularity(ratings).top_n(UserRatings.empty(), 10)
    assert cold == [movie for movie, _ in fallback]
    counts = ratings["movie_id"].value_counts()
    assert counts[cold].min() >= counts.drop(cold).max()


def test_a_catalog_movie_nobody_rated_gets_a_baseline_but_is_never_recommended(
    ratings: pd.DataFrame,
):
    model = fit_recommender(ratings, SMALL, seed=7, catalog_movie_ids=np.array([5]))
    users = [user_of(ratings, 3), user_of(ratings, 8)]
    predicted = np.array([model.predict(user, np.array([5, 999_999])) for user in users])
    assert np.isnan(predicted[:, 1]).all()
    assert np.all((predicted[:, 0] >= 0.5) & (predicted[:, 0] <= 5.0))
    assert predicted[0, 0] != predicted[1, 0]
    ranked = [movie for movie, _ in model.top_n(users[0], len(model.movie_ids))]
    assert 5 not in ranked
    assert len(ranked) == len(model.movie_ids) - 1 - len(users[0].movie_ids)
    assert model.similar(5) == []
    assert 5 not in model.similar(int(model.movie_ids[1]), len(model.movie_ids))


def test_fold_in_solves_the_penalised_least_squares_problem(model: Recommender):
    """The served fold-in is the exact ridge fit with one dummy per day: at its solution the
    gradient of the penalised squared error is zero in every parameter, day biases included."""
    rating = model.rating
    assert isinstance(rating, TemporalBlend)
    temporal = rating.temporal
    items = np.array([0, 3, 4, 9, 11, 12])
    ratings = np.array([4.0, 2.5, 5.0, 3.0, 1.0, 3.5])
    days = np.array([12_000, 12_000, 12_400, 12_401, 12_401, 12_401])
    params = temporal.params
    user = temporal.fold_in(items, ratings, days)
    error = temporal.estimate(user, items, days) - ratings
    drift = deviation(days, user.mean_day, params.drift_exponent)
    assert error.sum() + params.user_bias_reg * user.bias == pytest.approx(0.0, abs=1e-9)
    assert drift @ error + params.user_drift_reg * user.drift == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_allclose(
        temporal.item_factors[items].T @ error + params.user_factor_reg * user.factors,
        0.0,
        atol=1e-9,
    )
    np.testing.assert_array_equal(user.days, [12_000, 12_400, 12_401])
    for day, bias in zip(user.days, user.day_bias, strict=True):
        assert error[days == day].sum() + params.user_day_reg * bias == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    "sorted_ids",
    [
        np.array([1, 2, 5, 193_609]),  # a table (MovieLens-like ids)
        np.array([0, 7, ID_TABLE_MIN + 5]),  # too sparse for a table: the binary search
        np.array([-3, 4, 9]),  # a negative id: the binary search
        np.array([], dtype=np.int64),
    ],
)
def test_the_id_index_finds_what_index_of_finds(sorted_ids: np.ndarray):
    """Present ids get their position, and every other id (absent, negative, past the last,
    past the table) is marked absent with a valid position, the table or not."""
    asked = np.concatenate([sorted_ids, [-1, 3, 6, 193_610, ID_TABLE_MIN + 6, 2**40]])
    positions, present = IdIndex(sorted_ids)(asked)
    expected_positions, expected_present = index_of(sorted_ids, asked)
    np.testing.assert_array_equal(present, expected_present)
    np.testing.assert_array_equal(positions[present], expected_positions[expected_present])
    assert positions.dtype == np.int64
    if len(sorted_ids):
        assert positions.min() >= 0
        assert positions.max() < len(sorted_ids)


def test_the_serving_object_looks_movies_up_by_table(model: Recommender, ratings: pd.DataFrame):
    """The fitted index is dense enough for a table, and predictions through it are those of
    the movies' positions found by binary search."""
    assert model._index_of._table is not None
    user = user_of(ratings, 3)
    wanted = np.concatenate([model.movie_ids[:5], [-1, model.movie_ids[-1] + 1]])
    predicted = model.predict(user, wanted)
    assert np.isnan(predicted[5:]).all()
    assert not np.isnan(predicted[:5]).any()
