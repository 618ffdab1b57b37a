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
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from recommender.dataset import TrainingData, check_frame, index_of

RELEVANT_RATING = 4.0
K = 10


def temporal_split(frame: pd.DataFrame, train_fraction: float = 0.8) -> tuple[pd.DataFrame, ...]:
    """Per user, the earliest ``train_fraction`` of ratings (by time) and the rest."""
    is_test = np.zeros(len(frame), dtype=bool)
    is_test[latest_rows(frame, train_fraction)] = True
    order = ["user_id", "timestamp", "movie_id"]
    return tuple(
        part.sort_values(order, kind="stable").reset_index(drop=True)
        for part in (frame[~is_test], frame[is_test])
    )


def latest_rows(frame: pd.DataFrame, train_fraction: float = 0.8) -> np.ndarray:
    """Row positions of each user's latest ``1 - train_fraction`` of ratings (by time; ties by
    movie id), position >= int(train_fraction * n): the time-based test part."""
    check_frame(frame)
    ordered = frame.reset_index(drop=True).sort_values(
        ["user_id", "timestamp", "movie_id"], kind="stable"
    )
    position = ordered.groupby("user_id").cumcount().to_numpy()
    counts = ordered.groupby("user_id")["movie_id"].transform("size").to_numpy()
    is_test = position >= (train_fraction * counts).astype(np.int64)
    return np.sort(ordered.index.to_numpy()[is_test])


def relevant_items(test: pd.DataFrame) -> dict[int, np.ndarray]:
    """Each user's relevant test movies (rating >= 4.0); users without any are left out."""
    liked = test[test["rating"] >= RELEVANT_RATING]
    users: pd.Series[int] = liked["user_id"]
    return {int(user): group.to_numpy(np.int64) for user, group in liked["movie_id"].groupby(users)}


def top_k_rows(scores: np.ndarray, exclude: np.ndarray, k: int = K) -> np.ndarray:
    """Column indices of each row's k best scores (best first), skipping excluded cells; all
    columns when there are fewer than k (a tiny catalog still evaluates)."""
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


PER_USER_METRICS = ("precision", "recall", "ndcg", "map", "hit_rate")


def per_user_ranking(
    recommended: Mapping[int, np.ndarray], relevant: Mapping[int, np.ndarray]
) -> dict[str, np.ndarray]:
    """Each user's precision, recall, NDCG, MAP and hit (any hit) at k, in ``relevant``'s order:
    the per-user values that means, buckets and paired comparisons are all taken from.

    Recall divides by all of the user's relevant items; MAP and the ideal DCG by at most k.
    """
    discounts = 1.0 / np.log2(np.arange(2, K + 2))
    rows = []
    for user, liked in relevant.items():
        top = np.asarray(recommended.get(user, np.empty(0, dtype=np.int64)))[:K]
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
    table = np.array(rows, dtype=np.float64).reshape(len(rows), len(PER_USER_METRICS))
    return {name: table[:, i] for i, name in enumerate(PER_USER_METRICS)}


def ranking_metrics(
    recommended: Mapping[int, np.ndarray], relevant: Mapping[int, np.ndarray], n_movies: int
) -> RankingScores:
    """The per-user metrics averaged over users with relevant items, plus coverage: the share
    of the ``n_movies`` catalog recommended to any of them."""
    per_user = per_user_ranking(recommended, relevant)
    shown: set[int] = set()
    for user in relevant:
        shown.update(np.asarray(recommended.get(user, []))[:K].tolist())
    means = {name: float(v.mean()) if len(v) else 0.0 for name, v in per_user.items()}
    return RankingScores(**means, coverage=len(shown) / max(n_movies, 1), users=len(relevant))


# Users by their number of training ratings: the cold, the ordinary and the heavy.
ACTIVITY_BUCKETS = {"<=20": (0, 20), "21-100": (21, 100), ">100": (101, None)}
MOST_RATED = 100


def activity_buckets(
    per_user: Mapping[str, np.ndarray], activity: np.ndarray
) -> dict[str, dict[str, float]]:
    """Mean NDCG and precision of the users in each activity bucket (``activity`` is each
    user's training rating count, in ``per_user``'s order), so cold users are not averaged
    away by the heavy ones."""
    buckets = {}
    for name, (low, high) in ACTIVITY_BUCKETS.items():
        members = (activity >= low) & (activity <= (np.inf if high is None else high))
        buckets[name] = {
            "users": int(members.sum()),
            "ndcg": float(per_user["ndcg"][members].mean()) if members.any() else 0.0,
            "precision": float(per_user["precision"][members].mean()) if members.any() else 0.0,
        }
    return buckets


def exposure(slots: np.ndarray, counts: np.ndarray, n_users: int) -> dict[str, float]:
    """How a model spreads attention over the catalog, from everyone's top-k lists.

    ``slots`` holds the movie positions of every list, concatenated; ``counts`` each movie's
    training rating count, over ``n_users`` training users.
    Distinct movies listed; the share of slots given to the ``MOST_RATED`` most-rated movies;
    the Gini coefficient of slots per movie over the whole catalog (0: every movie listed
    equally often, 1: one movie takes every slot); mean self-information ``-log2`` of the share
    of users who rated a listed movie (novelty: higher is less obvious).
    """
    if slots.size == 0:
        return {"distinct": 0, "top100_share": 0.0, "gini": 0.0, "novelty": 0.0}
    per_movie = np.sort(np.bincount(slots, minlength=len(counts)).astype(np.float64))
    n = len(per_movie)
    gini = float(((2 * np.arange(1, n + 1) - n - 1) * per_movie).sum() / (n * per_movie.sum()))
    popular = np.argsort(-counts, kind="stable")[:MOST_RATED]
    share = np.maximum(counts[slots], 1) / max(n_users, 1)
    return {
        "distinct": len(np.unique(slots)),
        "top100_share": float(np.isin(slots, popular).mean()),
        "gini": gini,
        "novelty": float(-np.log2(share).mean()),
    }


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

    def report(self, recommended: Mapping[int, np.ndarray]) -> dict[str, Any]:
        """The metrics, the exposure of the lists and the activity buckets."""
        per_user = per_user_ranking(recommended, self.relevant)
        counts = np.diff(self.train.matrix.tocsc().indptr)
        activity = np.zeros(len(self.relevant), dtype=np.int64)
        rows, known = index_of(self.train.user_ids, np.fromiter(self.relevant, np.int64))
        activity[known] = np.diff(self.train.matrix.indptr)[rows[known]]
        listed = [np.asarray(top, dtype=np.int64)[:K] for top in recommended.values()]
        slots = index_of(self.train.movie_ids, np.concatenate([np.empty(0, np.int64), *listed]))
        return {
            **asdict(self.metrics(recommended)),
            "exposure": exposure(slots[0][slots[1]], counts, len(self.train.user_ids)),
            "activity": activity_buckets(per_user, activity),
        }


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


def paired_difference(served: np.ndarray, previous: np.ndarray) -> dict[str, float]:
    """Mean of the per-user differences ``served - previous`` with a 95 % t interval.

    Pairing by user removes the between-user spread (a heavy user scores high under any
    model), which dominates the unpaired standard errors of the two means.
    """
    differences = np.asarray(served, dtype=np.float64) - np.asarray(previous, dtype=np.float64)
    n = len(differences)
    mean = float(differences.mean()) if n else 0.0
    half = float(stats.t.ppf(0.975, n - 1) * differences.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0
    return {"users": n, "mean": mean, "low": mean - half, "high": mean + half}


def per_user_squared_error(
    users: np.ndarray, predicted: npt.ArrayLike, actual: npt.ArrayLike
) -> np.ndarray:
    """Each user's mean squared error, users in sorted id order."""
    _, inverse = np.unique(users, return_inverse=True)
    errors = (np.asarray(predicted, dtype=np.float64) - np.asarray(actual, np.float64)) ** 2
    return np.bincount(inverse, weights=errors) / np.bincount(inverse)


def rmse_mae(predicted: npt.ArrayLike, actual: npt.ArrayLike) -> tuple[float, float]:
    error = np.asarray(predicted, dtype=np.float64) - np.asarray(actual, dtype=np.float64)
    return float(np.sqrt(np.mean(error**2))), float(np.mean(np.abs(error)))
