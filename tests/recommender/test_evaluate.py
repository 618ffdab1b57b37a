from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from recommender.comparison import (
    CAPPED_ROW,
    SCALE_SIMILAR,
    SplitScores,
    holdout,
    paired_user_mse,
    random_folds,
    run_comparison,
)
from recommender.evaluate import (
    RankingTask,
    SimilarTask,
    activity_buckets,
    exposure,
    latest_rows,
    paired_difference,
    per_user_squared_error,
    ranking_metrics,
    relevant_items,
    temporal_split,
    top_k_rows,
)
from recommender.report import to_markdown
from recommender.training import ServedConfig
from tests.recommender.synthetic import synthetic_ratings


def test_temporal_split_holds_out_each_users_latest_fifth():
    frame = pd.DataFrame(
        {
            "user_id": [1] * 5 + [2] * 3,
            "movie_id": [10, 11, 12, 13, 14, 10, 11, 12],
            "rating": [4.0] * 8,
            "timestamp": [5, 4, 3, 2, 1, 7, 9, 8],
        }
    )
    train, test = temporal_split(frame)
    assert test.groupby("user_id")["movie_id"].apply(list).to_dict() == {1: [10], 2: [11]}
    assert len(train) == 6


def test_ranking_metrics_on_a_hand_checked_list():
    relevant = relevant_items(
        pd.DataFrame({"user_id": [1, 1, 2], "movie_id": [7, 8, 9], "rating": [4.0, 3.5, 2.0]})
    )
    assert list(relevant) == [1]
    scores = ranking_metrics({1: np.array([5, 7, 6])}, relevant, n_movies=30)
    assert scores.precision == pytest.approx(0.1)
    assert scores.recall == pytest.approx(1.0)
    assert scores.ndcg == pytest.approx(1 / np.log2(3))
    assert scores.map == pytest.approx(0.5)
    assert scores.coverage == pytest.approx(0.1)
    assert scores.hit_rate == pytest.approx(1.0)


def frame_of(rows: list[tuple[int, int, float, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["user_id", "movie_id", "rating", "timestamp"])


def test_item_to_item_metrics_on_a_hand_checked_case():
    train = frame_of(
        [
            (1, 10, 5.0, 1),
            (1, 20, 4.0, 2),
            (1, 30, 3.0, 3),  # later, but not liked: user 1's seed is 20
            (2, 10, 4.5, 1),
            (2, 40, 2.0, 2),
            (3, 30, 2.0, 1),  # nothing liked: no seed, left out
            (4, 50, 3.0, 1),
            (4, 60, 3.0, 1),
        ]
    )
    test = frame_of([(1, 50, 4.0, 9), (1, 60, 5.0, 9), (2, 60, 4.0, 9), (3, 50, 5.0, 9)])
    task = SimilarTask.from_ranking(RankingTask.from_split(train, test), train)
    assert task.seeds.tolist() == [20, 10]
    lists = {20: [10, 60, 40, 50], 10: [40, 30, 50]}
    skipped = {}

    def method(seed: int, skip: np.ndarray) -> np.ndarray:
        skipped[seed] = sorted(skip.tolist())
        return np.array([movie for movie in lists[seed] if movie not in skip])

    scores = task.metrics(task.recommend(method))
    assert skipped == {20: [10, 20, 30], 10: [10, 40]}
    # User 1 gets [60, 40, 50] for relevant {50, 60}; user 2 gets [30, 50] for {60}: no hit.
    ndcg_user_1 = (1 + 1 / np.log2(4)) / (1 + 1 / np.log2(3))
    assert scores["users"] == 2
    assert scores["hit_rate"] == pytest.approx(0.5)
    assert scores["ndcg"] == pytest.approx(ndcg_user_1 / 2)
    assert scores["coverage"] == pytest.approx(4 / 6)
    # Training counts of the five listed movies: 60, 40, 50 once each; 30 twice; 50 again.
    assert scores["mean_popularity"] == pytest.approx(6 / 5)


def test_top_k_rows_skips_excluded_cells():
    scores = np.array([[0.9, 0.8, 0.1, 0.5]])
    exclude = np.array([[True, False, False, False]])
    assert top_k_rows(scores, exclude, k=2).tolist() == [[1, 3]]


def test_top_k_rows_of_a_catalog_smaller_than_k_is_every_column_best_first():
    scores = np.array([[0.1, 0.9, 0.5]])
    assert top_k_rows(scores, np.zeros_like(scores, dtype=bool), k=10).tolist() == [[1, 2, 0]]


def without_timings(value: Any) -> Any:
    """The evaluation output minus wall-clock fit times, the one thing a seed cannot fix."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if not k.startswith("seconds")}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def test_the_same_seed_gives_the_same_evaluation():
    frame = synthetic_ratings(n_users=40, n_movies=50, per_user=20, seed=8)
    first = run_comparison(frame, seed=5, quick=True)
    again = run_comparison(frame.copy(), seed=5, quick=True)
    other = run_comparison(frame, seed=6, quick=True)
    assert without_timings(first) == without_timings(again)
    assert without_timings(first) != without_timings(other)
    tables = [to_markdown(r, command="c").splitlines() for r in (first, again)]
    rows = [[line.rsplit("|", 2)[0] for line in table] for table in tables]
    assert rows[0] == rows[1]


def test_the_80_20_test_part_is_not_a_cv_fold():
    """Both used to cut one permutation, so the 80/20 test part was the last fold; drawn from
    independent streams, it shares about a fifth of its rows with each fold."""
    n = 10_000
    test = set(holdout(n, 42).tolist())
    for fold in random_folds(n, 5, 42):
        shared = len(test & set(fold.tolist())) / len(test)
        assert 0.15 < shared < 0.25
    assert sorted(np.concatenate(random_folds(n, 5, 42)).tolist()) == list(range(n))


def test_latest_rows_are_each_users_latest_fifth_in_the_frames_own_order():
    rows = [(1, 10, 4.0, 5), (2, 10, 4.0, 1), (1, 11, 4.0, 1), (1, 12, 3.0, 2)]
    frame = frame_of([*rows, (1, 13, 4.0, 3), (1, 14, 4.0, 4)])
    # User 1 has five ratings, the latest (time 5) is row 0; user 2's single rating is test too.
    assert latest_rows(frame).tolist() == [0, 1]
    train, test = temporal_split(frame)
    assert sorted(zip(test["user_id"], test["movie_id"], strict=True)) == [(1, 10), (2, 10)]
    assert len(train) == 4


def test_exposure_on_a_hand_checked_case():
    counts = np.array([5, 3, 1, 0])
    seen = exposure(np.array([0, 0, 1, 0]), counts, n_users=8)
    assert seen["distinct"] == 2
    # The 100 most-rated are every movie here.
    assert seen["top100_share"] == pytest.approx(1.0)
    # Slots per movie sorted (0, 0, 1, 3): Gini = sum((2i - n - 1) x_i) / (n sum x).
    assert seen["gini"] == pytest.approx(((1 * 1) + (3 * 3)) / (4 * 4))
    assert seen["novelty"] == pytest.approx((3 * -np.log2(5 / 8) - np.log2(3 / 8)) / 4)
    assert exposure(np.array([0, 1, 2, 3]), counts, n_users=8)["gini"] == pytest.approx(0.0)


def test_activity_buckets_split_users_by_training_ratings():
    per_user = {"ndcg": np.array([1.0, 0.0, 0.5, 0.25]), "precision": np.zeros(4)}
    buckets = activity_buckets(per_user, np.array([3, 20, 21, 500]))
    assert buckets["<=20"] == {"users": 2, "ndcg": 0.5, "precision": 0.0}
    assert buckets["21-100"]["ndcg"] == 0.5
    assert buckets[">100"] == {"users": 1, "ndcg": 0.25, "precision": 0.0}


def test_paired_difference_is_the_mean_difference_with_a_t_interval():
    served, previous = np.array([0.5, 0.7, 0.2, 0.4]), np.array([0.4, 0.5, 0.2, 0.1])
    pair = paired_difference(served, previous)
    differences = served - previous
    half = stats.t.ppf(0.975, 3) * differences.std(ddof=1) / 2
    assert pair["users"] == 4
    assert pair["mean"] == pytest.approx(0.15)
    assert (pair["low"], pair["high"]) == pytest.approx((0.15 - half, 0.15 + half))
    assert paired_difference(served, served)["mean"] == 0.0


def test_per_user_squared_error_averages_within_each_user():
    errors = per_user_squared_error(np.array([7, 3, 7]), np.array([1.0, 2.0, 4.0]), np.ones(3))
    assert errors.tolist() == [1.0, 4.5]


def test_the_report_holds_exposure_buckets_and_the_paired_comparison():
    frame = synthetic_ratings(n_users=40, n_movies=50, per_user=20, seed=8)
    results = run_comparison(frame, seed=5, quick=True)
    served = next(name for name in results["ranking"] if name.startswith("served"))
    row = results["ranking"][served]
    assert set(row["exposure"]) == {"distinct", "top100_share", "gini", "novelty"}
    assert sum(bucket["users"] for bucket in row["activity"].values()) == row["users"]
    assert set(results["rating"]) == {"holdout_80_20", "time_based", "cv_2_fold"}
    assert results["paired"]["ranking_ndcg_temporal"]["users"] == row["users"]
    trials = results["validation"]["ranker_search"]["ranker_trials"]
    assert results["validation"]["chosen"]["ranker"]["shrinkage"] == trials[0]["shrinkage"]
    markdown = to_markdown(results, command="c")
    for heading in ("time-based RMSE", "Gini", "95 % interval", "NDCG <=20"):
        assert heading in markdown


def test_the_report_shows_what_the_neighbour_cap_served_above_the_threshold_costs():
    frame = synthetic_ratings(n_users=30, n_movies=40, per_user=20, seed=4)
    results = run_comparison(frame, seed=5, quick=True)
    cap = ServedConfig().scale_neighbour_cap
    capped = CAPPED_ROW.format(cap=cap)
    for split in ("holdout_80_20", "time_based"):
        row = results["rating"][split][capped]
        assert 0 < row["rmse"] < 2
        assert row["seconds"] > 0
    assert results["rating"]["cv_2_fold"][capped]["rmse_mean"] is not None
    assert results["similar"][SCALE_SIMILAR.format(cap=cap)]["users"] > 0


def test_paired_user_mse_pools_the_folds_per_user():
    """Folds together: a user's mean squared error over every fold's test ratings of theirs,
    served against previous, one pair per user."""

    def fold(users: list[int], served: list[float], previous: list[float]) -> SplitScores:
        return SplitScores(
            {}, {}, np.array(users), np.zeros(len(users)), np.array(served), np.array(previous)
        )

    pooled = paired_user_mse([fold([1, 2], [1.0, 0.0], [0.0, 0.0]), fold([1], [3.0], [1.0])])
    # User 1: served MSE (1 + 9) / 2 = 5, previous 0.5; user 2: 0 and 0.
    assert pooled["users"] == 2
    assert pooled["mean"] == pytest.approx((4.5 + 0.0) / 2)
