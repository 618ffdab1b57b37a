from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from surprise import KNNBaseline

from recommender.dataset import Interactions, TrainingData
from recommender.models.neighbours import ItemNeighbours, NeighbourParams
from recommender.models.rating import to_trainset
from tests.recommender.synthetic import synthetic_ratings

TINY = synthetic_ratings(n_users=12, n_movies=15, per_user=8, seed=2)


def reference_predictions(
    frame: pd.DataFrame, model: ItemNeighbours, user: int
) -> dict[int, float]:
    """KNNBaseline written out pair by pair: item biases from the model, the rest by hand.

    Each user's bias is the ALS user step on the final item biases; using it for every user's
    residuals checks that training and serving fold users in the same way."""
    params, mu = model.params, model.global_mean
    movies = np.unique(frame["movie_id"])
    bias_of = dict(zip(movies.tolist(), model.item_bias.tolist(), strict=True))
    rows = {
        u: dict(zip(g["movie_id"], g["rating"], strict=True)) for u, g in frame.groupby("user_id")
    }
    user_bias = {
        u: sum(r - mu - bias_of[m] for m, r in seen.items()) / (params.reg_user + len(seen))
        for u, seen in rows.items()
    }
    residual = {
        (u, m): r - mu - user_bias[u] - bias_of[m] for u, s in rows.items() for m, r in s.items()
    }

    def similarity(i: int, j: int) -> float:
        common = [u for u, seen in rows.items() if i in seen and j in seen]
        products = sum(residual[u, i] * residual[u, j] for u in common)
        own = sum(residual[u, i] ** 2 for u in common)
        theirs = sum(residual[u, j] ** 2 for u in common)
        if not common or own * theirs == 0:
            return 0.0
        shrink = (len(common) - 1) / (len(common) - 1 + params.shrinkage)
        return products / math.sqrt(own * theirs) * shrink

    predictions = {}
    for i in movies.tolist():
        if i in rows[user]:
            continue
        ranked = sorted(((similarity(i, j), j) for j in movies.tolist() if j != i), reverse=True)
        kept = [(s, j) for s, j in ranked[: params.stored] if s > 0 and j in rows[user]]
        kept = kept[: params.neighbours]
        estimate = mu + user_bias[user] + bias_of[i]
        if kept:
            weight = sum(s for s, _ in kept)
            estimate += sum(s * residual[user, j] for s, j in kept) / weight
        predictions[i] = estimate
    return predictions


@pytest.mark.parametrize("user", [1, 6, 12])
def test_sparse_top_k_predictions_equal_a_pair_by_pair_reference(user: int):
    data = Interactions.from_frame(TINY)
    params = NeighbourParams(neighbours=2, stored=4, shrinkage=3.0)
    model = ItemNeighbours(params).fit(TrainingData.from_frame(TINY))
    expected = reference_predictions(TINY, model, user)
    own = TINY[TINY["user_id"] == user]
    items = np.searchsorted(data.movie_ids, own["movie_id"])
    targets = np.searchsorted(data.movie_ids, list(expected))
    predicted = model.estimate(items, own["rating"].to_numpy(), targets)
    # Similarities are stored as float32.
    np.testing.assert_allclose(predicted, list(expected.values()), rtol=1e-6)
    assert model.neighbour_index.shape == (len(data.movie_ids), 4)


def test_keeping_every_neighbour_reproduces_surprise_knnbaseline():
    """With all neighbours kept and the baselines run to convergence, the sparse model is
    surprise's dense KNNBaseline (pearson_baseline) for every unrated (user, movie) pair."""
    frame = synthetic_ratings(n_users=40, n_movies=30, per_user=12, seed=5)
    data = Interactions.from_frame(frame)
    params = NeighbourParams(neighbours=5, stored=len(data.movie_ids) - 1, epochs=200)
    model = ItemNeighbours(params).fit(TrainingData.from_frame(frame))
    algo = KNNBaseline(
        k=5,
        sim_options={"name": "pearson_baseline", "user_based": False, "shrinkage": 100},
        bsl_options={"method": "als", "n_epochs": 200, "reg_u": 15, "reg_i": 10},
        verbose=False,
    ).fit(to_trainset(frame, seed=0))
    for user in (3, 21, 40):
        own = frame[frame["user_id"] == user]
        unrated = np.setdiff1d(data.movie_ids, own["movie_id"])
        items = np.searchsorted(data.movie_ids, own["movie_id"])
        predicted = model.estimate(
            items, own["rating"].to_numpy(), np.searchsorted(data.movie_ids, unrated)
        )
        expected = [algo.predict(user, int(m), clip=False).est for m in unrated]
        np.testing.assert_allclose(predicted, expected, atol=1e-6)


def test_memory_is_linear_in_movies():
    data = TrainingData.from_frame(synthetic_ratings(n_users=50, n_movies=70, per_user=20))
    model = ItemNeighbours(NeighbourParams(stored=6)).fit(data)
    assert model.neighbour_index.shape == model.neighbour_sim.shape == (len(data.movie_ids), 6)
    padded = model.neighbour_index == len(data.movie_ids)
    assert np.all(model.neighbour_sim[padded] == 0)
    assert np.all(model.neighbour_sim[~padded] > 0)
    assert np.all(np.diff(model.neighbour_sim, axis=1) <= 0)
