from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from recommender.comparison import run_comparison
from recommender.evaluate import (
    RankingTask,
    SimilarTask,
    ranking_metrics,
    relevant_items,
    temporal_split,
    top_k_rows,
)
from recommender.report import to_markdown
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


def test_top_k_rows_of_a_catalogue_smaller_than_k_is_every_column_best_first():
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
