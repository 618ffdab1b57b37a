"""ALS rating model: the sweeps against a per-row reference, what it learns, bad hyper-parameters,
and the served configuration switching to it above the size threshold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommender.artifact import ArtifactError, catalog_fingerprint
from recommender.dataset import TrainingData, index_of, per_user, random_holdout, split_rows
from recommender.models.als import ALSParams, ALSRating
from recommender.models.puresvd import PureSVDParams
from recommender.serving import Recommender, UserRatings
from recommender.training import SCALE_ALGORITHM, ServedConfig, fit_recommender
from tests.recommender.synthetic import synthetic_ratings

PARAMS = ALSParams(factors=3, epochs=4, user_bias_reg=2.0, user_factor_reg=3.0)


def reference_als(data: TrainingData, params: ALSParams, seed: int) -> np.ndarray:
    """ALS written out row by row with ``lstsq`` on the ridge-augmented system: item side
    ``[bias, factors]`` after ``params.epochs`` sweeps from the model's seeded start."""
    matrix = data.matrix.tocsr().astype(np.float64)
    mu = matrix.data.mean()
    n_users, n_items = matrix.shape
    k = params.factors
    items = np.zeros((n_items, k + 1))
    items[:, 1:] = np.random.default_rng(seed).normal(0.0, 0.1, (n_items, k))
    users = np.zeros((n_users, k + 1))

    def ridge(design: np.ndarray, target: np.ndarray, bias_reg: float, reg: float) -> np.ndarray:
        root = np.sqrt(np.diag([bias_reg, *([reg] * k)]))
        stacked = np.vstack([design, root])
        return np.linalg.lstsq(stacked, np.concatenate([target, np.zeros(k + 1)]), rcond=None)[0]

    by_item = matrix.T.tocsr()
    for _ in range(params.epochs):
        for u in range(n_users):
            cols = matrix.indices[matrix.indptr[u] : matrix.indptr[u + 1]]
            values = matrix.data[matrix.indptr[u] : matrix.indptr[u + 1]]
            design = np.column_stack([np.ones(len(cols)), items[cols, 1:]])
            target = values - mu - items[cols, 0]
            users[u] = ridge(design, target, params.user_bias_reg, params.user_factor_reg)
        for i in range(n_items):
            rows = by_item.indices[by_item.indptr[i] : by_item.indptr[i + 1]]
            values = by_item.data[by_item.indptr[i] : by_item.indptr[i + 1]]
            design = np.column_stack([np.ones(len(rows)), users[rows, 1:]])
            target = values - mu - users[rows, 0]
            items[i] = ridge(design, target, params.item_bias_reg, params.item_factor_reg)
    return items


def test_sweeps_match_the_row_by_row_reference() -> None:
    frame = synthetic_ratings(n_users=30, n_movies=25, per_user=10, seed=4)
    data = TrainingData.from_frame(frame, np.union1d(frame["movie_id"], [5]))
    model = ALSRating(PARAMS, seed=3).fit(data)
    expected = reference_als(data, PARAMS, seed=3)
    np.testing.assert_allclose(model.item_bias, expected[:, 0], atol=1e-9)
    np.testing.assert_allclose(model.item_factors, expected[:, 1:], atol=1e-9)
    assert model.known.tolist() == (np.diff(data.matrix.tocsc().indptr) > 0).tolist()
    assert (model.bias_reg, model.factor_reg) == (2.0, 3.0)


def test_held_out_ratings_beat_the_movie_baseline() -> None:
    """On rank-3 data, users folded in from their training ratings predict held-out ratings
    better than the global mean plus movie bias alone (the model without factors)."""
    frame = synthetic_ratings(n_users=200, n_movies=60, per_user=30, seed=5)
    train, test = split_rows(frame, random_holdout(len(frame), 0.2, 1))
    data = TrainingData.from_frame(train, np.unique(frame["movie_id"]))
    model = ALSRating(ALSParams(factors=3, epochs=10), seed=1).fit(data)
    errors, baseline = [], []
    for rows, movies, ratings, wanted in per_user(train, test):
        items = index_of(data.movie_ids, movies)[0]
        targets = index_of(data.movie_ids, wanted)[0]
        actual = test["rating"].to_numpy()[rows]
        errors.append(model.predict(items, ratings, targets) - actual)
        baseline.append(model.global_mean + model.item_bias[targets] - actual)
    rmse = float(np.sqrt(np.mean(np.concatenate(errors) ** 2)))
    base = float(np.sqrt(np.mean(np.concatenate(baseline) ** 2)))
    assert rmse < 0.8 * base


@pytest.mark.parametrize(
    "params", [{"factors": 0}, {"epochs": 0}, {"user_bias_reg": 0.0}, {"item_factor_reg": -1.0}]
)
def test_hyper_parameters_out_of_range_are_refused(params: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="above 0"):
        ALSParams(**params)  # type: ignore[arg-type]
    stored = (
        ALSRating(PARAMS, seed=1).fit(TrainingData.from_frame(synthetic_ratings())).to_arrays("")
    )
    meta = {**stored.meta, "params": {**stored.meta["params"], **params}}
    with pytest.raises(ArtifactError, match="above 0"):
        ALSRating.from_arrays(stored.arrays, meta, "")


def _fitted_above_the_threshold(ratings: pd.DataFrame) -> Recommender:
    """The served models fitted just above the size threshold (so ALS rates), with movie 5 in
    the catalog's index only."""
    config = ServedConfig(
        ranker=PureSVDParams(factors=5, beta=0.0, shift=2.0),
        als=ALSParams(factors=4, epochs=4),
        scale_threshold=len(ratings) - 1,
    )
    return fit_recommender(ratings, config, seed=2, catalog_movie_ids=np.array([5]))


def test_above_the_threshold_the_served_rating_model_is_als(tmp_path: Path) -> None:
    ratings: pd.DataFrame = synthetic_ratings()
    fitted = _fitted_above_the_threshold(ratings)
    assert isinstance(fitted.rating, ALSRating)
    assert fitted.algorithm == SCALE_ALGORITHM
    fitted.save(tmp_path, {"catalog_fingerprint": catalog_fingerprint(np.array([5]))})
    loaded = Recommender.load(tmp_path, catalog_movie_ids=np.array([5]))
    user = UserRatings.from_frame(ratings[ratings["user_id"] == 3])
    assert loaded.top_n(user) == fitted.top_n(user)
    np.testing.assert_allclose(
        loaded.predict(user, user.movie_ids), fitted.predict(user, user.movie_ids)
    )
    seed = int(user.movie_ids[0])
    assert loaded.similar(seed, 5) == fitted.similar(seed, 5)
    at_threshold = ServedConfig(scale_threshold=len(ratings))
    assert type(fit_recommender(ratings, at_threshold, seed=2).rating).__name__ == "TemporalBlend"


def test_the_training_rmse_in_one_batch_is_the_user_by_user_fold_in() -> None:
    """``predict_stored`` folds every user in at once: each prediction is ``predict``'s for that
    user, a movie the model never saw (here movie 5, in the index from the catalog only) left
    out of the fold-in and predicted at the user's baseline, as serving does."""
    ratings: pd.DataFrame = synthetic_ratings()
    fitted = _fitted_above_the_threshold(ratings)
    assert 5 not in set(ratings["movie_id"].tolist())
    unseen = pd.DataFrame({"user_id": [3], "movie_id": [5], "rating": [4.0], "timestamp": [1]})
    asked = pd.concat([ratings, unseen], ignore_index=True).astype({"rating": np.float32})
    per_user, observed = [], []
    for _, rows in asked.sort_values(["user_id", "movie_id"]).groupby("user_id"):
        user = UserRatings.from_frame(rows)
        per_user.append(fitted.predict(user, user.movie_ids))
        observed.append(user.ratings)
    matrix = TrainingData.from_frame(asked, fitted.movie_ids).matrix
    np.testing.assert_allclose(
        fitted.rating.predict_stored(matrix), np.concatenate(per_user), rtol=0, atol=1e-9
    )
    errors = np.concatenate(per_user) - np.concatenate(observed)
    assert fitted.training_rmse(asked) == pytest.approx(np.sqrt(np.mean(errors**2)), abs=1e-12)
    elsewhere = unseen.assign(movie_id=999_999)
    with pytest.raises(ValueError, match="in the index"):
        fitted.training_rmse(pd.concat([ratings, elsewhere], ignore_index=True))
