"""The serving object the API calls: top-N, predicted ratings and similar movies.

Serving is stateless with respect to users. Every call gets the user's *current* ratings from
the store and folds them in against fixed item factors, so a new rating changes the next answer
in every worker at once and no worker keeps per-user state. Everything that depends only on the
movies (normalised factors, the popularity order) is computed once at load time; a call costs a
few matrix-vector products over the catalogue and one ``argpartition``.

A model's movie index may hold catalogue movies nobody rated before training: they get the user's
baseline as a predicted rating but are never ranked or offered as similar.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recommender import artifact
from recommender.artifact import ArtifactError
from recommender.dataset import Interactions, check_frame, index_of
from recommender.models.blended import BlendedRating
from recommender.models.popularity import PopularityMethod, popularity_scores
from recommender.models.puresvd import PureSVD, PureSVDParams
from recommender.models.rating import RatingModel

__all__ = ["ArtifactError", "Recommender", "UserRatings"]


@dataclass(frozen=True)
class UserRatings:
    """A user's current ratings, as read from the store."""

    movie_ids: np.ndarray
    ratings: np.ndarray

    @classmethod
    def empty(cls) -> UserRatings:
        return cls(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> UserRatings:
        """The ratings of one user from rows with ``movie_id`` and ``rating`` columns."""
        return cls(frame["movie_id"].to_numpy(np.int64), frame["rating"].to_numpy(np.float32))


class Recommender:
    """A fitted model (``kind == "model"``) or the popularity fallback (``"popularity"``)."""

    def __init__(
        self,
        *,
        movie_ids: np.ndarray,
        popularity: np.ndarray,
        rating: BlendedRating | RatingModel,
        ranker: PureSVD | None,
        algorithm: str,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.movie_ids = np.asarray(movie_ids, dtype=np.int64)
        self.popularity = np.asarray(popularity, dtype=np.float32)
        self.rating = rating
        self.ranker = ranker
        self.algorithm = algorithm
        self.kind = "popularity" if ranker is None else "model"
        self.meta = meta or {}
        self._untrained = np.flatnonzero(~np.asarray(rating.known, dtype=bool))
        if ranker is not None:
            norms = np.linalg.norm(ranker.item_factors, axis=1, keepdims=True)
            self._unit_factors = ranker.item_factors / np.maximum(norms, 1e-12)

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def popularity(
        cls, ratings: pd.DataFrame, *, method: PopularityMethod = "count"
    ) -> Recommender:
        """The fallback built straight from the store's ratings; predicts shrunk movie means."""
        check_frame(ratings)
        data = Interactions.from_frame(ratings)
        bayes = popularity_scores(data.matrix, "bayes").astype(np.float64)
        global_mean = float(data.matrix.data.mean()) if data.matrix.nnz else 3.5
        rating = RatingModel(
            global_mean=global_mean,
            item_bias=bayes - global_mean,
            item_factors=np.zeros((len(data.movie_ids), 0)),
            known=np.ones(len(data.movie_ids), dtype=bool),
            bias_reg=5.0,
            factor_reg=5.0,
        )
        return cls(
            movie_ids=data.movie_ids,
            popularity=popularity_scores(data.matrix, method),
            rating=rating,
            ranker=None,
            algorithm=f"popularity-{method}",
        )

    @classmethod
    def load(cls, models_dir: Path, *, catalog_movie_ids: np.ndarray) -> Recommender:
        """Load the latest artifact; raises ArtifactError when it is missing, corrupt or stale."""
        found = artifact.load(models_dir, catalog_movie_ids=catalog_movie_ids)
        arrays, meta = found.arrays, found.meta
        try:
            ranker = PureSVD(
                params=PureSVDParams(**meta["ranker_params"]),
                item_factors=arrays["rank_item_factors"],
                column_weights=arrays["rank_column_weights"],
            )
            rating = BlendedRating.from_saved(arrays, meta)
            movie_ids, popularity = arrays["movie_ids"], arrays["popularity"]
            algorithm = str(meta["algorithm"])
        except (KeyError, TypeError) as exc:
            raise ArtifactError(f"{found.path}: incomplete artifact (missing {exc})") from exc
        except ValueError as exc:
            raise ArtifactError(f"{found.path}: inconsistent artifact ({exc})") from exc
        n = len(movie_ids)
        shapes = [popularity, ranker.item_factors, ranker.column_weights, rating.known]
        if any(len(array) != n for array in shapes):
            raise ArtifactError(f"{found.path}: arrays disagree on the number of movies")
        return cls(
            movie_ids=movie_ids,
            popularity=popularity,
            rating=rating,
            ranker=ranker,
            algorithm=algorithm,
            meta=meta,
        )

    def save(self, models_dir: Path, meta: dict[str, Any]) -> Path:
        """Write this model as a new artifact version; ``meta`` adds fingerprints and metrics."""
        if self.ranker is None or not isinstance(self.rating, BlendedRating):
            raise ValueError("the popularity fallback is rebuilt from the store, not saved")
        arrays = {
            "movie_ids": self.movie_ids,
            "popularity": self.popularity,
            "rank_item_factors": self.ranker.item_factors,
            "rank_column_weights": self.ranker.column_weights,
            **self.rating.arrays(),
        }
        return artifact.save(
            models_dir,
            arrays,
            {
                **meta,
                **self.rating.meta(),
                "algorithm": self.algorithm,
                "ranker_params": vars(self.ranker.params),
            },
        )

    # -- serving ------------------------------------------------------------------------------

    def top_n(
        self, user: UserRatings, n: int = 10, *, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """The ``n`` best movies the user has not rated, as (movie id, score), best first.

        ``allowed`` restricts the candidates (a genre filter). A user with no ratings the model
        knows gets the popularity ranking.
        """
        items, ratings = self._known(user)
        if self.ranker is None or len(items) == 0:
            scores = self.popularity
        else:
            scores = self.ranker.scores(items, ratings)
        return self._best(scores, items, allowed, n)

    def predict(self, user: UserRatings, movie_ids: np.ndarray) -> np.ndarray:
        """Predicted ratings in [0.5, 5] for ``movie_ids``; NaN for movies the model lacks."""
        items, ratings = self._known(user)
        positions, present = index_of(self.movie_ids, np.asarray(movie_ids, dtype=np.int64))
        predicted = np.full(len(positions), np.nan)
        predicted[present] = self.rating.predict(items, ratings, positions[present])
        return predicted

    def similar(self, movie_id: int, n: int = 10) -> list[int]:
        """The movie's stored item neighbours (shrunk pearson_baseline, best first), then, when
        that list holds fewer than ``n``, the nearest other movies by cosine on the ranker's item
        factors. [] for unknown or never-rated movies, and from the fallback.

        Chosen by ``movierec evaluate``'s item-to-item table: it beats cosine on either model's
        item factors by far (HitRate@10 about 0.32 against 0.17 on ml-latest-small). Only "most
        co-rated" scores higher, and it is mostly the popularity list: the same blockbusters
        next to every movie. The list holds at most ``NeighbourParams.stored`` (100) movies;
        beyond that, and for movies with few positive neighbours, the cosine fill ranks. Costs
        O(stored) when the list suffices, one pass over the catalogue's factors otherwise.
        """
        positions, present = index_of(self.movie_ids, np.array([movie_id]))
        position = positions[0]
        if self.ranker is None or not present[0] or not self.rating.known[position]:
            return []
        listed = self.rating.neighbours.neighbour_index[position]
        listed = listed[listed < len(self.movie_ids)]
        listed = listed[self.rating.known[listed] & (listed != position)][: max(n, 0)]
        ids = self.movie_ids[listed].tolist()
        if len(listed) == n:
            return ids
        scores = self._unit_factors @ self._unit_factors[position]
        exclude = np.append(listed, position)
        return ids + [movie for movie, _ in self._best(scores, exclude, None, n - len(listed))]

    # -- helpers ------------------------------------------------------------------------------

    def _known(self, user: UserRatings) -> tuple[np.ndarray, np.ndarray]:
        positions, present = index_of(self.movie_ids, user.movie_ids)
        return positions[present], np.asarray(user.ratings, dtype=np.float32)[present]

    def _best(
        self, scores: np.ndarray, exclude: np.ndarray, allowed: np.ndarray | None, n: int
    ) -> list[tuple[int, float]]:
        candidates = scores.astype(np.float32, copy=True)
        if allowed is not None:
            positions, present = index_of(self.movie_ids, allowed)
            permitted = np.zeros(len(candidates), dtype=bool)
            permitted[positions[present]] = True
            candidates[~permitted] = -np.inf
        candidates[exclude] = -np.inf
        candidates[self._untrained] = -np.inf
        n = min(n, len(candidates))
        if n <= 0:
            return []
        top = np.argpartition(-candidates, n - 1)[:n]
        top = top[np.argsort(-candidates[top], kind="stable")]
        top = top[np.isfinite(candidates[top])]
        pairs = zip(self.movie_ids[top], candidates[top], strict=True)
        return [(int(movie), float(score)) for movie, score in pairs]
