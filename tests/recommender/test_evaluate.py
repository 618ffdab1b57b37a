from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from recommender.comparison import run_comparison
from recommender.evaluate import ranking_metrics, relevant_items, temporal_split, top_k_rows
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
