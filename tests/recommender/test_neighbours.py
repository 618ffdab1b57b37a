from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from surprise import KNNBaseline

from recommender.artifact import ArtifactError
from recommender.dataset import Interactions, TrainingData
from recommender.models.neighbours import ItemNeighbours, NeighbourParams, at_most_per_row
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


def test_a_cap_no_user_exceeds_gives_exactly_the_unbounded_fit():
    data = TrainingData.from_frame(synthetic_ratings(n_users=30, n_movies=40, per_user=12))
    exact = ItemNeighbours(NeighbourParams(stored=10)).fit(data)
    capped = ItemNeighbours(NeighbourParams(stored=10, max_user_ratings=12), seed=9).fit(data)
    np.testing.assert_array_equal(capped.neighbour_index, exact.neighbour_index)
    np.testing.assert_array_equal(capped.neighbour_sim, exact.neighbour_sim)
    np.testing.assert_array_equal(capped.item_bias, exact.item_bias)


def test_a_binding_cap_is_reproducible_with_its_seed_and_drawn_by_it():
    data = TrainingData.from_frame(synthetic_ratings(n_users=30, n_movies=40, per_user=20))
    params = NeighbourParams(stored=10, max_user_ratings=8)
    first, again, other = (ItemNeighbours(params, seed=s).fit(data) for s in (3, 3, 4))
    np.testing.assert_array_equal(again.neighbour_index, first.neighbour_index)
    np.testing.assert_array_equal(again.neighbour_sim, first.neighbour_sim)
    assert not np.array_equal(other.neighbour_sim, first.neighbour_sim)
    # The baselines read every rating whatever the cap.
    np.testing.assert_array_equal(first.item_bias, ItemNeighbours().fit(data).item_bias)


def test_each_row_keeps_at_most_the_cap_of_its_own_entries():
    rng = np.random.default_rng(0)
    matrix = sparse.random(50, 200, density=0.1, format="csr", random_state=rng)
    matrix.data = matrix.data * 5 + 0.5
    counts = np.diff(matrix.indptr)
    cap = int(np.median(counts))
    sampled = at_most_per_row(matrix, cap, seed=1)
    np.testing.assert_array_equal(np.diff(sampled.indptr), np.minimum(counts, cap))
    for row in range(matrix.shape[0]):
        kept = sampled[row].toarray().ravel()
        original = matrix[row].toarray().ravel()
        np.testing.assert_array_equal(kept[kept != 0], original[kept != 0])
        if counts[row] <= cap:
            np.testing.assert_array_equal(kept, original)
    assert sampled.has_sorted_indices
    assert at_most_per_row(matrix, None, seed=1) is matrix
    assert at_most_per_row(matrix, int(counts.max()), seed=1) is matrix


def test_a_user_with_many_ratings_contributes_pairs_among_at_most_the_cap():
    """Three users rate every one of 100 movies: unbounded, most movies get neighbours; capped
    at 20 ratings each, only the movies some user's sample holds can have a positive one."""
    rng = np.random.default_rng(4)
    movies = 100
    frame = pd.DataFrame(
        {
            "user_id": np.repeat([1, 2, 3], movies),
            "movie_id": np.tile(np.arange(1, movies + 1), 3),
            "rating": rng.integers(1, 11, 3 * movies) / 2,
            "timestamp": 0,
        }
    ).astype({"rating": "float32"})
    data = TrainingData.from_frame(frame)
    params = NeighbourParams(stored=5, shrinkage=0.0)

    def listed(model: ItemNeighbours) -> int:
        return int((model.neighbour_sim[:, 0] > 0).sum())

    assert listed(ItemNeighbours(params).fit(data)) > 3 * 20
    capped = ItemNeighbours(replace(params, max_user_ratings=20), seed=2).fit(data)
    assert 0 < listed(capped) <= 3 * 20


@pytest.mark.parametrize("cap", [1, 0, -5])
def test_a_cap_below_two_ratings_is_refused(cap: int):
    with pytest.raises(ValueError, match="max_user_ratings must be at least 2"):
        NeighbourParams(max_user_ratings=cap)
    stored = ItemNeighbours(NeighbourParams(stored=4)).fit(TrainingData.from_frame(TINY))
    meta = stored.to_arrays("")
    params = {**meta.meta["params"], "max_user_ratings": cap}
    with pytest.raises(ArtifactError, match="max_user_ratings must be at least 2"):
        ItemNeighbours.from_arrays(meta.arrays, {**meta.meta, "params": params}, "")


def test_one_reading_of_the_lists_gives_each_sets_term_and_the_estimate():
    """``estimate_and_term`` (the blend's one reading of the lists) equals ``estimate`` and
    ``term`` called apart, exactly, with the second set's movies in another order."""
    frame = synthetic_ratings(n_users=40, n_movies=30, per_user=15, seed=3)
    data = TrainingData.from_frame(frame)
    model = ItemNeighbours(NeighbourParams(neighbours=5, stored=10)).fit(data)
    rows = frame[frame["user_id"] == frame["user_id"].iloc[0]]
    items = np.searchsorted(data.movie_ids, rows["movie_id"].to_numpy())
    ratings = rows["rating"].to_numpy(np.float32)
    order = np.random.default_rng(0).permutation(len(items))
    residuals = np.random.default_rng(1).normal(size=len(items))
    targets = np.arange(model.n_movies)
    estimate, term = model.estimate_and_term(
        items, ratings, targets, residuals[order], items[order]
    )
    np.testing.assert_array_equal(estimate, model.estimate(items, ratings, targets))
    np.testing.assert_array_equal(term, model.term(items, residuals, targets))
    assert np.abs(term).max() > 0
    both = model.terms([(items, residuals), (items[order], 2 * residuals[order])], targets)
    np.testing.assert_allclose(both[1], 2 * both[0], rtol=1e-12, atol=0)
