"""Splits and metrics for the two tasks, rating prediction and top-N ranking.

The ranking protocol is temporal per user: sort each user's ratings by time; the last 20 %
(position >= int(0.8 n)) are test, the rest train. Relevant items are test ratings >= 4.0,
candidates are all movies the user has not rated in train, and only users with at least one
relevant item count. Hyper-parameters are chosen by applying the same rule again to the train
part (a validation split), never by looking at the test part.

Similar movies are scored on the same split (:class:`SimilarTask`): a user's latest liked training
movie is the seed, and the movies listed as similar to it count as that user's top 10.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from recommender.dataset import TrainingData, check_frame, index_of

RELEVANT_RATING = 4.0
K = 10


def temporal_split(frame: pd.DataFrame, train_fraction: float = 0.8) -> tuple[pd.DataFrame, ...]:
    """Per user, the earliest ``train_fraction`` of ratings (by time) and the rest."""
    check_frame(frame)
    ordered = frame.sort_values(["user_id", "timestamp", "movie_id"], kind="stable")
    position = ordered.groupby("user_id").cumcount().to_numpy()
    counts = ordered.groupby("user_id")["movie_id"].transform("size").to_numpy()
    is_test = position >= (train_fraction * counts).astype(np.int64)
    return ordered[~is_test].reset_index(drop=True), ordered[is_test].reset_index(drop=True)


def relevant_items(test: pd.DataFrame) -> dict[int, np.ndarray]:
    """Each user's relevant test movies (rating >= 4.0); users without any are left out."""
    liked = test[test["rating"] >= RELEVANT_RATING]
    return {
        int(user): group.to_numpy(np.int64) for user, group in liked.groupby("user_id")["movie_id"]
    }


def top_k_rows(scores: np.ndarray, exclude: np.ndarray, k: int = K) -> np.ndarray:
    """Column indices of each row's k best scores (best first), skipping excluded cells; all
    columns when there are fewer than k (a tiny catalogue still evaluates)."""
    k = min(k, scores.shape[1])
    masked = np.where(exclude, -np.inf, scores)
    top = np.argpartition(-masked, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(masked, top, axis=1), axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1)


@dataclass(frozen=True)
class RankingScores:
    precision: float
    recall: float
    ndcg: float
    map: float
    hit_rate: float
    coverage: float
    users: int


def ranking_metrics(
    recommended: Mapping[int, np.ndarray], relevant: Mapping[int, np.ndarray], n_movies: int
) -> RankingScores:
    """Precision, recall, NDCG, MAP and hit rate (share of users with any hit) at k, averaged
    over users with relevant items.

    Recall divides by all of the user's relevant items; MAP and the ideal DCG by at most k.
    Coverage is the share of the ``n_movies`` catalogue recommended to anyone.
    """
    discounts = 1.0 / np.log2(np.arange(2, K + 2))
    rows = []
    shown: set[int] = set()
    for user, liked in relevant.items():
        top = np.asarray(recommended.get(user, np.empty(0, dtype=np.int64)))[:K]
        shown.update(top.tolist())
        hits = np.isin(top, liked).astype(np.float64)
        ideal = min(len(liked), K)
        precision_at = np.cumsum(hits) / np.arange(1, len(hits) + 1)
        rows.append(
            (
                hits.sum() / K,
                hits.sum() / len(liked),
                (hits * discounts[: len(hits)]).sum() / discounts[:ideal].sum(),
                (precision_at * hits).sum() / ideal,
                float(hits.any()),
            )
        )
    means = np.mean(rows, axis=0) if rows else np.zeros(5)
    return RankingScores(*map(float, means), len(shown) / max(n_movies, 1), len(rows))


@dataclass(frozen=True)
class RankingTask:
    """One train/test split of the ranking protocol, set up once so that every model scored on
    it sees the same users, candidates and relevant movies.

    ``relevant`` keeps every test user with a relevant movie, also those training never saw (they
    count, with no hits); ``users`` are the ones training knows, with their matrix ``rows`` and
    what they ``rated`` already (never a candidate).
    """

    train: TrainingData
    relevant: dict[int, np.ndarray]
    users: np.ndarray
    rows: np.ndarray
    rated: np.ndarray

    @classmethod
    def from_split(cls, train: pd.DataFrame, test: pd.DataFrame) -> RankingTask:
        data = TrainingData.from_frame(train)
        relevant = relevant_items(test)
        users = np.array(sorted(relevant), dtype=np.int64)
        rows, known = index_of(data.user_ids, users)
        users, rows = users[known], rows[known]
        return cls(data, relevant, users, rows, data.matrix[rows].toarray() != 0)

    def top_k(self, scores: np.ndarray) -> dict[int, np.ndarray]:
        """Each user's top movie ids by ``scores``: a row per user, or one row shared by all."""
        top = top_k_rows(np.broadcast_to(scores, self.rated.shape), self.rated)
        return {int(u): self.train.movie_ids[t] for u, t in zip(self.users, top, strict=True)}

    def metrics(self, recommended: Mapping[int, np.ndarray]) -> RankingScores:
        return ranking_metrics(recommended, self.relevant, len(self.train.movie_ids))


# A similar-movies method under test: (seed movie id, movie ids to skip) -> movie ids, best first.
SimilarMethod = Callable[[int, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class SimilarTask:
    """The item-to-item protocol on a ranking split.

    Each ranking user with a training rating >= 4.0 gets one seed, the latest such movie (by
    time; users without one are left out). A method lists the movies most similar to the seed,
    skipping everything the user rated in training, and its first k are scored against the user's
    relevant test movies like a top-k list: does "people who liked this also like" predict what
    the user goes on to like? ``ranks`` are the users' positions in ``ranking.users``.
    """

    ranking: RankingTask
    ranks: np.ndarray
    seeds: np.ndarray

    @classmethod
    def from_ranking(cls, ranking: RankingTask, train: pd.DataFrame) -> SimilarTask:
        liked = train[train["rating"] >= RELEVANT_RATING]
        liked = liked.sort_values(["user_id", "timestamp", "movie_id"], kind="stable")
        latest = liked.groupby("user_id")["movie_id"].last()
        ranks = np.flatnonzero(np.isin(ranking.users, latest.index.to_numpy()))
        return cls(ranking, ranks, latest.loc[ranking.users[ranks]].to_numpy(np.int64))

    def recommend(self, method: SimilarMethod) -> dict[int, np.ndarray]:
        """Each user's first k movies from ``method`` for their seed."""
        ranking = self.ranking
        return {
            int(ranking.users[rank]): np.asarray(
                method(int(seed), ranking.train.movie_ids[ranking.rated[rank]]), dtype=np.int64
            )[:K]
            for rank, seed in zip(self.ranks, self.seeds, strict=True)
        }

    def metrics(self, recommended: Mapping[int, np.ndarray]) -> dict[str, float]:
        """Ranking metrics over the seeded users, plus the mean training rating count of every
        movie listed (how much a method leans on popular movies)."""
        ranking = self.ranking
        relevant = {user: ranking.relevant[user] for user in recommended}
        scores = ranking_metrics(recommended, relevant, len(ranking.train.movie_ids))
        listed = np.concatenate([np.empty(0, dtype=np.int64), *recommended.values()])
        counts = np.diff(ranking.train.matrix.tocsc().indptr)
        positions, present = index_of(ranking.train.movie_ids, listed)
        mean_count = float(counts[positions[present]].mean()) if present.any() else 0.0
        return {**asdict(scores), "mean_popularity": mean_count}


def rmse_mae(predicted: np.ndarray, actual: np.ndarray) -> tuple[float, float]:
    error = np.asarray(predicted, dtype=np.float64) - np.asarray(actual, dtype=np.float64)
    return float(np.sqrt(np.mean(error**2))), float(np.mean(np.abs(error)))
